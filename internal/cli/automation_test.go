package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestAutomationCommands resolves two disk OpsItems by hand after running
// a runbook on each, then lists the candidate and drafts a rule from it.
func TestAutomationCommands(t *testing.T) {
	t.Parallel()
	run := runbookServer(t)
	for _, host := range []string{"db-01", "db-02"} {
		out, err := run("--json", "opsitem", "create", "--title", "Disk almost full on "+host)
		var o struct{ ID string }
		if err != nil || json.Unmarshal([]byte(out), &o) != nil {
			t.Fatalf("create: %v\n%s", err, out)
		}
		if out, err := run("runbook", "run", "check", "--opsitem", o.ID, "-p", "used=50", "--wait"); err != nil {
			t.Fatalf("run: %v\n%s", err, out)
		}
		if out, err := run("opsitem", "resolve", o.ID); err != nil {
			t.Fatalf("resolve: %v\n%s", err, out)
		}
	}
	out, err := run("--json", "automation", "candidates")
	var cs []struct {
		ID       string
		Count    int
		Runbooks []string
	}
	if err != nil || json.Unmarshal([]byte(out), &cs) != nil || len(cs) != 1 || cs[0].Count != 2 || strings.Join(cs[0].Runbooks, ",") != "check" {
		t.Fatalf("candidates: %v\n%s", err, out)
	}
	out, err = run("automation", "candidates")
	if err != nil || !strings.Contains(out, cs[0].ID) || !strings.Contains(out, "Disk almost full on db-*") {
		t.Errorf("candidates table: %v\n%s", err, out)
	}
	out, err = run("automation", "draft", "--candidate", cs[0].ID, "--runbook", "notify-escalate")
	if err != nil || !strings.Contains(out, "kind: Rule") || !strings.Contains(out, "runbook: notify-escalate") || !strings.Contains(out, "mode: suggest") {
		t.Errorf("draft: %v\n%s", err, out)
	}
	// check is this test's own runbook, not the library's: the draft names
	// what the content loader would refuse.
	if _, err := run("automation", "draft", "--candidate", cs[0].ID); err == nil || !strings.Contains(err.Error(), "check") {
		t.Errorf("draft with a runbook the content does not define: %v", err)
	}
	if _, err := run("automation", "draft"); err == nil || !strings.Contains(err.Error(), "--candidate") {
		t.Errorf("draft without a source: %v", err)
	}
	if _, err := run("automation", "save", "--candidate", cs[0].ID); err == nil {
		t.Error("save by an operator, without a content directory: no error")
	}
}
