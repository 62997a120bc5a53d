package content

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
)

// Test kinds: Widget has nested structs and a Validate with field and
// non-field errors; Gadget has a default set by New.

type widgetSpec struct {
	Size   int          `yaml:"size"`
	Color  string       `yaml:"color"`
	Steps  []widgetStep `yaml:"steps"`
	Params map[string]widgetParam
	Common `yaml:",inline"`
}

type widgetStep struct {
	Name string `yaml:"name"`
	When string `yaml:"when"`
}

type widgetParam struct {
	Type string `yaml:"type"`
}

type Common struct {
	Owner string `yaml:"owner"`
}

type gadgetSpec struct {
	Level int `yaml:"level"`
}

func widgetKind() Kind {
	return Kind{
		Name: "Widget",
		New:  func() any { return new(widgetSpec) },
		Validate: func(spec any) error {
			s := spec.(*widgetSpec)
			var errs []error
			if s.Size < 0 {
				errs = append(errs, errors.New("size must not be negative"))
			}
			if s.Color != "" && s.Color != "red" && s.Color != "blue" {
				errs = append(errs, FieldErrorf("color", "must be red or blue, not %q", s.Color))
			}
			for i, st := range s.Steps {
				if st.When == "" {
					errs = append(errs, FieldErrorf(fmt.Sprintf("steps[%d].when", i), "is required"))
				}
			}
			return errors.Join(errs...)
		},
	}
}

func gadgetKind() Kind {
	return Kind{Name: "Gadget", New: func() any { return &gadgetSpec{Level: 3} }}
}

func testRegistry() *Registry {
	reg := NewRegistry()
	reg.Register(widgetKind())
	reg.Register(gadgetKind())
	return reg
}

// mapSource builds a source from file name → content.
func mapSource(name string, files map[string]string) Source {
	fsys := fstest.MapFS{}
	for p, data := range files {
		fsys[p] = &fstest.MapFile{Data: []byte(data)}
	}
	return Source{Name: name, FS: fsys}
}

// errorLines renders a Load error one problem per line.
func errorLines(err error) []string {
	var out []string
	for _, e := range Errors(err) {
		out = append(out, e.Error())
	}
	return out
}

func doc(kind, name, spec string) string {
	s := "apiVersion: flywheel/v1\nkind: " + kind + "\nmetadata:\n  name: " + name + "\n"
	if spec != "" {
		s += "spec:\n" + indent(spec)
	}
	return s
}

func indent(s string) string {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = "  " + l
	}
	return strings.Join(lines, "\n") + "\n"
}

func mustLoad(t *testing.T, reg *Registry, sources ...Source) *Set {
	t.Helper()
	set, err := Load(reg, sources...)
	if err != nil {
		t.Fatalf("Load: unexpected errors:\n%s", strings.Join(errorLines(err), "\n"))
	}
	return set
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }
