package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

func testRuleStates(t *testing.T, s store.Store) {
	ctx := context.Background()
	mkTenant(t, s, "acme")
	mkTenant(t, s, "globex")

	if _, err := s.GetRuleState(ctx, "acme", "isolate"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetRuleState before any: %v, want ErrNotFound", err)
	}
	// LockRuleState creates a zero state, then returns what is stored.
	mustTx(t, s, func(tx store.Tx) error {
		st, err := tx.LockRuleState(ctx, "acme", "isolate", t0)
		if err != nil {
			return err
		}
		if want := (store.RuleState{TenantID: "acme", Rule: "isolate", UpdatedAt: t0}); !reflect.DeepEqual(st, want) || st.BreakerOpen() {
			t.Errorf("new state = %+v, want %+v", st, want)
		}
		st.Failures, st.BreakerOpenedAt, st.BreakerOpsItemID, st.UpdatedAt = 3, t0.Add(time.Minute), "oi_1", t0.Add(time.Minute)
		return tx.PutRuleState(ctx, st)
	})
	want := store.RuleState{TenantID: "acme", Rule: "isolate", Failures: 3, BreakerOpenedAt: t0.Add(time.Minute),
		BreakerOpsItemID: "oi_1", UpdatedAt: t0.Add(time.Minute)}
	mustTx(t, s, func(tx store.Tx) error {
		st, err := tx.LockRuleState(ctx, "acme", "isolate", t0.Add(time.Hour))
		if !reflect.DeepEqual(st, want) || !st.BreakerOpen() {
			t.Errorf("locked existing state = %+v, want %+v", st, want)
		}
		return err
	})
	if got, err := s.GetRuleState(ctx, "acme", "isolate"); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("GetRuleState = %+v, %v", got, err)
	}
	if _, err := s.GetRuleState(ctx, "globex", "isolate"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetRuleState across tenants: %v, want ErrNotFound", err)
	}
	// PutRuleState creates too, and replaces.
	mustTx(t, s, func(tx store.Tx) error {
		return tx.PutRuleState(ctx, store.RuleState{TenantID: "acme", Rule: "disable-key", Failures: 1, UpdatedAt: t0})
	})
	mustTx(t, s, func(tx store.Tx) error {
		return tx.PutRuleState(ctx, store.RuleState{TenantID: "acme", Rule: "isolate", UpdatedAt: t0.Add(2 * time.Hour)})
	})
	list, err := s.ListRuleStates(ctx, "acme")
	if err != nil || len(list) != 2 || list[0].Rule != "disable-key" || list[1].Rule != "isolate" ||
		list[1].Failures != 0 || list[1].BreakerOpen() || list[1].BreakerOpsItemID != "" {
		t.Errorf("ListRuleStates = %+v, %v", list, err)
	}
	if list, err := s.ListRuleStates(ctx, "globex"); err != nil || len(list) != 0 {
		t.Errorf("ListRuleStates(globex) = %+v, %v", list, err)
	}

	// Concurrent transactions for one rule take turns: each reads the
	// failures the previous one wrote, so none is lost.
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.InTx(ctx, func(tx store.Tx) error {
				st, err := tx.LockRuleState(ctx, "globex", "counted", t0)
				if err != nil {
					return err
				}
				st.Failures++
				return tx.PutRuleState(ctx, st)
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if st, err := s.GetRuleState(ctx, "globex", "counted"); err != nil || st.Failures != n {
		t.Errorf("after %d concurrent increments: %+v, %v", n, st, err)
	}
}

func testRuleRuns(t *testing.T, s store.Store) {
	ctx := context.Background()
	mkTenant(t, s, "acme")
	mkTenant(t, s, "globex")
	runs := []store.RuleRun{
		{TenantID: "acme", Rule: "isolate", OpsItemID: "oi_1", At: t0, Action: "run", ExecutionID: "ex_1"},
		{TenantID: "acme", Rule: "isolate", OpsItemID: "oi_1", At: t0.Add(time.Minute), Action: "suggest"},
		{TenantID: "acme", Rule: "isolate", OpsItemID: "oi_2", At: t0.Add(2 * time.Minute), Action: "run", ExecutionID: "ex_2"},
		{TenantID: "acme", Rule: "notify", OpsItemID: "oi_1", At: t0.Add(3 * time.Minute), Action: "notify"},
		{TenantID: "globex", Rule: "isolate", OpsItemID: "oi_1", At: t0.Add(4 * time.Minute), Action: "run"},
	}
	mustTx(t, s, func(tx store.Tx) error {
		for _, r := range runs {
			if err := tx.AddRuleRun(ctx, r); err != nil {
				return err
			}
		}
		return nil
	})
	count := func(tenant, rule string, since time.Time) int64 {
		t.Helper()
		n, err := s.CountRuleRuns(ctx, tenant, rule, since)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if got := count("acme", "isolate", t0); got != 3 {
		t.Errorf("CountRuleRuns(acme, isolate, t0) = %d, want 3", got)
	}
	if got := count("acme", "isolate", t0.Add(time.Minute)); got != 2 {
		t.Errorf("CountRuleRuns from the second run = %d, want 2 (since is inclusive)", got)
	}
	if got := count("globex", "isolate", t0); got != 1 {
		t.Errorf("CountRuleRuns(globex) = %d, want 1", got)
	}
	last, err := s.LastRuleRun(ctx, "acme", "isolate", "oi_1")
	if err != nil || !reflect.DeepEqual(last, runs[1]) {
		t.Errorf("LastRuleRun = %+v, %v; want %+v", last, err, runs[1])
	}
	if _, err := s.LastRuleRun(ctx, "acme", "isolate", "oi_9"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("LastRuleRun of an OpsItem the rule never ran on: %v, want ErrNotFound", err)
	}
	// Activity: the newest run per rule, and the executions rules started
	// (people's executions and other tenants' are not counted).
	mustTx(t, s, func(tx store.Tx) error {
		for i, x := range []store.Execution{
			{TenantID: "acme", Rule: "isolate", StartedBy: "rule:isolate"},
			{TenantID: "acme", Rule: "isolate", StartedBy: "rule:isolate"},
			{TenantID: "acme", StartedBy: "token:tok_1"},
			{TenantID: "acme", Rule: "escalate-only", StartedBy: "rule:escalate-only"},
			{TenantID: "globex", Rule: "isolate", StartedBy: "rule:isolate"},
		} {
			at := t0.Add(time.Duration(i) * time.Hour)
			x.ID, x.Runbook, x.Status, x.CreatedAt, x.UpdatedAt = store.NewID("ex", at), "isolate-instance", "succeeded", at, at
			if err := tx.CreateExecution(ctx, x); err != nil {
				return err
			}
		}
		return nil
	})
	act, err := s.ListRuleActivity(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	wantAct := []store.RuleActivity{
		{Rule: "escalate-only", Executions: 1, LastExecutionAt: t0.Add(3 * time.Hour)},
		{Rule: "isolate", LastActedAt: t0.Add(2 * time.Minute), Executions: 2, LastExecutionAt: t0.Add(time.Hour)},
		{Rule: "notify", LastActedAt: t0.Add(3 * time.Minute)},
	}
	if !reflect.DeepEqual(act, wantAct) {
		t.Errorf("ListRuleActivity = %+v\nwant %+v", act, wantAct)
	}
	mustTx(t, s, func(tx store.Tx) error {
		n, err := tx.PruneRuleRuns(ctx, "acme", "isolate", t0.Add(90*time.Second))
		if n != 2 {
			t.Errorf("PruneRuleRuns deleted %d, want 2", n)
		}
		return err
	})
	if got := count("acme", "isolate", time.Time{}); got != 1 {
		t.Errorf("after pruning: %d runs, want 1", got)
	}
	if got := count("acme", "notify", time.Time{}) + count("globex", "isolate", time.Time{}); got != 2 {
		t.Errorf("pruning touched other rules or tenants: %d runs left of 2", got)
	}
	if _, err := s.LastRuleRun(ctx, "acme", "isolate", "oi_1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("LastRuleRun after pruning: %v, want ErrNotFound", err)
	}
}

// testRuleStateLockOrder: one transaction locks a rule state and then
// appends to the audit log, another appends and then locks the same rule
// state. Both commit: LockRuleState takes the audit lock first, so neither
// can hold one lock while waiting for the other (on PostgreSQL the naive
// order deadlocks and one transaction is aborted).
func testRuleStateLockOrder(t *testing.T, s store.Store) {
	ctx := context.Background()
	mkTenant(t, s, "acme")
	hash := func(r store.AuditRecord) string { return fmt.Sprintf("h%d", r.Seq) }
	rec := func(action string) *store.AuditRecord {
		return &store.AuditRecord{TenantID: "acme", Time: t0, Actor: "rule:r", Action: action, Result: "ok"}
	}
	locked, audited := make(chan struct{}), make(chan struct{})
	errs := make(chan error, 2)
	go func() {
		errs <- s.InTx(ctx, func(tx store.Tx) error {
			if _, err := tx.LockRuleState(ctx, "acme", "r", t0); err != nil {
				return err
			}
			close(locked)
			// Give the other transaction the chance to append first; with
			// the audit lock already held here, it waits instead.
			select {
			case <-audited:
			case <-time.After(200 * time.Millisecond):
			}
			return tx.AppendAudit(ctx, rec("second"), hash)
		})
	}()
	go func() {
		<-locked
		errs <- s.InTx(ctx, func(tx store.Tx) error {
			err := tx.AppendAudit(ctx, rec("first"), hash)
			close(audited)
			if err != nil {
				return err
			}
			_, err = tx.LockRuleState(ctx, "acme", "r", t0)
			return err
		})
	}()
	for range 2 {
		if err := <-errs; err != nil {
			t.Errorf("transaction failed: %v", err)
		}
	}
	if seq, _, err := s.AuditHead(ctx, "acme"); err != nil || seq != 2 {
		t.Errorf("audit head = %d, %v; want 2", seq, err)
	}
}
