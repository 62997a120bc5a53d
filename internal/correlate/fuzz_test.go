package correlate_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/correlate"
	"github.com/flywheel-ops/flywheel/internal/event"
)

// FuzzRuleYAML feeds arbitrary documents through the content loader:
// loading never panics, whatever loads compiles (Validate and Compile
// agree), and the compiled rules place every event.
func FuzzRuleYAML(f *testing.F) {
	library, err := filepath.Glob("../../content/correlation/*.yaml")
	if err != nil || len(library) == 0 {
		f.Fatalf("no library rules to seed from (err %v)", err)
	}
	for _, p := range library {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Add(head + "  filter: event.resources.exists(r, r.type == 'host')\n  group_by: [event.resources.map(r, r.id).join(',')]\n")
	f.Add(head + "  filter: event.labels.all(k, v, k.size() < v.size())\n")
	f.Add(head + "  group_by: ['event.labels[?\"x\"]', event.severity]\n  hold: 1m\n  hold_severities: [low]\n")

	evs := []event.Event{
		alert("DiskFull", "prod", "web-1:9100", event.SeverityMedium),
		{Source: "guardduty", Kind: event.KindFinding, Resources: []event.ResourceRef{{Type: "ec2-instance", ID: "i-1"}}},
		{},
	}
	f.Fuzz(func(t *testing.T, doc string) {
		set, err := loadYAML(map[string]string{"r.yaml": doc})
		if err != nil {
			return
		}
		rs, err := correlate.Compile(set.Items(correlate.KindName))
		if err != nil {
			t.Fatalf("loaded but does not compile: %v", err)
		}
		for i := range evs {
			m, err := rs.Match(&evs[i])
			if err != nil || m.Rule == nil || m.GroupKey == "" {
				t.Fatalf("Match = %+v, %v", m, err)
			}
			_ = m.Rule.Title(&evs[i])
		}
	})
}
