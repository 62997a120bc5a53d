package config

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// examplePath is the example configuration users copy.
const examplePath = "../../examples/flywheel.yaml"

// commentedOption is an option left at its default in the example: "#"
// directly followed by the option's line, indentation included.
var commentedOption = regexp.MustCompile(`(?m)^#(\s*[a-z][a-z0-9_-]*:.*)$`)

// TestExampleConfig loads examples/flywheel.yaml through the server's
// loader as it is (it must be valid), then with every commented option
// uncommented (each must be a real option of the right type), and checks
// that every option of Config — notifications and channel fields included —
// appears in it, and every environment variable is named.
func TestExampleConfig(t *testing.T) {
	t.Parallel()
	var c Config
	if err := c.LoadFile(examplePath); err != nil {
		t.Fatalf("loading the example: %v", err)
	}
	if err := c.WithDefaults().Validate(); err != nil {
		t.Fatalf("the example is not valid: %v", err)
	}

	text, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	all := commentedOption.ReplaceAll(text, []byte("$1"))
	full := filepath.Join(t.TempDir(), "flywheel.yaml")
	if err := os.WriteFile(full, all, 0o600); err != nil {
		t.Fatal(err)
	}
	var every Config
	if err := every.LoadFile(full); err != nil {
		t.Fatalf("the example with its commented options set: %v", err)
	}

	var doc map[string]any
	if err := yaml.Unmarshal(all, &doc); err != nil {
		t.Fatal(err)
	}
	missing := missingKeys(reflect.TypeFor[Config](), []map[string]any{doc}, "")
	for _, m := range missing {
		t.Errorf("examples/flywheel.yaml does not show option %s", m)
	}
	for f := range reflect.TypeFor[Config]().Fields() {
		if env := f.Tag.Get("env"); env != "" && !strings.Contains(string(text), EnvPrefix+env) {
			t.Errorf("examples/flywheel.yaml does not name %s%s (%s)", EnvPrefix, env, f.Name)
		}
	}
}

// missingKeys lists the yaml keys of struct type t absent from every one of
// docs (the decoded mappings where t's fields live), descending into
// struct fields and maps of structs.
func missingKeys(t reflect.Type, docs []map[string]any, prefix string) []string {
	var out []string
	for f := range t.Fields() {
		key, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if key == "-" || key == "" {
			continue
		}
		var sub []map[string]any
		found := false
		for _, d := range docs {
			v, ok := d[key]
			if !ok {
				continue
			}
			found = true
			if m, ok := v.(map[string]any); ok {
				sub = append(sub, m)
			}
		}
		if !found {
			out = append(out, prefix+key)
			continue
		}
		switch ft := f.Type; {
		case ft.Kind() == reflect.Struct && ft.PkgPath() == t.PkgPath():
			out = append(out, missingKeys(ft, sub, prefix+key+".")...)
		case ft.Kind() == reflect.Map && ft.Elem().Kind() == reflect.Struct:
			var elems []map[string]any
			for _, m := range sub {
				for _, e := range m {
					if em, ok := e.(map[string]any); ok {
						elems = append(elems, em)
					}
				}
			}
			out = append(out, missingKeys(ft.Elem(), elems, prefix+key+".*.")...)
		}
	}
	return out
}
