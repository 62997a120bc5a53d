package execution_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/execution"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/runbook/action"
	"github.com/flywheel-ops/flywheel/internal/store"
)

const threeSteps = `apiVersion: flywheel/v1
kind: Runbook
metadata: {name: three}
spec:
  version: 2
  parameters:
    - {name: start, type: int, default: 40}
  outputs:
    total: steps.add.outputs.sum
    checked: steps.check.status
  steps:
    - name: count
      action: counter
      with: {from: "${{ params.start }}"}
    - name: add
      action: adder
      with: {a: "${{ steps.count.outputs.n }}", b: 2}
    - name: check
      action: assert
      with: {that: "steps.add.outputs.sum == params.start + 3", message: "sum is ${{ steps.add.outputs.sum }}"}
`

func TestThreeSteps(t *testing.T) {
	t.Parallel()
	forEachDriver(t, func(t *testing.T, st store.Store) {
		counter := &fake{name: "counter", fn: func(_ context.Context, in action.Input) (action.Output, error) {
			return action.Output{Values: map[string]any{"n": in.With["from"].(int64) + 1}, Log: "counted\n"}, nil
		}}
		adder := &fake{name: "adder", fn: func(_ context.Context, in action.Input) (action.Output, error) {
			return action.Output{Values: map[string]any{"sum": in.With["a"].(int64) + in.With["b"].(int64)}}, nil
		}}
		acts := newActions(counter, adder)
		n := startNode(t, st, library(t, acts, threeSteps), acts, nodeOpts{})
		id := start(t, st, n.x, runbook.StartRequest{Runbook: "three"})
		e := waitStatus(t, st, id, runbook.TerminalStatuses...)
		if e.Status != runbook.StatusSucceeded || e.RunbookVersion != 2 || e.StartedAt.IsZero() || e.EndedAt.IsZero() {
			t.Fatalf("execution = %+v\n%s", e, dumpSteps(t, st, id))
		}
		if got := string(e.Outputs); got != `{"checked":"succeeded","total":43}` {
			t.Errorf("outputs = %s", got)
		}
		rows := steps(t, st, id)
		if len(rows) != 3 {
			t.Fatalf("rows = %+v", rows)
		}
		if string(rows[1].Inputs) != `{"a":41,"b":2}` || string(rows[1].Outputs) != `{"sum":43}` || rows[0].Log != "counted\n" || rows[0].Attempt != 1 {
			t.Errorf("rows: %s", dumpSteps(t, st, id))
		}
		if counter.calls.Load() != 1 || adder.calls.Load() != 1 {
			t.Errorf("calls: counter %d adder %d", counter.calls.Load(), adder.calls.Load())
		}
		recs := auditOf(t, st, id)
		if countActions(recs, "execution.step.start") != 3 || countActions(recs, "execution.step.end") != 3 ||
			countActions(recs, "execution.start") != 1 || countActions(recs, "execution.end") != 1 {
			var acts []string
			for _, r := range recs {
				acts = append(acts, r.Action)
			}
			t.Errorf("audit: %v", acts)
		}
		if recs[0].Actor != "token:tok_test" || recs[len(recs)-1].Actor != "execution:"+id {
			t.Errorf("audit actors: %s … %s", recs[0].Actor, recs[len(recs)-1].Actor)
		}
	})
}

func TestStartValidation(t *testing.T) {
	t.Parallel()
	st := drivers[0].open(t)
	seedTenant(t, st)
	acts := newActions(&fake{name: "counter"}, &fake{name: "adder"})
	lib := library(t, acts, threeSteps, `apiVersion: flywheel/v1
kind: Runbook
metadata: {name: on-item}
spec:
  targets: {from: opsitem}
  steps: [{name: a, action: counter, per_target: true}]
---
apiVersion: flywheel/v1
kind: Runbook
metadata: {name: theirs, tenant: globex}
spec:
  steps: [{name: a, action: counter}]
`)
	n := startNode(t, st, lib, acts, nodeOpts{})
	for _, tc := range []struct {
		req  runbook.StartRequest
		want string
		is   error
	}{
		{runbook.StartRequest{Runbook: "nope"}, `no such runbook "nope"`, execution.ErrUnknownRunbook},
		{runbook.StartRequest{Runbook: "theirs"}, `no such runbook "theirs"`, execution.ErrUnknownRunbook},
		{runbook.StartRequest{Runbook: "three", Parameters: map[string]any{"start": "x"}}, `parameter "start": "x" is not an int`, nil},
		{runbook.StartRequest{Runbook: "three", Parameters: map[string]any{"stop": 1}}, `unknown parameter "stop"`, nil},
		{runbook.StartRequest{Runbook: "three", Mode: "later"}, `mode "later"`, execution.ErrInvalid},
		{runbook.StartRequest{Runbook: "three", OpsItemID: "oi_nope"}, `OpsItem "oi_nope" not found`, execution.ErrInvalid},
		{runbook.StartRequest{Runbook: "on-item"}, `give an OpsItem`, execution.ErrInvalid},
		{runbook.StartRequest{Runbook: "three", Mode: runbook.ModeSuggest}, `suggest mode needs an OpsItem`, execution.ErrInvalid},
	} {
		_, err := startErr(st, n.x, tc.req)
		if err == nil || !strings.Contains(err.Error(), tc.want) || (tc.is != nil && !errors.Is(err, tc.is)) {
			t.Errorf("Start(%+v) = %v, want %q", tc.req, err, tc.want)
		}
	}
	if l, _, _ := st.ListExecutions(context.Background(), tenant, store.ExecutionFilter{}, store.Page{}); len(l) != 0 {
		t.Errorf("refused starts left %d executions", len(l))
	}
}

const retrying = `apiVersion: flywheel/v1
kind: Runbook
metadata: {name: retrying}
spec:
  parameters: [{name: tries, type: int}]
  steps:
    - name: flaky
      action: flaky
      with: {fail_until: "${{ params.tries }}"}
      retries: {max: 3, backoff: 10ms, max_backoff: 20ms}
`

func TestRetries(t *testing.T) {
	t.Parallel()
	forEachDriver(t, func(t *testing.T, st store.Store) {
		var calls atomic.Int64
		flaky := &fake{name: "flaky", fn: func(_ context.Context, in action.Input) (action.Output, error) {
			calls.Add(1)
			if in.With["fail_until"].(int64) < 0 {
				return action.Output{}, action.Permanent(fmt.Errorf("refused: %w", errBoom))
			}
			if int64(in.Attempt) <= in.With["fail_until"].(int64) {
				return action.Output{Log: fmt.Sprintf("try %d\n", in.Attempt)}, errBoom
			}
			return action.Output{Values: map[string]any{"attempt": in.Attempt}}, nil
		}}
		acts := newActions(flaky)
		n := startNode(t, st, library(t, acts, retrying), acts, nodeOpts{})

		ok := start(t, st, n.x, runbook.StartRequest{Runbook: "retrying", Parameters: map[string]any{"tries": 2}})
		e := waitStatus(t, st, ok, runbook.TerminalStatuses...)
		row := own(t, st, ok)["flaky"]
		if e.Status != runbook.StatusSucceeded || row.Attempt != 3 || string(row.Outputs) != `{"attempt":3}` ||
			!strings.Contains(row.Log, "attempt 1 failed: boom; retrying in 10ms") || !strings.Contains(row.Log, "--- attempt 2 ---\ntry 2") {
			t.Errorf("after 2 failures: %s %s", e.Status, dumpSteps(t, st, ok))
		}

		bad := start(t, st, n.x, runbook.StartRequest{Runbook: "retrying", Parameters: map[string]any{"tries": 9}})
		e = waitStatus(t, st, bad, runbook.TerminalStatuses...)
		row = own(t, st, bad)["flaky"]
		if e.Status != runbook.StatusFailed || row.Attempt != 4 || row.Error != "boom" || e.Error != "step flaky failed: boom" {
			t.Errorf("always failing: %+v %s", e, dumpSteps(t, st, bad))
		}
		if got := calls.Load(); got != 3+4 {
			t.Errorf("calls = %d, want 7", got)
		}

		// A permanent failure (a refusal) is not retried.
		refused := start(t, st, n.x, runbook.StartRequest{Runbook: "retrying", Parameters: map[string]any{"tries": -1}})
		e = waitStatus(t, st, refused, runbook.TerminalStatuses...)
		row = own(t, st, refused)["flaky"]
		if e.Status != runbook.StatusFailed || row.Attempt != 1 || row.Error != "refused: boom" ||
			!strings.Contains(row.Log, "not retrying: the failure is permanent") {
			t.Errorf("permanent failure: %+v %s", e, dumpSteps(t, st, refused))
		}
		if got := calls.Load(); got != 3+4+1 {
			t.Errorf("calls = %d, want 8", got)
		}
	})
}

const flow = `apiVersion: flywheel/v1
kind: Runbook
metadata: {name: flow}
spec:
  parameters: [{name: level, type: int, default: 50}, {name: fail, type: bool, default: false}]
  outputs:
    path: "[steps.low.status, steps.high.status, steps.fix.status]"
  steps:
    - name: probe
      action: probe
      with: {fail: "${{ params.fail }}"}
      on_failure: goto:fix
    - name: route
      action: branch
      with:
        cases:
          - {when: "steps.probe.outputs.level > 90", goto: high}
          - {when: "steps.probe.outputs.level < 10", goto: end}
        default: low
    - name: high
      action: probe
      with: {level: 1}
    - name: low
      action: probe
      when: steps.probe.outputs.level >= 10
      with: {level: 1}
      on_failure: continue
    - name: fix
      action: probe
      when: has(steps.probe) && steps.probe.status == "failed"
      with: {level: 1}
`

func TestBranchesAndGoto(t *testing.T) {
	t.Parallel()
	forEachDriver(t, func(t *testing.T, st store.Store) {
		probe := &fake{name: "probe", fn: func(_ context.Context, in action.Input) (action.Output, error) {
			if in.With["fail"] == true {
				return action.Output{}, errBoom
			}
			return action.Output{Values: map[string]any{"level": in.With["level"]}}, nil
		}}
		acts := newActions(probe)
		lib := library(t, acts, strings.Replace(flow, "with: {fail: \"${{ params.fail }}\"}", "with: {fail: \"${{ params.fail }}\", level: \"${{ params.level }}\"}", 1))
		n := startNode(t, st, lib, acts, nodeOpts{})
		for _, tc := range []struct {
			params map[string]any
			status string
			ran    []string // steps that succeeded or failed, in seq order
			path   string
		}{
			{map[string]any{"level": 95}, runbook.StatusSucceeded, []string{"probe", "route", "high", "low"}, `["succeeded","succeeded","skipped"]`},
			{map[string]any{"level": 50}, runbook.StatusSucceeded, []string{"probe", "route", "low"}, `["succeeded","skipped","skipped"]`},
			{map[string]any{"level": 5}, runbook.StatusSucceeded, []string{"probe", "route"}, `["skipped","skipped","skipped"]`},
			{map[string]any{"fail": true}, runbook.StatusSucceeded, []string{"probe", "fix"}, `["skipped","skipped","succeeded"]`},
		} {
			id := start(t, st, n.x, runbook.StartRequest{Runbook: "flow", Parameters: tc.params})
			e := waitStatus(t, st, id, runbook.TerminalStatuses...)
			var ran []string
			for _, r := range steps(t, st, id) {
				if r.Status == runbook.StatusSucceeded || r.Status == runbook.StatusFailed {
					ran = append(ran, r.Name)
				}
			}
			if e.Status != tc.status || !reflect.DeepEqual(ran, tc.ran) {
				t.Errorf("%v: %s %q ran %v, want %s %v\n%s", tc.params, e.Status, e.Error, ran, tc.status, tc.ran, dumpSteps(t, st, id))
			}
			if tc.path != "" && string(e.Outputs) != `{"path":`+tc.path+`}` {
				t.Errorf("%v: outputs %s", tc.params, e.Outputs)
			}
		}
	})
}

func TestAssertFailure(t *testing.T) {
	t.Parallel()
	forEachDriver(t, func(t *testing.T, st store.Store) {
		acts := newActions(&fake{name: "counter"})
		lib := library(t, acts, `apiVersion: flywheel/v1
kind: Runbook
metadata: {name: check}
spec:
  parameters: [{name: used, type: int}]
  steps:
    - name: verify
      action: assert
      with: {that: "params.used < 90", message: "disk still ${{ params.used }}% full"}
    - name: after
      action: counter
`)
		n := startNode(t, st, lib, acts, nodeOpts{})
		id := start(t, st, n.x, runbook.StartRequest{Runbook: "check", Parameters: map[string]any{"used": 95}})
		e := waitStatus(t, st, id, runbook.TerminalStatuses...)
		rows := own(t, st, id)
		if e.Status != runbook.StatusFailed || e.Error != "step verify failed: assertion failed: disk still 95% full" ||
			rows["after"].Status != runbook.StepSkipped || acts["counter"].(*fake).calls.Load() != 0 {
			t.Errorf("%+v\n%s", e, dumpSteps(t, st, id))
		}
		ok := start(t, st, n.x, runbook.StartRequest{Runbook: "check", Parameters: map[string]any{"used": 50}})
		if e := waitStatus(t, st, ok, runbook.TerminalStatuses...); e.Status != runbook.StatusSucceeded {
			t.Errorf("passing assert: %+v", e)
		}
	})
}

// TestVerifyIneffective: a runbook whose steps all ran but whose verify
// condition is false ends ineffective, with the verification's message,
// its outputs kept; one that verifies succeeds; a dry run is not judged.
func TestVerifyIneffective(t *testing.T) {
	t.Parallel()
	forEachDriver(t, func(t *testing.T, st store.Store) {
		acts := newActions(&fake{name: "measure", fn: func(_ context.Context, in action.Input) (action.Output, error) {
			return action.Output{Values: map[string]any{"used": in.With["used"]}}, nil
		}})
		lib := library(t, acts, `apiVersion: flywheel/v1
kind: Runbook
metadata: {name: clean}
spec:
  parameters: [{name: used, type: int}]
  outputs: {used_after: int(steps.measure.outputs.used)}
  verify: {condition: outputs.used_after < 80, message: the volume is still above 80%}
  steps:
    - {name: measure, action: measure, with: {used: "${{ params.used }}"}}
`)
		n := startNode(t, st, lib, acts, nodeOpts{})
		id := start(t, st, n.x, runbook.StartRequest{Runbook: "clean", Parameters: map[string]any{"used": 93}})
		e := waitStatus(t, st, id, runbook.TerminalStatuses...)
		if e.Status != runbook.StatusIneffective || e.Error != "not verified: the volume is still above 80%" || !strings.Contains(string(e.Outputs), `"used_after":93`) {
			t.Errorf("unverified run: %s %q outputs %s", e.Status, e.Error, e.Outputs)
		}
		if recs := auditOf(t, st, id); countActions(recs, "execution.end") != 1 || recs[len(recs)-1].Result != "ineffective: not verified: the volume is still above 80%" {
			t.Errorf("audit of the end: %+v", recs[len(recs)-1])
		}
		ok := start(t, st, n.x, runbook.StartRequest{Runbook: "clean", Parameters: map[string]any{"used": 60}})
		if e := waitStatus(t, st, ok, runbook.TerminalStatuses...); e.Status != runbook.StatusSucceeded {
			t.Errorf("verified run: %s %q", e.Status, e.Error)
		}
	})
}

func TestDryRunRunsNothing(t *testing.T) {
	t.Parallel()
	forEachDriver(t, func(t *testing.T, st store.Store) {
		counter := &fake{name: "counter"}
		acts := newActions(counter, &fake{name: "adder"})
		lib := library(t, acts, threeSteps, `apiVersion: flywheel/v1
kind: Runbook
metadata: {name: fleet}
spec:
  steps:
    - {name: each, action: counter, per_target: true, with: {host: "${{ target.id }}"}}
    - {name: nap, action: sleep, with: {duration: 1h}}
`)
		n := startNode(t, st, lib, acts, nodeOpts{})
		id := start(t, st, n.x, runbook.StartRequest{Runbook: "three", DryRun: true, Parameters: map[string]any{"start": 7}})
		e, _ := st.GetExecution(context.Background(), tenant, id)
		rows := steps(t, st, id)
		if e.Status != runbook.StatusSucceeded || !e.DryRun || len(rows) != 3 {
			t.Fatalf("%+v %s", e, dumpSteps(t, st, id))
		}
		if rows[0].Status != runbook.StepSkipped || string(rows[0].Inputs) != `{"from":7}` ||
			!strings.Contains(rows[1].Log, "not rendered before the run") || string(rows[1].Inputs) != `{"a":"${{ steps.count.outputs.n }}","b":2}` {
			t.Errorf("rows: %s", dumpSteps(t, st, id))
		}
		id2 := start(t, st, n.x, runbook.StartRequest{Runbook: "fleet", DryRun: true, Targets: []string{"web-1", "web-2"}})
		rows = steps(t, st, id2)
		if len(rows) != 4 || rows[1].TargetID != "web-1" || string(rows[2].Inputs) != `{"host":"web-2"}` || string(rows[3].Inputs) != `{"duration":"1h"}` {
			t.Errorf("per-target dry run: %s", dumpSteps(t, st, id2))
		}
		time.Sleep(50 * time.Millisecond) // give a wrongly enqueued job the chance to run
		if counter.calls.Load() != 0 {
			t.Errorf("dry run called the action %d times", counter.calls.Load())
		}
	})
}

func TestPanicAndLogCap(t *testing.T) {
	t.Parallel()
	st := drivers[0].open(t)
	seedTenant(t, st)
	acts := newActions(
		&fake{name: "bad", fn: func(context.Context, action.Input) (action.Output, error) { panic("nil map") }},
		&fake{name: "chatty", fn: func(context.Context, action.Input) (action.Output, error) {
			return action.Output{Log: strings.Repeat("x", 100<<10) + "THE END\n"}, nil
		}},
	)
	lib := library(t, acts, `apiVersion: flywheel/v1
kind: Runbook
metadata: {name: p}
spec:
  steps:
    - {name: talk, action: chatty}
    - {name: crash, action: bad}
`)
	n := startNode(t, st, lib, acts, nodeOpts{})
	id := start(t, st, n.x, runbook.StartRequest{Runbook: "p"})
	e := waitStatus(t, st, id, runbook.TerminalStatuses...)
	rows := own(t, st, id)
	if e.Status != runbook.StatusFailed || rows["crash"].Error != "action bad panicked: nil map" {
		t.Errorf("panic: %+v %s", e, dumpSteps(t, st, id))
	}
	if l := rows["talk"].Log; len(l) > 64<<10+64 || !strings.HasSuffix(l, "THE END\n") || !strings.HasPrefix(l, "[… ") {
		t.Errorf("log of %d bytes: %q…", len(l), l[:min(len(l), 40)])
	}
}

func TestCancel(t *testing.T) {
	t.Parallel()
	forEachDriver(t, func(t *testing.T, st store.Store) {
		started := newGate()
		var stopped atomic.Bool
		block := &fake{name: "block", fn: func(ctx context.Context, in action.Input) (action.Output, error) {
			started.open()
			<-ctx.Done()
			stopped.Store(true)
			return action.Output{}, ctx.Err()
		}}
		after := &fake{name: "after"}
		acts := newActions(block, after)
		lib := library(t, acts, `apiVersion: flywheel/v1
kind: Runbook
metadata: {name: long}
spec:
  steps:
    - {name: wait, action: block, timeout: 1h}
    - {name: next, action: after}
---
apiVersion: flywheel/v1
kind: Runbook
metadata: {name: nap}
spec:
  steps:
    - {name: nap, action: sleep, with: {duration: 1h}}
`)
		n := startNode(t, st, lib, acts, nodeOpts{leaseTTL: 300 * time.Millisecond})
		id := start(t, st, n.x, runbook.StartRequest{Runbook: "long"})
		if err := started.wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		e, err := n.x.Cancel(context.Background(), tenant, id, "token:tok_op", "")
		if err != nil || !e.CancelRequested {
			t.Fatalf("Cancel = %+v, %v", e, err)
		}
		e = waitStatus(t, st, id, runbook.TerminalStatuses...)
		rows := own(t, st, id)
		if e.Status != runbook.StatusCancelled || !stopped.Load() || rows["wait"].Status != runbook.StatusCancelled ||
			rows["next"].Status != runbook.StatusCancelled || after.calls.Load() != 0 {
			t.Errorf("%+v %s", e, dumpSteps(t, st, id))
		}
		if _, err := n.x.Cancel(context.Background(), tenant, id, "token:tok_op", ""); !errors.Is(err, execution.ErrState) {
			t.Errorf("second cancel: %v", err)
		}
		// A sleeping execution has no worker: it ends at once.
		nap := start(t, st, n.x, runbook.StartRequest{Runbook: "nap"})
		waitFor(t, "the nap to start", func() bool { return own(t, st, nap)["nap"].Status == runbook.StatusRunning })
		waitFor(t, "the lease to be released", func() bool {
			e, _ := st.GetExecution(context.Background(), tenant, nap)
			return e.DueAt.Year() < 9000 && e.DueAt.After(time.Now().Add(30*time.Minute))
		})
		e, err = n.x.Cancel(context.Background(), tenant, nap, "token:tok_op", "not needed")
		if err != nil || e.Status != runbook.StatusCancelled || e.Error != "cancelled by token:tok_op" {
			t.Errorf("cancel sleeping: %+v %v", e, err)
		}
		if recs := auditOf(t, st, nap); countActions(recs, "execution.cancel") != 1 || recs[len(recs)-2].Actor != "token:tok_op" {
			t.Errorf("cancel not audited")
		}
	})
}

func TestSleepIsDurable(t *testing.T) {
	t.Parallel()
	forEachDriver(t, func(t *testing.T, st store.Store) {
		after := &fake{name: "after"}
		acts := newActions(after)
		lib := library(t, acts, `apiVersion: flywheel/v1
kind: Runbook
metadata: {name: nap}
spec:
  parameters: [{name: d, type: duration, default: 300ms}]
  steps:
    - {name: nap, action: sleep, with: {duration: "${{ params.d }}"}}
    - {name: next, action: after}
`)
		n := startNode(t, st, lib, acts, nodeOpts{})
		begin := time.Now()
		id := start(t, st, n.x, runbook.StartRequest{Runbook: "nap"})
		e := waitStatus(t, st, id, runbook.TerminalStatuses...)
		rows := own(t, st, id)
		if e.Status != runbook.StatusSucceeded || after.calls.Load() != 1 || time.Since(begin) < 300*time.Millisecond ||
			rows["nap"].EndedAt.Sub(rows["nap"].StartedAt) < 300*time.Millisecond {
			t.Errorf("%+v %s", e, dumpSteps(t, st, id))
		}
	})
}

// jsonEq compares JSON texts.
func jsonEq(t *testing.T, got []byte, want string) bool {
	t.Helper()
	var a, b any
	if err := json.Unmarshal(got, &a); err != nil {
		return false
	}
	if err := json.Unmarshal([]byte(want), &b); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(a, b)
}
