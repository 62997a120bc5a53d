package storetest

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

func testWindowRuns(t *testing.T, s store.Store) {
	ctx := context.Background()
	mkTenant(t, s, "acme")
	mkTenant(t, s, "globex")
	opening := t0.Add(-time.Hour)
	run := store.WindowRun{ID: store.NewID("wr", t0), TenantID: "acme", WindowID: "mw_1", WindowName: "patching", Trigger: store.TriggerSchedule,
		StartedBy: "schedule", ScheduledAt: opening, CutoffAt: opening.Add(3 * time.Hour), EndsAt: opening.Add(4 * time.Hour),
		Status: store.WindowRunPending, CreatedAt: t0, UpdatedAt: t0}
	var rows []store.WindowRunTarget
	for task, prio := range []int{2, 1} {
		for pos, target := range []string{"host-b", "host-a", "host-c"} {
			rows = append(rows, store.WindowRunTarget{TenantID: "acme", RunID: run.ID, Task: []string{"report", "patch"}[task], TaskIndex: task,
				Priority: prio, Position: pos, TargetID: target, Status: store.WindowRunPending})
		}
	}
	mustTx(t, s, func(tx store.Tx) error { return tx.CreateWindowRun(ctx, run, rows) })

	// The same opening again (another replica) conflicts; a manual run at
	// the same instant does not.
	dup := run
	dup.ID = store.NewID("wr", t0.Add(time.Second))
	if err := s.InTx(ctx, func(tx store.Tx) error { return tx.CreateWindowRun(ctx, dup, nil) }); !errors.Is(err, store.ErrConflict) {
		t.Errorf("second run of one opening: %v, want ErrConflict", err)
	}
	manual := dup
	manual.Trigger, manual.StartedBy = store.TriggerManual, "token:tok_1"
	mustTx(t, s, func(tx store.Tx) error { return tx.CreateWindowRun(ctx, manual, nil) })
	older := run
	older.ID, older.ScheduledAt, older.Status = store.NewID("wr", t0.Add(-24*time.Hour)), opening.Add(-24*time.Hour), store.WindowRunMissed
	older.OpsItemID = "oi_1"
	mustTx(t, s, func(tx store.Tx) error { return tx.CreateWindowRun(ctx, older, nil) })

	got, err := s.GetWindowRun(ctx, "acme", run.ID)
	if err != nil || !reflect.DeepEqual(got, run) {
		t.Errorf("GetWindowRun = %+v, %v\nwant %+v", got, err, run)
	}
	if _, err := s.GetWindowRun(ctx, "globex", run.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetWindowRun across tenants: %v", err)
	}
	if l, err := s.LatestWindowRun(ctx, "acme", "mw_1"); err != nil || l.ID != run.ID {
		t.Errorf("LatestWindowRun = %s, %v; want %s (scheduled runs only, latest opening)", l.ID, err, run.ID)
	}
	if _, err := s.LatestWindowRun(ctx, "acme", "mw_2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("LatestWindowRun of a window without runs: %v", err)
	}
	list, next, err := s.ListWindowRuns(ctx, "acme", "mw_1", store.Page{Limit: 2})
	if err != nil || len(list) != 2 || next == "" || list[0].ID != manual.ID || list[1].ID != run.ID {
		t.Errorf("ListWindowRuns page 1 = %v, %q, %v", list, next, err)
	}
	if list, _, err := s.ListWindowRuns(ctx, "acme", "mw_1", store.Page{Limit: 2, Cursor: next}); err != nil || len(list) != 1 || list[0].ID != older.ID {
		t.Errorf("ListWindowRuns page 2 = %v, %v", list, err)
	}
	if list, _, _ := s.ListWindowRuns(ctx, "globex", "", store.Page{}); len(list) != 0 {
		t.Errorf("another tenant's runs: %v", list)
	}

	active, err := s.ActiveWindowRuns(ctx, 10)
	if err != nil || len(active) != 2 || active[0].ID != run.ID || active[1].ID != manual.ID {
		t.Errorf("ActiveWindowRuns = %v, %v; want the pending run and the manual one, oldest first", active, err)
	}

	// Rows come back by priority, task, position.
	got2, err := s.ListWindowRunTargets(ctx, "acme", run.ID)
	if err != nil || len(got2) != 6 {
		t.Fatalf("ListWindowRunTargets = %v, %v", got2, err)
	}
	want := append(append([]store.WindowRunTarget{}, rows[3:]...), rows[:3]...)
	if !reflect.DeepEqual(got2, want) {
		t.Errorf("rows = %+v\nwant %+v", got2, want)
	}

	// Lock, then update the run and a row.
	started, ended := t0.Add(time.Minute), t0.Add(2*time.Minute)
	mustTx(t, s, func(tx store.Tx) error {
		r, err := tx.LockWindowRun(ctx, "acme", run.ID)
		if err != nil {
			return err
		}
		r.Status, r.UpdatedAt = store.WindowRunRunning, started
		if err := tx.UpdateWindowRun(ctx, r); err != nil {
			return err
		}
		row := got2[0]
		row.Status, row.ExecutionID, row.Error, row.StartedAt, row.EndedAt = store.WindowRunFailed, "ex_1", "exit 1", &started, &ended
		return tx.UpdateWindowRunTarget(ctx, row)
	})
	err = s.InTx(ctx, func(tx store.Tx) error {
		_, err := tx.LockWindowRun(ctx, "globex", run.ID)
		return err
	})
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("LockWindowRun across tenants: %v", err)
	}
	got3, _ := s.ListWindowRunTargets(ctx, "acme", run.ID)
	if r := got3[0]; r.Status != store.WindowRunFailed || r.ExecutionID != "ex_1" || r.Error != "exit 1" || !r.StartedAt.Equal(started) || !r.EndedAt.Equal(ended) {
		t.Errorf("updated row = %+v", r)
	}
	if r := got3[1]; r.Status != store.WindowRunPending || r.StartedAt != nil {
		t.Errorf("untouched row = %+v", r)
	}
	if r, _ := s.GetWindowRun(ctx, "acme", run.ID); r.Status != store.WindowRunRunning || !r.UpdatedAt.Equal(started) {
		t.Errorf("updated run = %+v", r)
	}
	missing := run
	missing.ID = "wr_missing"
	if err := s.InTx(ctx, func(tx store.Tx) error { return tx.UpdateWindowRun(ctx, missing) }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateWindowRun of no run: %v", err)
	}
	// Ended runs are no longer active.
	mustTx(t, s, func(tx store.Tx) error {
		r, _ := tx.LockWindowRun(ctx, "acme", manual.ID)
		r.Status, r.EndedAt = store.WindowRunSucceeded, &ended
		return tx.UpdateWindowRun(ctx, r)
	})
	if active, _ := s.ActiveWindowRuns(ctx, 10); len(active) != 1 || active[0].ID != run.ID {
		t.Errorf("ActiveWindowRuns after one ended = %v", active)
	}
}
