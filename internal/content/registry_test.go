package content

import (
	"slices"
	"strings"
	"testing"
)

func TestRegisterPanics(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		kind Kind
		want string
	}{
		{"twice", gadgetKind(), `kind "Gadget" registered twice`},
		{"empty name", Kind{New: func() any { return new(int) }}, "empty name"},
		{"no New", Kind{Name: "X"}, `kind "X" has no New`},
		{"New returns a value", Kind{Name: "X", New: func() any { return gadgetSpec{} }}, "non-nil pointer, got content.gadgetSpec"},
		{"New returns nil", Kind{Name: "X", New: func() any { return nil }}, "non-nil pointer, got <nil>"},
		{"New returns a nil pointer", Kind{Name: "X", New: func() any { return (*gadgetSpec)(nil) }}, "non-nil pointer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			reg := testRegistry()
			defer func() {
				r := recover()
				if msg, _ := r.(string); !strings.Contains(msg, tt.want) {
					t.Errorf("panic = %v, want it to contain %q", r, tt.want)
				}
			}()
			reg.Register(tt.kind)
		})
	}
}

func TestRegistryLookup(t *testing.T) {
	t.Parallel()
	reg := testRegistry()
	if got := reg.Kinds(); !slices.Equal(got, []string{"Gadget", "Widget"}) {
		t.Errorf("Kinds = %v", got)
	}
	if k, ok := reg.Lookup("Gadget"); !ok || k.Name != "Gadget" {
		t.Errorf("Lookup(Gadget) = %v, %v", k, ok)
	}
	if _, ok := reg.Lookup("gadget"); ok {
		t.Error("Lookup is case-sensitive")
	}
	// Registries are independent: nothing is global.
	if len(NewRegistry().Kinds()) != 0 {
		t.Error("a new registry is not empty")
	}
}
