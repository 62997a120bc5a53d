package rule

import (
	"strings"

	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// EvaluateUnguarded is Evaluate running every rule's condition, guards
// ignored.
func (rs *Rules) EvaluateUnguarded(ev *event.Event, o *store.OpsItem) ([]Match, []error) {
	return rs.evaluate(ev, o, false)
}

// GuardOf compiles a condition and returns its guard as "field=v1|v2".
func GuardOf(src string) ([]string, error) {
	p, err := compile(src)
	if err != nil {
		return nil, err
	}
	out := []string{}
	for _, r := range p.guard {
		f := r.field
		if f == "label" {
			f = "labels." + r.label + "(" + r.def + ")"
		}
		out = append(out, f+"="+strings.Join(r.values, "|"))
	}
	return out, nil
}
