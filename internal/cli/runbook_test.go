package cli

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/auth"
	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/execution"
	"github.com/flywheel-ops/flywheel/internal/jobs"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/runbook/action"
	"github.com/flywheel-ops/flywheel/internal/store"
)

const cliRunbooks = `apiVersion: flywheel/v1
kind: Runbook
metadata: {name: check, description: Check the numbers}
spec:
  parameters: [{name: used, type: int, required: true, description: Percent used}]
  outputs: {ok: steps.verify.status == "succeeded"}
  steps:
    - {name: verify, action: assert, with: {that: "params.used < 90", message: "${{ params.used }}% used"}}
---
apiVersion: flywheel/v1
kind: Runbook
metadata: {name: gated}
spec:
  steps:
    - {name: ask, action: approve, with: {message: "go?"}}
    - {name: verify, action: assert, with: {that: "true"}}
`

// secondOperator is the secret of the second acme operator token
// runbookServerWith issues: the other pair of eyes approvals need.
const secondOperator = "fw_second_operator_of_the_runbook_tests"

// runbookServer serves the API with a real executor and job queue on a
// fresh SQLite store; run executes a flywheel command against it.
func runbookServer(t *testing.T) func(args ...string) (string, error) {
	run := runbookServerWith(t, cliRunbooks, nil)
	return func(args ...string) (string, error) {
		out, _, err := run(args...)
		return out, err
	}
}

// runbookServerWith is runbookServer over other runbooks and I/O actions;
// its run returns stderr too.
func runbookServerWith(t *testing.T, runbooks string, actions func(string) (action.Action, bool)) func(args ...string) (string, string, error) {
	t.Helper()
	ctx := context.Background()
	st, _ := tenantStore(t, store.RoleOperator)
	var secret string
	err := st.InTx(ctx, func(tx store.Tx) error {
		// The operator running runbooks may run them on hosts.
		_, s, err := auth.Issue(ctx, tx, auth.NewToken{TenantID: "acme", Name: "runner", Role: store.RoleOperator,
			Permissions: []store.Permission{store.PermHostCommands}}, time.Now())
		if err != nil {
			return err
		}
		secret = s
		_, _, err = auth.Issue(ctx, tx, auth.NewToken{TenantID: "acme", Name: "second operator", Role: store.RoleOperator, Secret: secondOperator}, time.Now())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	reg := content.NewRegistry()
	reg.Register(runbook.Kind(actions))
	set, err := content.Load(reg, content.Source{Name: "test", FS: fstest.MapFS{"rb.yaml": {Data: []byte(runbooks)}}})
	if err != nil {
		t.Fatal(err)
	}
	lib, err := runbook.NewLibrary(set, actions)
	if err != nil {
		t.Fatal(err)
	}
	q, err := jobs.New(ctx, st, jobs.Options{Logger: slog.New(slog.DiscardHandler), PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	x, err := execution.New(execution.Options{Store: st, Queue: q, Runbooks: lib, Actions: actions})
	if err != nil {
		t.Fatal(err)
	}
	if err := x.Register(q); err != nil {
		t.Fatal(err)
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		q.Stop(ctx)
	})
	srv := httptest.NewServer(api.New(api.Options{Store: st, Runbooks: x}))
	t.Cleanup(srv.Close)
	return func(args ...string) (string, string, error) {
		var out, errOut bytes.Buffer
		root := NewRoot(Env{Stdout: &out, Stderr: &errOut, Lookup: func(string) (string, bool) { return "", false }})
		root.SetArgs(append([]string{"--server", srv.URL, "--token", secret}, args...))
		err := root.ExecuteContext(ctx)
		return out.String(), errOut.String(), err
	}
}

func TestRunbookCommands(t *testing.T) {
	t.Parallel()
	run := runbookServer(t)
	out, err := run("runbook", "list")
	if err != nil || !strings.Contains(out, "check") || !strings.Contains(out, "Check the numbers") || !strings.Contains(out, "used") {
		t.Fatalf("list: %v\n%s", err, out)
	}
	out, err = run("runbook", "show", "check")
	if err != nil || !strings.Contains(out, "used") || !strings.Contains(out, "(required)") || !strings.Contains(out, "verify") || !strings.Contains(out, `ok = steps.verify.status == "succeeded"`) {
		t.Errorf("show: %v\n%s", err, out)
	}
	out, err = run("runbook", "dry-run", "check", "-p", "used=50")
	if err != nil || !strings.Contains(out, "dry run: nothing ran") || !strings.Contains(out, `"that":"params.used \u003c 90"`) && !strings.Contains(out, `params.used < 90`) {
		t.Errorf("dry-run: %v\n%s", err, out)
	}
	out, err = run("runbook", "run", "check", "-p", "used=50", "--wait")
	if err != nil || !strings.Contains(out, "succeeded") || !strings.Contains(out, `outputs: {"ok":true}`) {
		t.Errorf("run --wait: %v\n%s", err, out)
	}
	out, err = run("runbook", "run", "check", "-p", "used=95", "--wait")
	var ee *ExitError
	if err == nil || !strings.Contains(out, "assertion failed: 95% used") {
		t.Errorf("failing run: %v\n%s", err, out)
	} else if !asExit(err, &ee) || ee.Code != 2 {
		t.Errorf("failing run exit: %v", err)
	}
	if _, err := run("runbook", "run", "check", "-p", "used=lots"); err == nil || !strings.Contains(err.Error(), `parameter "used": "lots" is not an int`) {
		t.Errorf("bad parameter: %v", err)
	}
	if _, err := run("runbook", "run", "check", "-p", "used"); err == nil || !strings.Contains(err.Error(), "NAME=VALUE") {
		t.Errorf("malformed --param: %v", err)
	}

	id, err := run("runbook", "run", "gated")
	id = strings.TrimSpace(id)
	if err != nil || !strings.HasPrefix(id, "ex_") {
		t.Fatalf("run gated: %q %v", id, err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		out, _ = run("runbook", "executions", "--status", "waiting_approval")
		if strings.Contains(out, id) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("gated execution never waited for approval:\n%s", out)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Four eyes: who ran it does not approve it; a second operator does.
	if _, err := run("runbook", "approve", id, "-c", "mine"); err == nil || !strings.Contains(err.Error(), "four eyes") {
		t.Errorf("self-approval: %v", err)
	}
	if out, err := run("--token", secondOperator, "runbook", "approve", id, "-c", "fine"); err != nil || !strings.Contains(out, "approved") {
		t.Errorf("approve: %v %s", err, out)
	}
	for {
		out, _ = run("runbook", "executions", id)
		if strings.Contains(out, "gated (version 0) succeeded") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("approved execution did not succeed:\n%s", out)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if out, err := run("runbook", "logs", id); err != nil || !strings.Contains(out, "==> ask: succeeded") {
		t.Errorf("logs: %v\n%s", err, out)
	}
	if _, err := run("runbook", "cancel", id); err == nil || !strings.Contains(err.Error(), "already ended") {
		t.Errorf("cancel an ended execution: %v", err)
	}
	id2, _ := run("runbook", "run", "gated", "--approval")
	id2 = strings.TrimSpace(id2)
	if out, err := run("runbook", "deny", id2, "-c", "no"); err != nil || !strings.Contains(out, "now denied") {
		t.Errorf("deny: %v %s", err, out)
	}
}

func asExit(err error, target **ExitError) bool {
	e, ok := err.(*ExitError)
	if ok {
		*target = e
	}
	return ok
}
