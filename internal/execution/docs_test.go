package execution_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/content/kinds"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/registry"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// docExample returns the YAML block of docs/runbooks.md whose first line
// names file.
func docExample(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile("../../docs/runbooks.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, block := range strings.Split(string(b), "```yaml\n")[1:] {
		body, _, _ := strings.Cut(block, "```")
		if strings.HasPrefix(body, "# "+file+"\n") {
			return body
		}
	}
	t.Fatalf("docs/runbooks.md has no example %s", file)
	return ""
}

// TestDocExample loads the page's example with the real content kinds and
// actions, and dry-runs it on an OpsItem with two hosts: every step
// renders, nothing runs.
func TestDocExample(t *testing.T) {
	t.Parallel()
	doc := docExample(t, "ops/runbooks/disk-cleanup.yaml")
	set, err := content.Load(kinds.NewRegistry(), content.Source{Name: "ops", FS: fstest.MapFS{"runbooks/disk-cleanup.yaml": {Data: []byte(doc)}}})
	if err != nil {
		t.Fatalf("the example does not load:\n%v", err)
	}
	actions := registry.New(registry.Options{})
	lib, err := runbook.NewLibrary(set, actions.Get)
	if err != nil {
		t.Fatal(err)
	}
	st := drivers[0].open(t)
	seedTenant(t, st)
	acts := newActions()
	n := startNode(t, st, lib, acts, nodeOpts{})
	o := seedOpsItem(t, st)
	id := start(t, st, n.x, runbook.StartRequest{Runbook: "disk-cleanup", OpsItemID: o.ID, DryRun: true,
		Parameters: map[string]any{"mode": "aggressive"}})
	e, _ := st.GetExecution(context.Background(), tenant, id)
	if e.Status != runbook.StatusSucceeded || !e.DryRun || e.RunbookVersion != 3 {
		t.Fatalf("dry run: %+v", e)
	}
	rows := steps(t, st, id)
	byName := map[string][]store.ExecutionStep{}
	for _, r := range rows {
		if r.Status != runbook.StepSkipped {
			t.Errorf("dry-run row %s[%s] is %s", r.Name, r.TargetID, r.Status)
		}
		byName[r.Name] = append(byName[r.Name], r)
	}
	// vacuum: its row and one per host of the OpsItem, fully rendered.
	if v := byName["vacuum"]; len(v) != 3 || v[1].TargetID != "web-1" || !strings.Contains(string(v[1].Inputs), `-mtime +1 -delete`) ||
		!strings.Contains(string(v[1].Inputs), "journalctl --vacuum-time=72h0m0s") || strings.Contains(v[1].Log, "not rendered") {
		t.Errorf("vacuum rows: %+v", v)
	}
	if a := byName["ask"]; len(a) != 1 || !strings.Contains(string(a[0].Inputs), `"message":"disk full on web-1 is still above 85% after cleanup; escalate?"`) {
		t.Errorf("ask row: %+v", a)
	}
	// close depends on vacuum's outputs: shown as written, with a note.
	if c := byName["close"]; len(c) != 1 || !strings.Contains(c[0].Log, "not rendered before the run") {
		t.Errorf("close row: %+v", c)
	}
	if len(byName) != 9 {
		t.Errorf("dry run has rows for %d steps, want 9", len(byName))
	}
	// And its offline tests pass.
	rb, _ := lib.Get(tenant, "disk-cleanup")
	results := rb.RunTests(context.Background())
	if len(results) != 2 {
		t.Fatalf("%d test results", len(results))
	}
	for _, r := range results {
		if !r.Passed() {
			t.Errorf("the example's test fails:\n%s", runbook.TestSummary(rb.Name, []runbook.TestResult{r}))
		}
	}
}
