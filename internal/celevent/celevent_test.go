package celevent

import (
	"testing"

	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/traits"

	"github.com/flywheel-ops/flywheel/internal/event"
)

// TestEventFields: both views of one event read the same fields; only the
// full one has "application", and a field is converted once.
func TestEventFields(t *testing.T) {
	t.Parallel()
	e := &event.Event{Source: "alertmanager", Severity: "high", Labels: map[string]string{"job": "db"}}
	for _, c := range []struct {
		name string
		a    *Activation
		size int64
		app  bool
	}{
		{"full", New(e).WithApplication("payments"), 11, true},
		{"without application", NewWithoutApplication(e), 10, false},
	} {
		v, ok := c.a.ResolveName("event")
		if !ok {
			t.Fatalf("%s: no event", c.name)
		}
		m := v.(traits.Mapper)
		if got := m.Get(types.String("source")); got != types.String("alertmanager") {
			t.Errorf("%s: source = %v", c.name, got)
		}
		if got := m.Size(); got != types.Int(c.size) {
			t.Errorf("%s: size %v, want %d", c.name, got, c.size)
		}
		app, ok := m.Find(types.String("application"))
		if ok != c.app || (ok && app != types.String("payments")) {
			t.Errorf("%s: application = %v, %v", c.name, app, ok)
		}
		if _, ok := m.Find(types.String("lables")); ok {
			t.Errorf("%s: a field that is not there was found", c.name)
		}
		if _, ok := c.a.ResolveName("opsitem"); ok {
			t.Errorf("%s: opsitem resolved without With", c.name)
		}
	}
	a := New(e)
	m, _ := a.ResolveName("event")
	first := m.(traits.Mapper).Get(types.String("labels"))
	if second := m.(traits.Mapper).Get(types.String("labels")); first != second {
		t.Error("labels converted twice")
	}
	if v, ok := a.With("opsitem", types.String("x")).ResolveName("opsitem"); !ok || v != types.String("x") {
		t.Errorf("With: %v %v", v, ok)
	}
}
