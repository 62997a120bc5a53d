package cli

import (
	"strings"
	"testing"
)

// TestWindowCommands: a cron window with tasks made with `maintenance
// create --schedule --task`, its next openings through `window next`, its
// empty history, and the errors of bad flags. (Running one needs a server
// with runbooks and agents: internal/app's TestWindowOnRealAgents.)
func TestWindowCommands(t *testing.T) {
	t.Parallel()
	run := deflectionServer(t)
	id, err := run("maintenance", "create", "--name", "patching", "--schedule", "cron(30 2 ? * 7L *)", "--schedule-offset", "1", "--duration", "3h",
		"--cutoff", "1h", "--timezone", "Europe/Berlin", "--tag", "patch-group=web",
		"--task", "runbook=patch-linux,priority=1,max_concurrency=2,max_errors=1,cutoff_behavior=cancel,param.reboot=yes")
	if err != nil {
		t.Fatal(err)
	}
	id = strings.TrimSpace(id)
	out, err := run("window", "next", "patching", "--count", "3")
	if err != nil {
		t.Fatal(err)
	}
	// The day after the last Saturday, 02:30 local: CET or CEST, never both.
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 4 || !strings.Contains(lines[0], "START (Europe/Berlin)") ||
		!strings.Contains(lines[1], " 02:30 CE") || !strings.Contains(lines[1], " 05:30 CE") {
		t.Errorf("window next:\n%s", out)
	}
	if out, err := run("--json", "window", "next", id, "-n", "1"); err != nil || !strings.Contains(out, `"start_local"`) || strings.Count(out, `"start":`) != 1 {
		t.Errorf("window next --json by ID: %v\n%s", err, out)
	}
	if out, err := run("maintenance", "list"); err != nil || !strings.Contains(out, "cron(30 2 ? * 7L *) for 3h Europe/Berlin") {
		t.Errorf("list: %v\n%s", err, out)
	}
	if out, err := run("window", "history", "patching"); err != nil || !strings.Contains(out, "RUN") {
		t.Errorf("history: %v\n%s", err, out)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"window", "run", "patching"}, "give --now"},
		{[]string{"window", "run", "patching", "--now"}, "admin"},
		{[]string{"window", "next", "nope"}, `maintenance window "nope" not found`},
		{[]string{"window", "next", "patching", "--count", "0"}, "count"},
		{[]string{"maintenance", "create", "--name", "x", "--schedule", "0 2 * * *", "--resource", "i-1"}, "needs --duration"},
		{[]string{"maintenance", "create", "--name", "x", "--schedule", "0 2 * * *", "--weekly", "sat 02:00 1h", "--resource", "i-1"}, "one of them"},
		{[]string{"maintenance", "create", "--name", "x", "--schedule", "cron(0 2 ? * MON#6 *)", "--duration", "1h", "--resource", "i-1"}, "day-of-week field"},
		{[]string{"maintenance", "create", "--name", "x", "--schedule", "0 2 * * *", "--duration", "1h", "--resource", "i-1", "--task", "priority=1"}, "runbook=NAME is required"},
		{[]string{"maintenance", "create", "--name", "x", "--schedule", "0 2 * * *", "--duration", "1h", "--resource", "i-1", "--task", "runbook=a,speed=2"}, `unknown key "speed"`},
	} {
		if _, err := run(tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
}
