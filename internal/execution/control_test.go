package execution_test

import (
	"context"
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

// seedOpsItem makes an OpsItem with two related resources.
func seedOpsItem(t *testing.T, st store.Store) store.OpsItem {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	o := store.OpsItem{ID: store.NewID("oi", now), TenantID: tenant, Title: "disk full on web-1", Category: "monitoring", Severity: "high",
		Status: "open", Source: "test", CreatedAt: now, UpdatedAt: now, OperationalData: []byte(`{"source":"prometheus"}`)}
	err := st.InTx(ctx, func(tx store.Tx) error {
		if err := tx.CreateOpsItem(ctx, o); err != nil {
			return err
		}
		for _, id := range []string{"web-1", "web-2"} {
			if err := tx.AddOpsItemResource(ctx, tenant, o.ID, store.OpsItemResource{Type: "host", ID: id}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

const onOpsItem = `apiVersion: flywheel/v1
kind: Runbook
metadata: {name: cleanup}
spec:
  targets: {from: opsitem}
  outputs: {freed: steps.clean.outputs.succeeded}
  steps:
    - name: clean
      action: clean
      per_target: true
      with: {host: "${{ target.id }}", why: "${{ opsitem.title }}"}
    - name: record
      action: collect
      with: {name: cleanup, value: "{'hosts': steps.clean.outputs.succeeded, 'from': opsitem.data.source}"}
    - name: close
      action: opsitem
      with: {resolve: true, note: "cleaned ${{ steps.clean.outputs.succeeded }} hosts"}
`

// TestOpsItemSteps: targets come from the OpsItem's resources, collect
// lands in its operational data, the opsitem step resolves it as
// automation, and the timeline says so.
func TestOpsItemSteps(t *testing.T) {
	t.Parallel()
	forEachDriver(t, func(t *testing.T, st store.Store) {
		acts := newActions(&fake{name: "clean"})
		n := startNode(t, st, library(t, acts, onOpsItem), acts, nodeOpts{})
		o := seedOpsItem(t, st)
		id := start(t, st, n.x, runbook.StartRequest{Runbook: "cleanup", OpsItemID: o.ID})
		e := waitStatus(t, st, id, runbook.TerminalStatuses...)
		if e.Status != runbook.StatusSucceeded || string(e.Outputs) != `{"freed":2}` {
			t.Fatalf("%+v\n%s", e, dumpSteps(t, st, id))
		}
		rows := steps(t, st, id)
		if rows[1].TargetID != "web-1" || string(rows[1].Inputs) != `{"host":"web-1","why":"disk full on web-1"}` {
			t.Errorf("target rows: %s", dumpSteps(t, st, id))
		}
		got, _ := st.GetOpsItem(context.Background(), tenant, o.ID)
		if got.Status != "resolved" || got.ResolvedBy != "automation:runbook:cleanup" || got.ResolvedAt == nil ||
			!jsonEq(t, got.OperationalData, `{"source":"prometheus","cleanup":{"hosts":2,"from":"prometheus"}}`) {
			t.Errorf("OpsItem: %+v %s", got, got.OperationalData)
		}
		tl, _ := st.ListTimeline(context.Background(), tenant, o.ID)
		var lines []string
		for _, e := range tl {
			lines = append(lines, e.Kind+": "+e.Message)
		}
		all := strings.Join(lines, "\n")
		for _, want := range []string{"runbook: Runbook cleanup started", "diagnostics: Runbook cleanup collected cleanup",
			"status: Resolved by runbook cleanup", "note: cleaned 2 hosts", "runbook: Runbook cleanup succeeded"} {
			if !strings.Contains(all, want) {
				t.Errorf("timeline lacks %q:\n%s", want, all)
			}
		}
		if recs := auditOf(t, st, id); countActions(recs, "opsitem.update") != 1 {
			t.Error("the OpsItem change is not audited")
		}
		// Suggest mode runs nothing and says so on the OpsItem.
		if id, err := startErr(st, n.x, runbook.StartRequest{Runbook: "cleanup", OpsItemID: o.ID, Mode: runbook.ModeSuggest, Rule: "disk-full"}); err != nil || id != "" {
			t.Errorf("suggest: %q %v", id, err)
		}
		tl, _ = st.ListTimeline(context.Background(), tenant, o.ID)
		if last := tl[len(tl)-1]; last.Kind != "suggestion" || last.Message != "Suggested runbook: cleanup (rule disk-full)" {
			t.Errorf("suggestion: %+v", last)
		}
	})
}

const nested = `apiVersion: flywheel/v1
kind: Runbook
metadata: {name: parent}
spec:
  parameters: [{name: fail, type: bool, default: false}]
  outputs: {child: steps.sub.outputs.outputs.doubled}
  steps:
    - {name: sub, action: runbook, with: {name: child, parameters: {n: 21, fail: "${{ params.fail }}"}}, on_failure: continue}
    - {name: after, action: assert, with: {that: "steps.sub.status == 'succeeded'"}}
---
apiVersion: flywheel/v1
kind: Runbook
metadata: {name: child}
spec:
  parameters: [{name: n, type: int}, {name: fail, type: bool}]
  outputs: {doubled: params.n * 2}
  steps:
    - {name: check, action: assert, with: {that: "!params.fail", message: "asked to fail"}}
`

func TestNestedRunbook(t *testing.T) {
	t.Parallel()
	forEachDriver(t, func(t *testing.T, st store.Store) {
		acts := newActions()
		n := startNode(t, st, library(t, acts, nested), acts, nodeOpts{})
		id := start(t, st, n.x, runbook.StartRequest{Runbook: "parent"})
		e := waitStatus(t, st, id, runbook.TerminalStatuses...)
		if e.Status != runbook.StatusSucceeded || string(e.Outputs) != `{"child":42}` {
			t.Fatalf("%+v\n%s", e, dumpSteps(t, st, id))
		}
		kids, _, _ := st.ListExecutions(context.Background(), tenant, store.ExecutionFilter{ParentID: id}, store.Page{})
		if len(kids) != 1 || kids[0].Runbook != "child" || kids[0].Depth != 1 || kids[0].StartedBy != "execution:"+id || kids[0].Status != runbook.StatusSucceeded {
			t.Errorf("child: %+v", kids)
		}
		id = start(t, st, n.x, runbook.StartRequest{Runbook: "parent", Parameters: map[string]any{"fail": true}})
		e = waitStatus(t, st, id, runbook.TerminalStatuses...)
		sub := own(t, st, id)["sub"]
		if e.Status != runbook.StatusFailed || sub.Status != runbook.StatusFailed || !strings.Contains(sub.Error, "failed: step check failed: assertion failed: asked to fail") {
			t.Errorf("failing child: %+v\n%s", e, dumpSteps(t, st, id))
		}
	})
}

func TestWaitFor(t *testing.T) {
	t.Parallel()
	forEachDriver(t, func(t *testing.T, st store.Store) {
		var probes atomic.Int64
		probe := &fake{name: "probe", fn: func(_ context.Context, in action.Input) (action.Output, error) {
			n := probes.Add(1)
			if n == 2 {
				return action.Output{}, errBoom // a probe may fail while the service comes back
			}
			return action.Output{Values: map[string]any{"healthy": n >= in.With["after"].(int64)}}, nil
		}}
		acts := newActions(probe)
		lib := library(t, acts, `apiVersion: flywheel/v1
kind: Runbook
metadata: {name: wait}
spec:
  parameters: [{name: after, type: int}]
  steps:
    - name: healthy
      action: wait_for
      with:
        probe: {action: probe, with: {after: "${{ params.after }}"}}
        condition: probe.ok && probe.outputs.healthy
        interval: 10ms
        timeout: 500ms
`)
		n := startNode(t, st, lib, acts, nodeOpts{})
		id := start(t, st, n.x, runbook.StartRequest{Runbook: "wait", Parameters: map[string]any{"after": 4}})
		e := waitStatus(t, st, id, runbook.TerminalStatuses...)
		row := own(t, st, id)["healthy"]
		if e.Status != runbook.StatusSucceeded || row.Attempt != 4 || string(row.Outputs) != `{"healthy":true}` {
			t.Errorf("%+v %s", e, dumpSteps(t, st, id))
		}
		id = start(t, st, n.x, runbook.StartRequest{Runbook: "wait", Parameters: map[string]any{"after": 1_000_000}})
		e = waitStatus(t, st, id, runbook.TerminalStatuses...)
		if row := own(t, st, id)["healthy"]; e.Status != runbook.StatusFailed || !strings.Contains(row.Error, "not met within 500ms") {
			t.Errorf("never healthy: %+v %s", e, dumpSteps(t, st, id))
		}
	})
}

type results struct {
	mu  sync.Mutex
	got []string
}

func (r *results) RecordResult(_ context.Context, _ store.Tx, e store.Execution) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, fmt.Sprintf("%s/%s=%s", e.TenantID, e.Rule, e.Status))
	return nil
}

func (r *results) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got...)
}

// TestRuleResults: top-level executions report their outcome to the rule
// engine, in the transaction that ends them — a rule's and a person's
// (whose success closes breakers); denials, cancellations and dry runs
// do not.
func TestRuleResults(t *testing.T) {
	t.Parallel()
	st := drivers[0].open(t)
	seedTenant(t, st)
	acts := newActions()
	lib := library(t, acts, `apiVersion: flywheel/v1
kind: Runbook
metadata: {name: check}
spec:
  parameters: [{name: ok, type: bool}]
  steps: [{name: a, action: assert, with: {that: params.ok}}]
`)
	n := startNode(t, st, lib, acts, nodeOpts{})
	rec := &results{}
	n.x.SetResults(rec)
	for _, tc := range []runbook.StartRequest{
		{Runbook: "check", Rule: "r1", Parameters: map[string]any{"ok": true}},
		{Runbook: "check", Rule: "r1", Parameters: map[string]any{"ok": false}},
		{Runbook: "check", Parameters: map[string]any{"ok": false}},
		{Runbook: "check", Rule: "r2", DryRun: true, Parameters: map[string]any{"ok": false}},
	} {
		waitStatus(t, st, start(t, st, n.x, tc), runbook.TerminalStatuses...)
	}
	id := start(t, st, n.x, runbook.StartRequest{Runbook: "check", Rule: "r3", Mode: runbook.ModeApproval, Parameters: map[string]any{"ok": true}})
	if _, err := n.x.Deny(context.Background(), tenant, id, execution.Approver{Actor: "token:tok_a", Role: store.RoleAdmin}, ""); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rec.list(), " "); got != "acme/r1=succeeded acme/r1=failed acme/=failed" {
		t.Errorf("results = %s", got)
	}
}

// TestRunbookChanged: an execution whose runbook changed version while it
// waited ends as failed rather than resume at an index that may now be
// another step.
func TestRunbookChanged(t *testing.T) {
	t.Parallel()
	st := drivers[0].open(t)
	seedTenant(t, st)
	doc := `apiVersion: flywheel/v1
kind: Runbook
metadata: {name: gate}
spec:
  version: VERSION
  steps:
    - {name: ok, action: approve}
    - {name: act, action: assert, with: {that: "true"}}
`
	acts := newActions()
	n1 := startNode(t, st, library(t, acts, strings.Replace(doc, "VERSION", "1", 1)), acts, nodeOpts{})
	id := start(t, st, n1.x, runbook.StartRequest{Runbook: "gate"})
	waitStatus(t, st, id, runbook.StatusWaitingApproval)
	n1.kill(t)
	n2 := startNode(t, st, library(t, acts, strings.Replace(doc, "VERSION", "2", 1)), acts, nodeOpts{})
	_, err := n2.x.Approve(context.Background(), tenant, id, execution.Approver{Actor: "token:tok_a", Role: store.RoleAdmin}, "")
	e, _ := st.GetExecution(context.Background(), tenant, id)
	if err == nil || !strings.Contains(err.Error(), "changed from version 1 to 2") || e.Status != runbook.StatusFailed ||
		own(t, st, id)["act"].Status != runbook.StepSkipped {
		t.Errorf("approve after a change: %v; %+v\n%s", err, e, dumpSteps(t, st, id))
	}
}
