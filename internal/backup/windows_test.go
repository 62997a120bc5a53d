package backup_test

import (
	"context"
	"errors"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/backup"
	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/execution"
	"github.com/flywheel-ops/flywheel/internal/maintenance"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/store"
	"github.com/flywheel-ops/flywheel/internal/windowrun"
)

// starts records what the window runner starts (the executor's part).
type starts struct {
	mu   sync.Mutex
	reqs []runbook.StartRequest
}

func (s *starts) Start(_ context.Context, _ store.Tx, req runbook.StartRequest) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs = append(s.reqs, req)
	return store.NewID("ex", time.Now()), nil
}

// TestMissedBackupWindow puts a plan's rule on the maintenance-window
// runner: an opening whose start window passed while no server ran is a
// missed run with an OpsItem; the next opening, on time, starts the
// backup runbook on the selection's resources.
func TestMissedBackupWindow(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	e := newEnv(t, clk.now)
	spec := pgPlan("app", "/var/backups/pg")
	spec.Rules[0].Schedule, spec.Rules[0].StartWindow, spec.Rules[0].CompletionWindow = "cron(0 2 * * ? *)", "1h", "4h"
	spec.RestoreTest = &backup.RestoreTestSpec{Schedule: "cron(0 6 ? * SUN *)"}
	p := e.addPlan(t, "prod-db", spec)
	wins, err := backup.Windows(p, tenant, clk.now())
	if err != nil {
		t.Fatal(err)
	}
	if len(wins) != 2 || wins[0].Name != "backup-prod-db-daily-db" || wins[0].Cutoff != "3h" || wins[0].Duration != "4h" ||
		wins[1].Name != "backup-prod-db-restore-test-db" || wins[1].Tasks[0].Runbook != backup.RestoreTestRunbook {
		t.Fatalf("windows = %+v", wins)
	}
	again, _ := backup.Windows(p, tenant, clk.now().Add(time.Hour))
	if again[0].ID != wins[0].ID {
		t.Errorf("window IDs change between starts: %s, %s", wins[0].ID, again[0].ID)
	}
	// An operator's window of the same schedule, missed at the same time:
	// its OpsItem stays in the operations category.
	plain := wins[0]
	plain.ID, plain.Name, plain.CreatedBy = "mw_plain", "nightly-patch", "token:ops"
	if backup.IsPlanWindow(plain) {
		t.Fatal("an operator's window reads as a plan's")
	}
	if err := e.st.InTx(ctx, func(tx store.Tx) error {
		return errors.Join(tx.CreateMaintenanceWindow(ctx, wins[0]), tx.CreateMaintenanceWindow(ctx, plain))
	}); err != nil {
		t.Fatal(err)
	}
	// The window runs backups and mutes nothing: a host's alerts during
	// its backup still page (the same window without run_only would
	// deflect them).
	stored, err := e.st.GetMaintenanceWindow(ctx, tenant, wins[0].ID)
	if err != nil || !stored.RunOnly {
		t.Fatalf("stored window = %+v, %v; want run_only", stored, err)
	}
	alert := &event.Event{Resources: []event.ResourceRef{{ID: "local"}}}
	during := time.Date(2026, 3, 2, 2, 30, 0, 0, time.UTC)
	deflecting := stored
	deflecting.RunOnly = false
	for _, tc := range []struct {
		rec  store.MaintenanceWindow
		want bool
	}{{stored, false}, {deflecting, true}} {
		set, err := maintenance.Compile([]store.MaintenanceWindow{tc.rec})
		if err != nil {
			t.Fatal(err)
		}
		if _, got := set.Match(alert, during, nil); got != tc.want {
			t.Errorf("run_only %v: deflects the host's alert during the backup: %v, want %v", tc.rec.RunOnly, got, tc.want)
		}
	}
	st := &starts{}
	r, err := windowrun.New(windowrun.Options{Store: e.st, Starter: st, Targets: execution.InventoryTargets{}, Clock: clk.now,
		Category: backup.OpsItemCategory})
	if err != nil {
		t.Fatal(err)
	}
	// The server was down from 01:00 to 03:30 on 2 March: the 02:00
	// opening's start window (to 03:00) passed.
	clk.add(15*time.Hour + 30*time.Minute)
	if err := r.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	runs, _, err := e.st.ListWindowRuns(ctx, tenant, wins[0].ID, store.Page{})
	if err != nil || len(runs) != 1 || runs[0].Status != store.WindowRunMissed || runs[0].OpsItemID == "" {
		t.Fatalf("runs = %+v, %v; want one missed run with an OpsItem", runs, err)
	}
	categories := map[string]string{} // by the window the title names
	for _, it := range e.opsItems(t) {
		for _, name := range []string{"backup-prod-db-daily-db", "nightly-patch"} {
			if strings.Contains(it.Title, "window "+name+" missed") {
				categories[name] = it.Category
			}
		}
		if strings.Contains(it.Title, "backup-prod-db-daily-db") && it.ID != runs[0].OpsItemID {
			t.Errorf("OpsItem %s is not the missed run's %s", it.ID, runs[0].OpsItemID)
		}
	}
	if want := map[string]string{"backup-prod-db-daily-db": "backup", "nightly-patch": "operations"}; !maps.Equal(categories, want) {
		t.Errorf("missed-window OpsItem categories = %v, want %v", categories, want)
	}
	if err := e.st.InTx(ctx, func(tx store.Tx) error { return tx.DeleteMaintenanceWindow(ctx, tenant, plain.ID) }); err != nil {
		t.Fatal(err)
	}
	if len(st.reqs) != 0 {
		t.Errorf("a missed opening started %d executions", len(st.reqs))
	}
	// 3 March 02:10: on time.
	clk.add(22*time.Hour + 40*time.Minute)
	if err := r.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if len(st.reqs) != 1 {
		t.Fatalf("starts = %+v, want the backup runbook once", st.reqs)
	}
	req := st.reqs[0]
	if req.Runbook != backup.Runbook || req.Parameters["plan"] != "prod-db" || req.Parameters["rule"] != "daily" ||
		req.Parameters["selection"] != "db" || len(req.Targets) != 1 || req.Targets[0] != "local" {
		t.Errorf("start = %+v", req)
	}
}
