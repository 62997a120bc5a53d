package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

func newExecution(tenant string, i int) store.Execution {
	at := t0.Add(time.Duration(i) * time.Second)
	return store.Execution{
		ID: store.NewID("ex", at), TenantID: tenant, Runbook: fmt.Sprintf("rb-%d", i%2), RunbookVersion: 3,
		Status: "pending", Parameters: json.RawMessage(`{"mount":"/"}`), Targets: json.RawMessage(`[{"id":"web-1"}]`),
		OpsItemID: fmt.Sprintf("oi_%d", i%3), StartedBy: "token:tok_1", Mode: "auto", Seq: -1, NextSeq: 3,
		DueAt: at, CreatedAt: at, UpdatedAt: at,
	}
}

func testExecutions(t *testing.T, s store.Store) {
	ctx := context.Background()
	mkTenant(t, s, "acme")
	mkTenant(t, s, "globex")
	var all []store.Execution
	for i := range 6 {
		e := newExecution("acme", i)
		if i == 5 {
			e.Status, e.DryRun, e.Rule, e.ParentID, e.ParentSeq, e.Depth = "succeeded", true, "disk-full", all[0].ID, 2, 1
			e.Outputs, e.Error = json.RawMessage(`{"freed":12}`), "step x: boom"
			e.StartedAt, e.EndedAt = t0.Add(time.Minute), t0.Add(2*time.Minute)
		}
		mustTx(t, s, func(tx store.Tx) error { return tx.CreateExecution(ctx, e) })
		all = append(all, e)
	}
	foreign := newExecution("globex", 9)
	mustTx(t, s, func(tx store.Tx) error { return tx.CreateExecution(ctx, foreign) })

	for _, want := range []store.Execution{all[0], all[5], foreign} {
		got, err := s.GetExecution(ctx, want.TenantID, want.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("GetExecution =\n%+v\nwant\n%+v", got, want)
		}
	}
	if _, err := s.GetExecution(ctx, "globex", all[0].ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetExecution across tenants: %v", err)
	}
	if err := s.InTx(ctx, func(tx store.Tx) error { return tx.CreateExecution(ctx, all[0]) }); !errors.Is(err, store.ErrConflict) {
		t.Errorf("duplicate execution: %v", err)
	}

	list := func(f store.ExecutionFilter, page store.Page) ([]string, string) {
		t.Helper()
		l, next, err := s.ListExecutions(ctx, "acme", f, page)
		if err != nil {
			t.Fatal(err)
		}
		ids := make([]string, len(l))
		for i, e := range l {
			ids[i] = e.ID
		}
		return ids, next
	}
	ids, _ := list(store.ExecutionFilter{}, store.Page{})
	if len(ids) != 6 || ids[0] != all[5].ID || ids[5] != all[0].ID {
		t.Errorf("list = %v, want newest first", ids)
	}
	p1, next := list(store.ExecutionFilter{}, store.Page{Limit: 4})
	p2, next2 := list(store.ExecutionFilter{}, store.Page{Limit: 4, Cursor: next})
	if len(p1) != 4 || len(p2) != 2 || next2 != "" || p2[1] != all[0].ID {
		t.Errorf("pages %v %v", p1, p2)
	}
	for _, tc := range []struct {
		f    store.ExecutionFilter
		want int
	}{
		{store.ExecutionFilter{Status: "succeeded"}, 1},
		{store.ExecutionFilter{Runbook: "rb-0"}, 3},
		{store.ExecutionFilter{OpsItemID: "oi_1"}, 2},
		{store.ExecutionFilter{ParentID: all[0].ID}, 1},
		{store.ExecutionFilter{Status: "pending", Runbook: "rb-1"}, 2},
	} {
		if ids, _ := list(tc.f, store.Page{}); len(ids) != tc.want {
			t.Errorf("filter %+v: %d executions, want %d", tc.f, len(ids), tc.want)
		}
	}

	// Lock, update: every mutable field round-trips.
	e := all[1]
	mustTx(t, s, func(tx store.Tx) error {
		got, err := tx.LockExecution(ctx, "acme", e.ID)
		if err != nil {
			return err
		}
		got.Status, got.Cursor, got.Seq, got.NextSeq, got.CancelRequested = "running", 2, 4, 5, true
		got.StartedAt, got.UpdatedAt, got.DueAt = t0.Add(time.Hour), t0.Add(time.Hour), t0.Add(2*time.Hour)
		got.Outputs, got.Error, got.Targets = json.RawMessage(`{"a":[1,2]}`), "e", json.RawMessage(`[]`)
		e = got
		return tx.UpdateExecution(ctx, got)
	})
	if got, _ := s.GetExecution(ctx, "acme", e.ID); !reflect.DeepEqual(got, e) {
		t.Errorf("after update =\n%+v\nwant\n%+v", got, e)
	}
	err := s.InTx(ctx, func(tx store.Tx) error { _, err := tx.LockExecution(ctx, "globex", e.ID); return err })
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("LockExecution across tenants: %v", err)
	}
	err = s.InTx(ctx, func(tx store.Tx) error { x := e; x.TenantID = "globex"; return tx.UpdateExecution(ctx, x) })
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateExecution across tenants: %v", err)
	}
}

func testExecutionLease(t *testing.T, s store.Store) {
	ctx := context.Background()
	mkTenant(t, s, "acme")
	e := newExecution("acme", 1)
	e.Status = "running"
	mustTx(t, s, func(tx store.Tx) error { return tx.CreateExecution(ctx, e) })
	lease := func(owner string, now time.Time) bool {
		t.Helper()
		var ok bool
		mustTx(t, s, func(tx store.Tx) error {
			var err error
			ok, err = tx.LeaseExecution(ctx, "acme", e.ID, owner, now, now.Add(time.Minute))
			return err
		})
		return ok
	}
	if !lease("w1", t0) {
		t.Fatal("free lease not taken")
	}
	if lease("w2", t0.Add(30*time.Second)) {
		t.Error("w2 took w1's live lease")
	}
	if !lease("w1", t0.Add(30*time.Second)) {
		t.Error("w1 could not extend its own lease")
	}
	// Overdue: pending or running, unleased, due before the cut-off.
	overdue := func(now time.Time) int {
		t.Helper()
		l, err := s.OverdueExecutions(ctx, now, now.Add(-time.Minute), 10)
		if err != nil {
			t.Fatal(err)
		}
		return len(l)
	}
	if n := overdue(t0.Add(time.Minute)); n != 0 {
		t.Errorf("leased execution listed as overdue (%d)", n)
	}
	if n := overdue(t0.Add(time.Hour)); n != 1 {
		t.Errorf("expired lease: %d overdue, want 1", n)
	}
	if !lease("w2", t0.Add(2*time.Minute)) {
		t.Error("w2 could not take the expired lease")
	}
	mustTx(t, s, func(tx store.Tx) error { return tx.ReleaseExecution(ctx, "acme", e.ID, "w1") })
	if lease("w3", t0.Add(2*time.Minute)) {
		t.Error("release by a former holder freed w2's lease")
	}
	mustTx(t, s, func(tx store.Tx) error { return tx.ReleaseExecution(ctx, "acme", e.ID, "w2") })
	if !lease("w3", t0.Add(2*time.Minute)) {
		t.Error("released lease not free")
	}
}

func testExecutionSteps(t *testing.T, s store.Store) {
	ctx := context.Background()
	mkTenant(t, s, "acme")
	mkTenant(t, s, "globex")
	e := newExecution("acme", 1)
	mustTx(t, s, func(tx store.Tx) error { return tx.CreateExecution(ctx, e) })
	var steps []store.ExecutionStep
	for i := range 3 {
		steps = append(steps, store.ExecutionStep{TenantID: "acme", ExecutionID: e.ID, Seq: i, Index: i, Name: fmt.Sprintf("s%d", i), Action: "exec", Status: "pending"})
	}
	// 150 targets of step 1: more than one INSERT batch.
	for i := range 150 {
		steps = append(steps, store.ExecutionStep{TenantID: "acme", ExecutionID: e.ID, Seq: 1, Index: 1, Name: "s1", Action: "exec",
			TargetID: fmt.Sprintf("host-%03d", i), Status: "pending"})
	}
	mustTx(t, s, func(tx store.Tx) error { return tx.PutExecutionSteps(ctx, steps) })
	got, err := s.ListExecutionSteps(ctx, "acme", e.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 153 || got[0].Name != "s0" || got[1].TargetID != "" || got[2].TargetID != "host-000" || got[152].Name != "s2" {
		t.Fatalf("steps: %d rows, first %+v %+v %+v", len(got), got[0], got[1], got[2])
	}
	// Replace one: every field round-trips.
	up := store.ExecutionStep{TenantID: "acme", ExecutionID: e.ID, Seq: 1, Index: 1, Name: "s1", Action: "exec", TargetID: "host-007",
		Status: "failed", Attempt: 3, StartedAt: t0, EndedAt: t0.Add(time.Second), WakeAt: t0.Add(time.Hour),
		Inputs: json.RawMessage(`{"command":"df"}`), Outputs: json.RawMessage(`{"used":91}`), Log: "line 1\nline 2\n", Error: "exit status 1"}
	mustTx(t, s, func(tx store.Tx) error { return tx.PutExecutionSteps(ctx, []store.ExecutionStep{up}) })
	got, _ = s.ListExecutionSteps(ctx, "acme", e.ID)
	if len(got) != 153 || !reflect.DeepEqual(got[9], up) {
		t.Errorf("replaced row = %+v\nwant %+v", got[9], up)
	}
	if l, err := s.ListExecutionSteps(ctx, "globex", e.ID); err != nil || len(l) != 0 {
		t.Errorf("steps across tenants: %v, %v", l, err)
	}

	// Approvals: one decision per approver per gate, in order.
	a1 := store.Approval{TenantID: "acme", ExecutionID: e.ID, Seq: -1, Approver: "token:tok_a", Decision: "approve", Comment: "go", At: t0}
	a2 := store.Approval{TenantID: "acme", ExecutionID: e.ID, Seq: 2, Step: "s2", Approver: "token:tok_a", Decision: "deny", At: t0.Add(time.Second)}
	mustTx(t, s, func(tx store.Tx) error { return tx.AddApproval(ctx, a1) })
	mustTx(t, s, func(tx store.Tx) error { return tx.AddApproval(ctx, a2) })
	if err := s.InTx(ctx, func(tx store.Tx) error { return tx.AddApproval(ctx, a1) }); !errors.Is(err, store.ErrConflict) {
		t.Errorf("second decision by the same approver: %v", err)
	}
	as, err := s.ListApprovals(ctx, "acme", e.ID)
	if err != nil || !reflect.DeepEqual(as, []store.Approval{a1, a2}) {
		t.Errorf("approvals = %+v, %v", as, err)
	}
	if l, _ := s.ListApprovals(ctx, "globex", e.ID); len(l) != 0 {
		t.Errorf("approvals across tenants: %v", l)
	}
}
