package rule_test

import (
	"testing"

	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// FuzzRule loads a rule whose condition and parameter are arbitrary text
// (rules are user files) and evaluates it on an event with an arbitrary
// label: loading either fails cleanly or yields a rule that evaluates
// without panicking.
func FuzzRule(f *testing.F) {
	f.Add(`event.source == "guardduty"`, `event.labels[?"x"].orValue("")`, "x", "y")
	f.Add(`opsitem.occurrences > 2 && event.labels.exists(k, k.startsWith("a"))`, `[1, "a", {"k": opsitem.created_at}]`, "a", "")
	f.Add(`event.resources.all(r, r.type == "host")`, `event.resources.map(r, r.id)`, "", "")
	f.Add(`"a".matches(event.title)`, `duration("1h")`, "k", "(")
	f.Add(`event.lables == 1`, `}`, "", "")
	f.Fuzz(func(t *testing.T, when, param, key, value string) {
		spec := "when: " + quote(when) + "\nthen:\n  runbook: r\n  mode: auto\n  parameters:\n    p: " + quote(param) + "\n"
		set, err := loadYAML(map[string]string{"r.yaml": doc("r", spec)})
		if err != nil {
			return
		}
		rs, err := compileRules(set)
		if err != nil {
			t.Fatalf("loaded but does not compile: %v", err)
		}
		ev := &event.Event{Title: value, Labels: map[string]string{key: value},
			Resources: []event.ResourceRef{{Type: "host", ID: value}}}
		rs.Evaluate(ev, &store.OpsItem{Title: value, Occurrences: 3})
	})
}

// quote makes s a YAML double-quoted scalar.
func quote(s string) string {
	out := []byte{'"'}
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			out = append(out, '\\', byte(r))
		case r < 0x20 || r == 0x7f:
			out = append(out, []byte(`\x`)...)
			out = append(out, "0123456789abcdef"[r>>4], "0123456789abcdef"[r&15])
		default:
			out = append(out, string(r)...)
		}
	}
	return string(append(out, '"'))
}
