package compliance

import (
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

// FuzzPrepare: any bytes as a resource's configuration (agents and
// providers send it) are refused with an error or prepared, and a
// prepared resource evaluates without panicking.
func FuzzPrepare(f *testing.F) {
	for _, seed := range []string{``, `{}`, `null`, `[]`, `{"a":1}`, `{"Versioning":{"Status":"Enabled"}}`, `{"n":1e400}`, `{"n":-0.5,"l":[1,"x",null,{"y":true}]}`, `{"a":`} {
		f.Add([]byte(seed))
	}
	r, err := compileRule("fuzz", &RuleSpec{ResourceType: "t", Severity: "low", Controls: []string{"F:1"},
		Applies: `has(resource.config.n) || true`, Check: `resource.config.?Versioning.Status.orValue("") == "Enabled"`,
		Annotation: `resource.name + string(size(resource.config))`})
	if err != nil {
		f.Fatal(err)
	}
	plan := NewPlan([]*Pack{{Name: "p", Rules: []PackRule{{Rule: r, Params: map[string]any{}, Controls: []string{"F:1"}}}}})
	f.Fuzz(func(t *testing.T, config []byte) {
		s, err := Prepare(store.Resource{ID: "r", Type: "t", Name: "n", Config: config})
		if err != nil {
			return
		}
		for _, fd := range plan.Evaluate([]Subject{s}).Findings(nil, time.Time{}) {
			switch fd.Status {
			case Compliant, NonCompliant, NotApplicable, Errored:
			default:
				t.Fatalf("status %q", fd.Status)
			}
		}
	})
}
