package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/api"
)

// TestStatsCommand resolves an OpsItem by hand and reads the figures back
// as a table and as JSON.
func TestStatsCommand(t *testing.T) {
	t.Parallel()
	run := runbookServer(t)
	out, err := run("--json", "opsitem", "create", "--title", "Disk almost full on db-01")
	var o struct{ ID string }
	if err != nil || json.Unmarshal([]byte(out), &o) != nil || o.ID == "" {
		t.Fatalf("create: %v\n%s", err, out)
	}
	if out, err := run("opsitem", "resolve", o.ID); err != nil {
		t.Fatalf("resolve: %v\n%s", err, out)
	}
	out, err = run("--json", "stats", "--since", "1h")
	var s api.FlywheelStats
	if err != nil || json.Unmarshal([]byte(out), &s) != nil {
		t.Fatalf("stats --json: %v\n%s", err, out)
	}
	if s.Opened != 1 || s.Resolved != 1 || s.ResolvedByHand != 1 || s.StepSeconds != 300 {
		t.Errorf("stats: %+v", s.Outcomes)
	}
	out, err = run("stats")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"opsitems resolved", "resolved by automation", "0.0 %", "operations"} {
		if !strings.Contains(out, want) {
			t.Errorf("stats table lacks %q:\n%s", want, out)
		}
	}
	if _, err := run("stats", "--from", "nonsense"); err == nil || !strings.Contains(err.Error(), "RFC 3339") {
		t.Errorf("stats --from nonsense: %v", err)
	}
}
