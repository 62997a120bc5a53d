package execution_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/execution"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/runbook/action"
	"github.com/flywheel-ops/flywheel/internal/store"
)

const fleet = `apiVersion: flywheel/v1
kind: Runbook
metadata: {name: fleet}
spec:
  max_concurrency: "10"
  max_errors: "5"
  steps:
    - {name: patch, action: patch, per_target: true, with: {host: "${{ target.id }}"}}
    - {name: after, action: after}
`

// TestRateControl: 100 targets, max_concurrency 10, max_errors 5. Never
// more than 10 run at once (counted by the action and in the store); the
// step stops starting targets after the 6th error; the rest are skipped.
func TestRateControl(t *testing.T) {
	t.Parallel()
	forEachDriver(t, func(t *testing.T, st store.Store) {
		var (
			mu                  sync.Mutex
			running, maxSeen    int
			started             []string
			dbOver              atomic.Int64
			failAt              = map[string]bool{}
			tolerated           = map[string]bool{"host-003": true, "host-050": true}
			exec                atomic.Value
			countRunningInStore = func(id string) int {
				n := 0
				rows, _ := st.ListExecutionSteps(context.Background(), tenant, id)
				for _, r := range rows {
					if r.TargetID != "" && r.Status == runbook.StatusRunning {
						n++
					}
				}
				return n
			}
		)
		for i := 20; i < 26; i++ {
			failAt[fmt.Sprintf("host-%03d", i)] = true
		}
		var failSet atomic.Pointer[map[string]bool]
		failSet.Store(&failAt)
		patch := &fake{name: "patch", fn: func(ctx context.Context, in action.Input) (action.Output, error) {
			mu.Lock()
			running++
			maxSeen = max(maxSeen, running)
			started = append(started, in.Target.ID)
			mu.Unlock()
			defer func() { mu.Lock(); running--; mu.Unlock() }()
			// The first five hold until five run at once (at most 10 s):
			// however slowly targets start (under -race on 2 busy CPUs
			// they started more slowly than 20 ms of work ended, and no
			// more than 4 ran together), a dispatcher that runs them in
			// parallel gets there, and one that does not is seen.
			if in.Target.ID < "host-005" {
				for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
					mu.Lock()
					r := running
					mu.Unlock()
					if r >= 5 {
						break
					}
				}
			}
			if id, _ := exec.Load().(string); id != "" {
				if n := countRunningInStore(id); n > 10 {
					dbOver.Store(int64(n))
				}
			}
			if (*failSet.Load())[in.Target.ID] {
				return action.Output{Log: "no space left"}, errBoom
			}
			// Long enough that recording an error outpaces the targets
			// still starting, on a loaded machine too (20 ms was not,
			// once, under -race on 2 busy CPUs: 55 targets started).
			time.Sleep(50 * time.Millisecond)
			return action.Output{Values: map[string]any{"host": in.With["host"]}}, nil
		}}
		after := &fake{name: "after"}
		acts := newActions(patch, after)
		n := startNode(t, st, library(t, acts, fleet), acts, nodeOpts{})
		var targets []string
		for i := range 100 {
			targets = append(targets, fmt.Sprintf("host-%03d", i))
		}

		id := start(t, st, n.x, runbook.StartRequest{Runbook: "fleet", Targets: targets})
		exec.Store(id)
		e := waitStatus(t, st, id, runbook.TerminalStatuses...)
		count := map[string]int{}
		for _, r := range steps(t, st, id) {
			if r.TargetID != "" {
				count[r.Status]++
			}
		}
		mu.Lock()
		if maxSeen > 10 || dbOver.Load() > 0 {
			t.Errorf("%d targets ran at once (store saw %d running); max_concurrency is 10", maxSeen, dbOver.Load())
		}
		if maxSeen < 5 {
			t.Errorf("at most %d targets ran at once; the limit of 10 was not used", maxSeen)
		}
		if e.Status != runbook.StatusFailed || !strings.Contains(e.Error, "6 of 100 targets failed (max_errors 5)") {
			t.Errorf("execution %s: %q", e.Status, e.Error)
		}
		if count[runbook.StatusFailed] != 6 || count[runbook.StepSkipped] != 100-len(started) || count[runbook.StatusSucceeded]+6 != len(started) {
			t.Errorf("target rows %v, %d started", count, len(started))
		}
		// Targets start in order; once the 6th error is recorded none
		// starts, so the ones started are a prefix and the rest (most of
		// them) are skipped. A few may start while the 6th error is being
		// recorded, as many as slots free up meanwhile.
		last := -1
		for _, h := range started {
			var i int
			fmt.Sscanf(h, "host-%d", &i)
			last = max(last, i)
		}
		if last != len(started)-1 || count[runbook.StepSkipped] < 50 {
			t.Errorf("started %d targets up to index %d; want a prefix ending soon after the errors at 20..25", len(started), last)
		}
		if after.calls.Load() != 0 || own(t, st, id)["after"].Status != runbook.StepSkipped {
			t.Errorf("the step after a failed fan-out ran")
		}
		if recs := auditOf(t, st, id); countActions(recs, "execution.step.start") != len(started)+1 {
			t.Errorf("audit: %d step starts for %d targets", countActions(recs, "execution.step.start"), len(started))
		}

		// Errors within max_errors are tolerated: the step succeeds.
		failSet.Store(&tolerated)
		started, maxSeen = nil, 0
		mu.Unlock()
		id2 := start(t, st, n.x, runbook.StartRequest{Runbook: "fleet", Targets: targets})
		exec.Store(id2)
		e = waitStatus(t, st, id2, runbook.TerminalStatuses...)
		mu.Lock()
		defer mu.Unlock()
		row := own(t, st, id2)["patch"]
		if e.Status != runbook.StatusSucceeded || len(started) != 100 || after.calls.Load() != 1 ||
			!strings.Contains(string(row.Outputs), `"failed":2,"skipped":0,"succeeded":98,"targets":100}`) ||
			!strings.Contains(string(row.Outputs), `"host-050":{"error":"boom","outputs":{},"status":"failed"}`) ||
			row.Error != "2 of 100 targets failed (tolerated: max_errors 5)" {
			t.Errorf("tolerated: %s %q, %d started, row %+v", e.Status, e.Error, len(started), row)
		}
	})
}

const gated = `apiVersion: flywheel/v1
kind: Runbook
metadata: {name: gated}
spec:
  parameters: [{name: svc, default: nginx}, {name: wait, type: duration, default: 1h}]
  steps:
    - {name: prep, action: counter}
    - name: ok
      action: approve
      with: {approvers: [operator], min_approvals: 2, timeout: 1h, message: "restart ${{ params.svc }}?"}
    - {name: act, action: counter}
---
apiVersion: flywheel/v1
kind: Runbook
metadata: {name: quick-gate}
spec:
  steps:
    - name: ok
      action: approve
      with: {approvers: [admin, "token:tok_alice"], timeout: 200ms}
    - {name: act, action: counter}
`

func TestApprovals(t *testing.T) {
	t.Parallel()
	forEachDriver(t, func(t *testing.T, st store.Store) {
		counter := &fake{name: "counter"}
		acts := newActions(counter)
		n := startNode(t, st, library(t, acts, gated), acts, nodeOpts{})
		ctx := context.Background()
		alice := execution.Approver{Actor: "token:tok_alice", Role: store.RoleOperator}
		bob := execution.Approver{Actor: "token:tok_bob", Role: store.RoleAdmin}
		viewer := execution.Approver{Actor: "token:tok_view", Role: store.RoleViewer}

		// Two approvals proceed.
		id := start(t, st, n.x, runbook.StartRequest{Runbook: "gated"})
		e := waitStatus(t, st, id, runbook.StatusWaitingApproval)
		if counter.calls.Load() != 1 || e.Cursor != 1 {
			t.Fatalf("waiting at %d after %d calls", e.Cursor, counter.calls.Load())
		}
		if _, err := n.x.Approve(ctx, tenant, id, viewer, "lgtm"); !errors.Is(err, execution.ErrNotApprover) {
			t.Errorf("viewer approval: %v", err)
		}
		e, err := n.x.Approve(ctx, tenant, id, alice, "looks right")
		if err != nil || e.Status != runbook.StatusWaitingApproval {
			t.Fatalf("first approval: %+v %v", e, err)
		}
		if _, err := n.x.Approve(ctx, tenant, id, alice, "again"); !errors.Is(err, execution.ErrState) {
			t.Errorf("second approval by the same approver: %v", err)
		}
		if _, err := n.x.Approve(ctx, tenant, id, bob, ""); err != nil {
			t.Fatal(err)
		}
		e = waitStatus(t, st, id, runbook.TerminalStatuses...)
		row := own(t, st, id)["ok"]
		if e.Status != runbook.StatusSucceeded || counter.calls.Load() != 2 || !jsonEq(t, row.Outputs, `{"approvers":["token:tok_alice","token:tok_bob"]}`) ||
			!jsonEq(t, row.Inputs, `{"approvers":["operator"],"message":"restart nginx?","min_approvals":2,"timeout":"1h0m0s"}`) {
			t.Errorf("approved: %+v %s", e, dumpSteps(t, st, id))
		}
		as, _ := st.ListApprovals(ctx, tenant, id)
		recs := auditOf(t, st, id)
		if len(as) != 2 || as[0].Comment != "looks right" || countActions(recs, "execution.approve") != 3 {
			t.Errorf("approvals %+v; audit approve records %d (2 and the refused viewer)", as, countActions(recs, "execution.approve"))
		}

		// A denial ends it.
		id = start(t, st, n.x, runbook.StartRequest{Runbook: "gated"})
		waitStatus(t, st, id, runbook.StatusWaitingApproval)
		e, err = n.x.Deny(ctx, tenant, id, bob, "not during business hours")
		rows := own(t, st, id)
		if err != nil || e.Status != runbook.StatusDenied || rows["act"].Status != runbook.StepSkipped ||
			rows["ok"].Status != runbook.StatusFailed || !strings.Contains(e.Error, "Denied by token:tok_bob at step ok: not during business hours") {
			t.Errorf("denied: %+v %v %s", e, err, dumpSteps(t, st, id))
		}
		if recs := auditOf(t, st, id); countActions(recs, "execution.deny") != 1 {
			t.Error("denial not audited")
		}
		if _, err := n.x.Approve(ctx, tenant, id, alice, ""); !errors.Is(err, execution.ErrState) {
			t.Errorf("approving a denied execution: %v", err)
		}

		// No decision in time: timed out.
		id = start(t, st, n.x, runbook.StartRequest{Runbook: "quick-gate"})
		e = waitStatus(t, st, id, runbook.StatusTimedOut)
		if rows := own(t, st, id); rows["ok"].Error != "approval timed out after 200ms" || rows["act"].Status != runbook.StepSkipped {
			t.Errorf("timed out: %s", dumpSteps(t, st, id))
		}
		if recs := auditOf(t, st, id); countActions(recs, "execution.approval_timeout") != 1 {
			t.Error("timeout not audited")
		}

		// Approvers by token: alice (an operator) is named; an admin's role
		// suffices.
		before := counter.calls.Load()
		id = start(t, st, n.x, runbook.StartRequest{Runbook: "gated", Mode: runbook.ModeApproval})
		e, _ = st.GetExecution(ctx, tenant, id)
		if e.Status != runbook.StatusWaitingApproval || e.Seq != -1 || counter.calls.Load() != before {
			t.Fatalf("approval mode: %+v", e)
		}
		if _, err := n.x.Approve(ctx, tenant, id, viewer, ""); !errors.Is(err, execution.ErrNotApprover) {
			t.Errorf("viewer approving the start: %v", err)
		}
		if _, err := n.x.Approve(ctx, tenant, id, alice, "go"); err != nil {
			t.Fatal(err)
		}
		e = waitStatus(t, st, id, runbook.StatusWaitingApproval, runbook.StatusSucceeded)
		waitFor(t, "the step approval", func() bool {
			e, _ := st.GetExecution(ctx, tenant, id)
			return e.Status == runbook.StatusWaitingApproval && e.Seq == 1
		})
		if counter.calls.Load() != before+1 {
			t.Errorf("after the start approval, prep ran %d times", counter.calls.Load()-before)
		}
	})
}

const restartable = `apiVersion: flywheel/v1
kind: Runbook
metadata: {name: restartable}
spec:
  steps:
    - {name: one, action: one}
    - {name: two, action: two, on_failure: continue, idempotent: IDEMPOTENT}
    - {name: three, action: three}
`

// restartActions are one node's actions; two blocks until its context
// ends when block is set.
func restartActions(block bool, twoStarted *gate) (actions, *fake, *fake, *fake) {
	one, three := &fake{name: "one"}, &fake{name: "three"}
	two := &fake{name: "two", fn: func(ctx context.Context, in action.Input) (action.Output, error) {
		if block {
			twoStarted.open()
			<-ctx.Done()
			return action.Output{}, ctx.Err()
		}
		return action.Output{Values: map[string]any{"ok": true}}, nil
	}}
	return newActions(one, two, three), one, two, three
}

// TestRestartDuringStep kills the worker while a step runs; a new node on
// the same database resumes the execution. A step that is not idempotent
// is never run again (it fails as interrupted, and on_failure continues);
// an idempotent one runs again.
func TestRestartDuringStep(t *testing.T) {
	t.Parallel()
	for _, idempotent := range []bool{false, true} {
		t.Run(fmt.Sprintf("idempotent=%v", idempotent), func(t *testing.T) {
			t.Parallel()
			forEachDriver(t, func(t *testing.T, st store.Store) {
				doc := strings.Replace(restartable, "IDEMPOTENT", fmt.Sprint(idempotent), 1)
				started := newGate()
				acts1, one1, two1, three1 := restartActions(true, started)
				n1 := startNode(t, st, library(t, acts1, doc), acts1, nodeOpts{leaseTTL: 300 * time.Millisecond})
				id := start(t, st, n1.x, runbook.StartRequest{Runbook: "restartable"})
				if err := started.wait(context.Background()); err != nil {
					t.Fatal(err)
				}
				n1.kill(t)
				if r := own(t, st, id)["two"]; r.Status != runbook.StatusRunning {
					t.Fatalf("after the kill, step two is %s; the crash must leave it running", r.Status)
				}

				acts2, one2, two2, three2 := restartActions(false, nil)
				startNode(t, st, library(t, acts2, doc), acts2, nodeOpts{leaseTTL: 300 * time.Millisecond})
				e := waitStatus(t, st, id, runbook.TerminalStatuses...)
				rows := own(t, st, id)
				if one1.calls.Load()+one2.calls.Load() != 1 || three1.calls.Load() != 0 || three2.calls.Load() != 1 || two1.calls.Load() != 1 {
					t.Errorf("calls: one %d+%d two %d+%d three %d+%d", one1.calls.Load(), one2.calls.Load(),
						two1.calls.Load(), two2.calls.Load(), three1.calls.Load(), three2.calls.Load())
				}
				if e.Status != runbook.StatusSucceeded {
					t.Errorf("execution %s: %q\n%s", e.Status, e.Error, dumpSteps(t, st, id))
				}
				if idempotent {
					if two2.calls.Load() != 1 || rows["two"].Status != runbook.StatusSucceeded || rows["two"].Attempt != 2 {
						t.Errorf("idempotent step not re-run: %s", dumpSteps(t, st, id))
					}
				} else if two2.calls.Load() != 0 || rows["two"].Status != runbook.StatusFailed ||
					rows["two"].Error != "interrupted; not re-run because the step is not idempotent" {
					t.Errorf("non-idempotent step: %d calls after restart\n%s", two2.calls.Load(), dumpSteps(t, st, id))
				}
			})
		})
	}
}

// TestRestartBetweenSteps stops a node gracefully right after a step; a
// new node runs the rest, and every step runs exactly once.
func TestRestartBetweenSteps(t *testing.T) {
	t.Parallel()
	forEachDriver(t, func(t *testing.T, st store.Store) {
		doc := strings.Replace(restartable, "IDEMPOTENT", "false", 1)
		release := newGate()
		acts1, one1, two1, three1 := restartActions(false, nil)
		one1.fn = func(ctx context.Context, in action.Input) (action.Output, error) {
			return action.Output{}, release.wait(ctx)
		}
		// One step per job: the stop lands between steps.
		n1 := startNode(t, st, library(t, acts1, doc), acts1, nodeOpts{slice: time.Nanosecond})
		id := start(t, st, n1.x, runbook.StartRequest{Runbook: "restartable"})
		waitFor(t, "step one to start", func() bool { return one1.calls.Load() == 1 })
		stopped := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			stopped <- n1.q.Stop(ctx)
		}()
		time.Sleep(50 * time.Millisecond) // let Stop stop fetching before step one ends
		release.open()
		if err := <-stopped; err != nil {
			t.Fatal(err)
		}
		acts2, one2, two2, three2 := restartActions(false, nil)
		startNode(t, st, library(t, acts2, doc), acts2, nodeOpts{})
		e := waitStatus(t, st, id, runbook.TerminalStatuses...)
		for _, c := range [][2]*fake{{one1, one2}, {two1, two2}, {three1, three2}} {
			if c[0].calls.Load()+c[1].calls.Load() != 1 {
				t.Errorf("step %s ran %d+%d times", c[0].name, c[0].calls.Load(), c[1].calls.Load())
			}
		}
		if e.Status != runbook.StatusSucceeded || three2.calls.Load() != 1 {
			t.Errorf("execution %s %q; three ran on the new node %d times\n%s", e.Status, e.Error, three2.calls.Load(), dumpSteps(t, st, id))
		}
	})
}
