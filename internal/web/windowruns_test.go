package web

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

// TestWindowPages: a window with a cron schedule and tasks shows its
// tasks, its next openings in its zone's wall time (UTC on the page) and
// its runs; a run shows each task's result on each target with its
// execution; another tenant gets 404s.
func TestWindowPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	w := store.MaintenanceWindow{ID: "mw_test1", TenantID: "acme", Name: "patch-web", Timezone: "Europe/Berlin",
		Schedule: store.MaintenanceSchedule{Expression: "cron(30 23 ? * TUE#3 *)"}, ScheduleOffset: 2, Duration: "4h", Cutoff: "1h",
		Targets: store.MaintenanceTargets{Tags: map[string]string{"patch-group": "web"}},
		Tasks: []store.MaintenanceTask{{Name: "patch", Runbook: "apt-upgrade", Priority: 1, MaxConcurrency: "2", MaxErrors: "1"},
			{Name: "check", Runbook: "http-check", Priority: 2}},
		CreatedBy: "test", CreatedAt: e.now}
	opening := time.Date(2026, 4, 23, 21, 30, 0, 0, time.UTC)
	ended := opening.Add(time.Hour)
	run := store.WindowRun{ID: "wr_test1", TenantID: "acme", WindowID: w.ID, WindowName: w.Name, Trigger: store.TriggerSchedule, StartedBy: "schedule",
		ScheduledAt: opening, CutoffAt: opening.Add(3 * time.Hour), EndsAt: opening.Add(4 * time.Hour), Status: store.WindowRunFailed,
		Error: "a task failed on res_web2: exit status 1", CreatedAt: opening, UpdatedAt: ended, EndedAt: &ended}
	rows := []store.WindowRunTarget{
		{TenantID: "acme", RunID: run.ID, Task: "patch", TaskIndex: 0, Priority: 1, Position: 0, TargetID: "res_web1", Status: store.WindowRunSucceeded, ExecutionID: "ex_ok1", StartedAt: &opening, EndedAt: &ended},
		{TenantID: "acme", RunID: run.ID, Task: "patch", TaskIndex: 0, Priority: 1, Position: 1, TargetID: "res_web2", Status: store.WindowRunFailed, ExecutionID: "ex_bad2", Error: "exit status 1"},
		{TenantID: "acme", RunID: run.ID, Task: "check", TaskIndex: 1, Priority: 2, Position: 0, TargetID: "res_web1", Status: store.WindowRunSkipped, Error: "task patch failed (on_failure: stop)"},
	}
	if err := e.st.InTx(ctx, func(tx store.Tx) error {
		if err := tx.CreateMaintenanceWindow(ctx, w); err != nil {
			return err
		}
		// res_web1 is a known host, shown by its name; res_web2 is gone, shown by its ID.
		if err := tx.PutResource(ctx, store.Resource{ID: "res_web1", TenantID: "acme", Type: "host", Name: "web-1.example.net", CreatedAt: e.now, UpdatedAt: e.now}); err != nil {
			return err
		}
		return tx.CreateWindowRun(ctx, run, rows)
	}); err != nil {
		t.Fatal(err)
	}
	list := e.get("/maintenance", e.acme)
	wantContains(t, list, `href="/maintenance/mw_test1`, "(2 tasks)", "<code>cron(30 23 ? * TUE#3 *)</code>, Europe/Berlin")
	// On 4 May 2026 the next opening is two days after Tuesday 19 May,
	// 23:30 CEST = 21:30 UTC.
	page := e.get("/maintenance/mw_test1", e.acme)
	wantContains(t, page, "patch-web", `data-task="patch"`, `href="/runbooks/apt-upgrade"`, `data-opening="2026-05-21T21:30:00Z"`,
		"2026-05-22 01:30 UTC", `data-run="wr_test1"`, `href="/maintenance/runs/wr_test1"`, "a task failed on res_web2")
	runPage := e.get("/maintenance/runs/wr_test1", e.acme)
	wantContains(t, runPage, `data-row="patch/res_web1"`, `href="/executions/ex_ok1"`, `data-row="check/res_web1"`,
		"task patch failed (on_failure: stop)", `href="/maintenance/mw_test1"`,
		`<span class="host" title="res_web1">web-1.example.net</span>`, `<code>res_web2</code>`)
	wantStatus(t, e.get("/maintenance/mw_test1", e.globex), http.StatusNotFound)
	wantStatus(t, e.get("/maintenance/runs/wr_test1", e.globex), http.StatusNotFound)
	wantStatus(t, e.get("/maintenance/mw_nope", e.acme), http.StatusNotFound)
}
