package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/store"
)

// TestOpsItemHandlingCommands drives ack, assign, note and resolve against
// a real API and reads the result back with get.
func TestOpsItemHandlingCommands(t *testing.T) {
	t.Parallel()
	run := runbookServer(t)
	out, err := run("--json", "opsitem", "create", "--title", "Disk almost full on db-01")
	var o store.OpsItem
	if err != nil || json.Unmarshal([]byte(out), &o) != nil || o.ID == "" {
		t.Fatalf("create: %v\n%s", err, out)
	}
	for _, step := range []struct {
		args []string
		want string
	}{
		{[]string{"ack", o.ID, "--comment", "mine"}, o.ID + " in-progress assignee=- acknowledged_by=token:"},
		{[]string{"assign", o.ID, "dana"}, "assignee=dana"},
		{[]string{"note", o.ID, "logs filled the disk"}, "in-progress"},
		{[]string{"resolve", o.ID}, o.ID + " resolved assignee=dana"},
	} {
		out, err := run(append([]string{"opsitem"}, step.args...)...)
		if err != nil || !strings.Contains(out, step.want) {
			t.Errorf("opsitem %v: %v\n%s\nwant %q", step.args, err, out, step.want)
		}
	}
	if _, err := run("opsitem", "assign", o.ID); err == nil || !strings.Contains(err.Error(), "--none") {
		t.Errorf("assign without assignee: %v", err)
	}
	if _, err := run("opsitem", "resolve", o.ID); err == nil || !strings.Contains(err.Error(), "already resolved") {
		t.Errorf("second resolve: %v", err)
	}
	out, err = run("opsitem", "get", o.ID)
	for _, want := range []string{"ID:", o.ID, "Status:", "resolved", "Assignee:", "dana", "Acknowledged:", "Resolved:"} {
		if err != nil || !strings.Contains(out, want) {
			t.Errorf("get (human) lacks %q: %v\n%s", want, err, out)
		}
	}
	if strings.HasPrefix(strings.TrimSpace(out), "{") {
		t.Errorf("get prints JSON without --json:\n%s", out)
	}
	out, err = run("--json", "opsitem", "get", o.ID)
	if err != nil || json.Unmarshal([]byte(out), &o) != nil {
		t.Fatalf("get --json: %v\n%s", err, out)
	}
	if o.Status != "resolved" || o.Assignee != "dana" || o.AcknowledgedAt == nil || !strings.HasPrefix(o.ResolvedBy, "token:") {
		t.Errorf("after the commands: %+v", o)
	}
	out, err = run("opsitem", "list", "--assignee", "dana")
	if err != nil || !strings.Contains(out, o.ID) {
		t.Errorf("list --assignee dana: %v\n%s", err, out)
	}
	out, err = run("opsitem", "list", "--assignee", "nobody")
	if err != nil || strings.Contains(out, o.ID) {
		t.Errorf("list --assignee nobody: %v\n%s", err, out)
	}
}

// TestOpsItemMergeSplitCommands: merge closes the sources into the target
// through the API; split names what is wrong when the alert is no member.
func TestOpsItemMergeSplitCommands(t *testing.T) {
	t.Parallel()
	run := runbookServer(t)
	create := func(title string) store.OpsItem {
		t.Helper()
		out, err := run("--json", "opsitem", "create", "--title", title)
		var o store.OpsItem
		if err != nil || json.Unmarshal([]byte(out), &o) != nil || o.ID == "" {
			t.Fatalf("create: %v\n%s", err, out)
		}
		return o
	}
	target, a, b := create("Database down"), create("API errors"), create("Probe failing")
	out, err := run("opsitem", "merge", target.ID, a.ID, b.ID)
	if err != nil || !strings.Contains(out, target.ID+" open") {
		t.Fatalf("merge: %v\n%s", err, out)
	}
	for _, s := range []store.OpsItem{a, b} {
		out, err := run("--json", "opsitem", "get", s.ID)
		var o store.OpsItem
		if err != nil || json.Unmarshal([]byte(out), &o) != nil || o.Status != "resolved" {
			t.Errorf("source %s after merge: %v\n%s", s.ID, err, out)
		}
	}
	if _, err := run("opsitem", "merge", target.ID, a.ID); err == nil || !strings.Contains(err.Error(), "resolved") {
		t.Errorf("merging a closed source: %v", err)
	}
	if _, err := run("opsitem", "merge", target.ID); err == nil {
		t.Errorf("merge without a source succeeded")
	}
	if _, err := run("opsitem", "split", target.ID, "fp-none"); err == nil || !strings.Contains(err.Error(), "not a member") {
		t.Errorf("split of a non-member: %v", err)
	}
}
