package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// eventually runs the CLI until check accepts its output, or fails after 15 s.
func eventually(t *testing.T, what string, check func(out string) bool, args ...string) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		out, code := run(t, args...)
		if code == 0 && check(out) {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not seen within 15s; last output (exit %d):\n%s", what, code, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestEventSendAndList sends an event with `flywheel event send`, sees it in
// `flywheel event list` with the pipeline's decision, sees the OpsItem it
// opened, and resolves it by sending the same event as resolved.
func TestEventSendAndList(t *testing.T) {
	data := t.TempDir()
	s := startServer(t, data)
	conn := []string{"--server", s.addr, "--token", adminToken(t, data)}
	send := func(extra ...string) string {
		t.Helper()
		args := append([]string{"event", "send", "--title", "Nightly backup failed", "--severity", "high", "--resource", "db-01:5432",
			"--label", "job=nightly-backup", "--label", "env=prod", "--source", "cron"}, extra...)
		out, code := run(t, append(args, conn...)...)
		if code != 0 || !strings.Contains(out, "accepted 1 event") {
			t.Fatalf("event send %v: exit %d\n%s", extra, code, out)
		}
		return out
	}
	send("--description", "pg_dump exited 1: disk full")

	table := eventually(t, "the sent event, opened", func(out string) bool { return strings.Contains(out, "opened") },
		append([]string{"event", "list", "--source", "generic:cron"}, conn...)...)
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if len(lines) != 2 || strings.Join(strings.Fields(lines[0]), " ") != "RECEIVED OCCURRED SOURCE STATUS DECISION TITLE REASON" {
		t.Fatalf("event list table:\n%s", table)
	}
	for _, want := range []string{"generic:cron", "firing", "opened", "Nightly backup failed"} {
		if !strings.Contains(lines[1], want) {
			t.Errorf("event list row lacks %q:\n%s", want, table)
		}
	}

	out, code := run(t, append([]string{"event", "list", "--resource", "db-01", "--json"}, conn...)...)
	var evs []struct {
		Source, Title, Severity, Status, Description, Decision, Resource string
		OpsItemID                                                        string `json:"opsitem_id"`
		Labels                                                           map[string]string
	}
	if err := json.Unmarshal([]byte(out), &evs); code != 0 || err != nil || len(evs) != 1 {
		t.Fatalf("event list --resource db-01 --json: exit %d, %v\n%s", code, err, out)
	}
	ev := evs[0]
	if ev.Source != "generic:cron" || ev.Severity != "high" || ev.Status != "firing" || ev.Resource != "db-01" ||
		ev.Description != "pg_dump exited 1: disk full" || ev.Labels["job"] != "nightly-backup" || ev.Labels["env"] != "prod" ||
		ev.Decision != "opened" || ev.OpsItemID == "" {
		t.Errorf("stored event = %+v", ev)
	}
	out, code = run(t, append([]string{"opsitem", "list", "--status", "open"}, conn...)...)
	if code != 0 || !strings.Contains(out, ev.OpsItemID) || !strings.Contains(out, "Nightly backup failed") || !strings.Contains(out, "high") {
		t.Errorf("opsitem list --status open (want %s):\n%s", ev.OpsItemID, out)
	}

	send("--status", "resolved")
	eventually(t, "the OpsItem, resolved", func(out string) bool { return strings.Contains(out, ev.OpsItemID) },
		append([]string{"opsitem", "list", "--status", "resolved"}, conn...)...)
	out, code = run(t, append([]string{"event", "list", "--opsitem", ev.OpsItemID, "--decision", "resolved"}, conn...)...)
	if code != 0 || !strings.Contains(out, "resolved") || strings.Count(strings.TrimSpace(out), "\n") != 1 {
		t.Errorf("event list --opsitem %s --decision resolved: exit %d\n%s", ev.OpsItemID, code, out)
	}
	out, code = run(t, append([]string{"event", "list", "--opsitem", ev.OpsItemID, "--limit", "1", "--json"}, conn...)...)
	if err := json.Unmarshal([]byte(out), &evs); code != 0 || err != nil || len(evs) != 1 || evs[0].Status != "resolved" {
		t.Errorf("event list --limit 1 --json (newest first): exit %d %v\n%s", code, err, out)
	}
	out, code = run(t, append([]string{"event", "list", "--opsitem", ev.OpsItemID, "--limit", "1"}, conn...)...)
	if code != 0 || !strings.Contains(out, "showing the first 1; more exist: raise --limit (e.g. --limit 2)") {
		t.Errorf("event list --limit 1 does not say more exist: exit %d\n%s", code, out)
	}

	// An old event sent now is listed first: the list is ordered by when
	// events were received, the time it shows first; OCCURRED is the
	// event's own.
	out, code = run(t, append([]string{"event", "send", "--title", "Replayed from last year", "--resource", "web-09", "--source", "cron",
		"--timestamp", "2025-01-02T03:04:05Z"}, conn...)...)
	if code != 0 {
		t.Fatalf("event send --timestamp: exit %d\n%s", code, out)
	}
	table = eventually(t, "the old event, listed", func(out string) bool { return strings.Contains(out, "Replayed from last year") },
		append([]string{"event", "list", "--source", "generic:cron"}, conn...)...)
	lines = strings.Split(strings.TrimSpace(table), "\n")
	if len(lines) < 3 || !strings.Contains(lines[1], "Replayed from last year") || !strings.Contains(lines[1], "2025-01-0") ||
		strings.Fields(lines[1])[0] < strings.Fields(lines[2])[0] {
		t.Errorf("the event received last is not first, or its own time is not shown:\n%s", table)
	}
}

func TestEventCommandErrors(t *testing.T) {
	data := t.TempDir()
	s := startServer(t, data)
	conn := []string{"--server", s.addr, "--token", adminToken(t, data)}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"event", "send", "--severity", "high"}, "--title is required"},
		{[]string{"event", "send", "--title", "x", "--label", "novalue"}, `--label "novalue" is not KEY=VALUE`},
		{[]string{"event", "send", "--title", "x", "--status", "maybe"}, "status"},
		{[]string{"event", "send", "--title", "x", "--timestamp", "yesterday"}, "timestamp"},
		{[]string{"event", "list", "--from", "yesterday"}, "--from \"yesterday\" is not an RFC 3339 time"},
		{[]string{"event", "list", "--status", "open"}, `status "open" is not firing or resolved`},
	} {
		out, code := run(t, append(tc.args, conn...)...)
		if code == 0 || !strings.Contains(out, tc.want) {
			t.Errorf("%v: exit %d, want an error containing %q:\n%s", tc.args, code, tc.want, out)
		}
	}
	out, code := run(t, append([]string{"event", "send", "--title", "x"}, "--server", s.addr, "--token", "wrong-token-0123456789abcdef")...)
	if code == 0 || !strings.Contains(out, "401") {
		t.Errorf("wrong token: exit %d\n%s", code, out)
	}
}
