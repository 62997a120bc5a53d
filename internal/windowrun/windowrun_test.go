package windowrun

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/riverqueue/river"

	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/execution"
	"github.com/flywheel-ops/flywheel/internal/maintenance"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/runbook/action"
	"github.com/flywheel-ops/flywheel/internal/store"
	"github.com/flywheel-ops/flywheel/internal/store/postgres"
	"github.com/flywheel-ops/flywheel/internal/store/sqlite/sqlitetest"
)

const tenant = "acme"

// noop is the runbooks' one action; executions never run here (no job
// worker): the tests end them by hand, as a worker would.
type noop struct{}

func (noop) Name() string                  { return "noop" }
func (noop) Validate(map[string]any) error { return nil }
func (noop) Run(context.Context, action.Input) (action.Output, error) {
	return action.Output{}, nil
}

// held keeps the jobs the executor enqueues; none is worked.
type held struct{}

func (held) InsertTx(context.Context, store.Tx, river.JobArgs, *river.InsertOpts) error { return nil }

// clock is the injected time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

type fixture struct {
	t   *testing.T
	st  store.Store
	x   *execution.Executor
	r   *Runner
	clk *clock
}

func newFixture(t *testing.T, at time.Time) *fixture {
	t.Helper()
	return newFixtureOn(t, sqlitetest.Open(t), at, true)
}

// newFixtureOn builds a runner (its own executor: a "replica") over st,
// creating the tenant when first.
func newFixtureOn(t *testing.T, st store.Store, at time.Time, first bool) *fixture {
	t.Helper()
	ctx := context.Background()
	if first {
		if err := st.InTx(ctx, func(tx store.Tx) error {
			return tx.CreateTenant(ctx, store.Tenant{ID: tenant, Name: "ACME", CreatedAt: at})
		}); err != nil {
			t.Fatal(err)
		}
	}
	lookup := func(name string) (action.Action, bool) { return noop{}, name == "noop" }
	reg := content.NewRegistry()
	reg.Register(runbook.Kind(lookup))
	set, err := content.Load(reg, content.Source{Name: "test", FS: fstest.MapFS{"rb.yaml": {Data: []byte(`apiVersion: flywheel/v1
kind: Runbook
metadata: {name: patch}
spec:
  steps: [{name: a, action: noop, per_target: true}]
---
apiVersion: flywheel/v1
kind: Runbook
metadata: {name: report}
spec:
  steps: [{name: a, action: noop, per_target: true}]
`)}}})
	if err != nil {
		t.Fatal(err)
	}
	lib, err := runbook.NewLibrary(set, lookup)
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: at}
	x, err := execution.New(execution.Options{Store: st, Queue: held{}, Runbooks: lib, Actions: lookup, Clock: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(Options{Store: st, Starter: x, Canceller: x, Targets: execution.InventoryTargets{}, Clock: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, st: st, x: x, r: r, clk: clk}
}

func (f *fixture) window(rec store.MaintenanceWindow) store.MaintenanceWindow {
	f.t.Helper()
	rec.TenantID, rec.CreatedBy, rec.CreatedAt = tenant, "test", f.clk.now()
	rec.ID = store.NewID(maintenance.IDPrefix, rec.CreatedAt)
	w, err := maintenance.FromRecord(rec)
	if err == nil {
		err = w.Validate()
	}
	if err != nil {
		f.t.Fatal(err)
	}
	rec = w.Record()
	if err := f.st.InTx(context.Background(), func(tx store.Tx) error { return tx.CreateMaintenanceWindow(context.Background(), rec) }); err != nil {
		f.t.Fatal(err)
	}
	return rec
}

func (f *fixture) tick(at string) {
	f.t.Helper()
	f.clk.set(rfc(f.t, at))
	if err := f.r.Tick(context.Background()); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) runs(windowID string) []store.WindowRun {
	f.t.Helper()
	l, _, err := f.st.ListWindowRuns(context.Background(), tenant, windowID, store.Page{Limit: 100})
	if err != nil {
		f.t.Fatal(err)
	}
	return l
}

// rows renders a run's rows as "task/target=status".
func (f *fixture) rows(runID string) []store.WindowRunTarget {
	f.t.Helper()
	rows, err := f.st.ListWindowRunTargets(context.Background(), tenant, runID)
	if err != nil {
		f.t.Fatal(err)
	}
	return rows
}

func states(rows []store.WindowRunTarget) string {
	var out []string
	for _, r := range rows {
		out = append(out, r.Task+"/"+r.TargetID+"="+r.Status)
	}
	return strings.Join(out, " ")
}

// end ends a row's execution as a worker would.
func (f *fixture) end(row store.WindowRunTarget, status string) {
	f.t.Helper()
	ctx := context.Background()
	if err := f.st.InTx(ctx, func(tx store.Tx) error {
		e, err := tx.LockExecution(ctx, tenant, row.ExecutionID)
		if err != nil {
			return err
		}
		e.Status, e.EndedAt = status, f.clk.now()
		if status != runbook.StatusSucceeded {
			e.Error = "exit status 1"
		}
		return tx.UpdateExecution(ctx, e)
	}); err != nil {
		f.t.Fatal(err)
	}
}

func rfc(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func find(rows []store.WindowRunTarget, task, target string) store.WindowRunTarget {
	for _, r := range rows {
		if r.Task == task && r.TargetID == target {
			return r
		}
	}
	return store.WindowRunTarget{}
}

// TestRunOrderConcurrencyErrors follows a nightly window over the spring
// change in Berlin with an injected clock: it opens at 03:00 CEST (02:00
// does not exist that night), runs the priority-1 task on at most two
// targets at once, then the priority-2 task, whose max_errors 0 stops it
// at its first failure, and ends failed. It does not open twice.
func TestRunOrderConcurrencyErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t, rfc(t, "2026-03-28T12:00:00+01:00"))
	w := f.window(store.MaintenanceWindow{Name: "nightly", Timezone: "Europe/Berlin",
		Schedule: store.MaintenanceSchedule{Expression: "0 2 * * *"}, Duration: "4h", Cutoff: "1h",
		Targets: store.MaintenanceTargets{ResourceIDs: []string{"h1", "h2", "h3"}},
		Tasks: []store.MaintenanceTask{
			{Name: "report", Runbook: "report", Priority: 2, MaxConcurrency: "1"},
			{Name: "patch", Runbook: "patch", Priority: 1, MaxConcurrency: "2", MaxErrors: "1"},
		}})
	f.tick("2026-03-29T01:59:00+01:00")
	if runs := f.runs(w.ID); len(runs) != 0 {
		t.Fatalf("a run before the opening: %+v", runs)
	}
	f.tick("2026-03-29T03:00:00+02:00")
	runs := f.runs(w.ID)
	if len(runs) != 1 || !runs[0].ScheduledAt.Equal(rfc(t, "2026-03-29T03:00:00+02:00")) || !runs[0].CutoffAt.Equal(rfc(t, "2026-03-29T06:00:00+02:00")) {
		t.Fatalf("runs at the opening: %+v", runs)
	}
	run := runs[0]
	if got, want := states(f.rows(run.ID)), "patch/h1=running patch/h2=running patch/h3=pending report/h1=pending report/h2=pending report/h3=pending"; got != want {
		t.Fatalf("after the opening: %s\nwant %s", got, want)
	}
	f.tick("2026-03-29T03:01:00+02:00") // nothing ended: nothing more starts, no second run
	if got := states(f.rows(run.ID)); !strings.Contains(got, "patch/h3=pending") || len(f.runs(w.ID)) != 1 {
		t.Fatalf("a third target started beyond max_concurrency 2, or a second run: %s", got)
	}
	rows := f.rows(run.ID)
	f.end(find(rows, "patch", "h1"), runbook.StatusFailed) // one error is tolerated
	f.tick("2026-03-29T03:02:00+02:00")
	if got, want := states(f.rows(run.ID)), "patch/h1=failed patch/h2=running patch/h3=running report/h1=pending"; !strings.HasPrefix(got, want) {
		t.Fatalf("after one failure: %s\nwant %s…", got, want)
	}
	rows = f.rows(run.ID)
	f.end(find(rows, "patch", "h2"), runbook.StatusSucceeded)
	f.tick("2026-03-29T03:03:00+02:00")
	if got := states(f.rows(run.ID)); strings.Contains(got, "report/h1=running") {
		t.Fatalf("priority 2 started while priority 1 still ran: %s", got)
	}
	f.end(find(f.rows(run.ID), "patch", "h3"), runbook.StatusSucceeded)
	f.tick("2026-03-29T03:04:00+02:00")
	if got, want := states(f.rows(run.ID)), "patch/h1=failed patch/h2=succeeded patch/h3=succeeded report/h1=running report/h2=pending report/h3=pending"; got != want {
		t.Fatalf("priority 2: %s\nwant %s", got, want)
	}
	f.end(find(f.rows(run.ID), "report", "h1"), runbook.StatusFailed) // max_errors 0: stop
	f.tick("2026-03-29T03:05:00+02:00")
	if got, want := states(f.rows(run.ID)), "patch/h1=failed patch/h2=succeeded patch/h3=succeeded report/h1=failed report/h2=skipped report/h3=skipped"; got != want {
		t.Fatalf("after the report's failure: %s\nwant %s", got, want)
	}
	got, _ := f.st.GetWindowRun(context.Background(), tenant, run.ID)
	if got.Status != store.WindowRunFailed || got.EndedAt == nil || !strings.Contains(got.Error, "exit status 1") {
		t.Errorf("run: %+v", got)
	}
	// Each started row is an execution of the task's runbook on its one
	// target, started by the window.
	ex, err := f.st.GetExecution(context.Background(), tenant, find(f.rows(run.ID), "report", "h1").ExecutionID)
	if err != nil || ex.Runbook != "report" || ex.StartedBy != "window:nightly" || !strings.Contains(string(ex.Targets), `"h1"`) {
		t.Errorf("execution %+v %v", ex, err)
	}
	// The next night opens again, once.
	f.tick("2026-03-30T02:00:00+02:00")
	f.tick("2026-03-30T02:00:30+02:00")
	if runs := f.runs(w.ID); len(runs) != 2 {
		t.Errorf("runs after the second night: %d", len(runs))
	}
}

// TestCutoff: no target starts at or after the cutoff; a task with
// cutoff_behavior cancel has its running targets cancelled there, one
// with continue keeps them running.
func TestCutoff(t *testing.T) {
	t.Parallel()
	f := newFixture(t, rfc(t, "2026-11-01T00:00:00-04:00"))
	w := f.window(store.MaintenanceWindow{Name: "nightly", Timezone: "America/New_York",
		Schedule: store.MaintenanceSchedule{Expression: "cron(30 1 * * ? *)"}, Duration: "2h", Cutoff: "30m",
		Targets: store.MaintenanceTargets{ResourceIDs: []string{"h1", "h2"}},
		Tasks: []store.MaintenanceTask{
			{Name: "patch", Runbook: "patch", Priority: 1, MaxConcurrency: "1", CutoffBehavior: "cancel"},
			{Name: "report", Runbook: "report", Priority: 1, MaxConcurrency: "1", CutoffBehavior: "continue"},
		}})
	// 01:30 happens twice that night; the window opens at the first.
	f.tick("2026-11-01T01:30:00-04:00")
	run := f.runs(w.ID)[0]
	if got, want := states(f.rows(run.ID)), "patch/h1=running patch/h2=pending report/h1=running report/h2=pending"; got != want {
		t.Fatalf("equal priorities run together: %s, want %s", got, want)
	}
	// The cutoff: 2h - 30m after 01:30 EDT is 02:00 EST.
	f.tick("2026-11-01T02:00:00-05:00")
	rows := f.rows(run.ID)
	if got, want := states(rows), "patch/h1=cancelled patch/h2=skipped report/h1=running report/h2=skipped"; got != want {
		t.Fatalf("at the cutoff: %s\nwant %s", got, want)
	}
	if ex, _ := f.st.GetExecution(context.Background(), tenant, find(rows, "patch", "h1").ExecutionID); ex.Status != runbook.StatusCancelled {
		t.Errorf("the cancelled task's execution is %s", ex.Status)
	}
	f.end(find(rows, "report", "h1"), runbook.StatusSucceeded)
	f.tick("2026-11-01T02:10:00-05:00")
	got, _ := f.st.GetWindowRun(context.Background(), tenant, run.ID)
	if got.Status != store.WindowRunCancelled || got.EndedAt == nil {
		t.Errorf("run after the cutoff: %+v", got)
	}
	if runs := f.runs(w.ID); len(runs) != 1 {
		t.Errorf("the repeated 01:30 opened a second run: %d", len(runs))
	}
}

// TestMissedWindows: the server is down from before one night's opening
// to after the next night's: the first is recorded as missed with an
// OpsItem, the second runs late because its cutoff has not passed. After
// a longer downtime the latest opening is past its cutoff too: missed.
func TestMissedWindows(t *testing.T) {
	t.Parallel()
	f := newFixture(t, rfc(t, "2026-03-01T12:00:00Z"))
	w := f.window(store.MaintenanceWindow{Name: "nightly", Timezone: "UTC",
		Schedule: store.MaintenanceSchedule{Expression: "rate(1 day)"}, Duration: "4h", Cutoff: "1h",
		StartDate: ptr(rfc(t, "2026-03-02T02:00:00Z")), EndDate: ptr(rfc(t, "2026-03-10T00:00:00Z")),
		Targets: store.MaintenanceTargets{ResourceIDs: []string{"h1"}},
		Tasks:   []store.MaintenanceTask{{Runbook: "patch"}}})
	f.tick("2026-03-02T02:00:01Z")
	if runs := f.runs(w.ID); len(runs) != 1 || runs[0].Status != store.WindowRunRunning {
		t.Fatalf("first night: %+v", runs)
	}
	// Down until the 4th 04:30: the 3rd's opening was missed; the 4th's
	// cutoff is 05:00.
	f.tick("2026-03-04T04:30:00Z")
	runs := f.runs(w.ID)
	if len(runs) != 3 {
		t.Fatalf("runs after the downtime: %+v", runs)
	}
	byOpening := map[string]store.WindowRun{}
	for _, r := range runs {
		byOpening[r.ScheduledAt.Format("2006-01-02")] = r
	}
	missed, late := byOpening["2026-03-03"], byOpening["2026-03-04"]
	if missed.Status != store.WindowRunMissed || missed.OpsItemID == "" {
		t.Fatalf("the 3rd: %+v", missed)
	}
	item, err := f.st.GetOpsItem(context.Background(), tenant, missed.OpsItemID)
	if err != nil || !strings.Contains(item.Title, "nightly missed its opening at 2026-03-03T02:00:00Z") || item.Status != "open" {
		t.Errorf("OpsItem of the missed run: %+v %v", item, err)
	}
	if late.Status != store.WindowRunRunning || states(f.rows(late.ID)) != "patch/h1=running" {
		t.Errorf("the 4th runs late: %+v %s", late, states(f.rows(late.ID)))
	}
	// Down from the 5th 01:00 to 05:30: the opening at 02:00 is past its
	// cutoff (05:00): missed, nothing starts.
	f.tick("2026-03-05T01:00:00Z")
	f.tick("2026-03-05T05:30:00Z")
	for _, r := range f.runs(w.ID) {
		if r.ScheduledAt.Equal(rfc(t, "2026-03-05T02:00:00Z")) && (r.Status != store.WindowRunMissed || len(f.rows(r.ID)) != 0) {
			t.Errorf("the 5th: %+v", r)
		}
	}
	// After the end date nothing opens.
	f.tick("2026-03-12T03:00:00Z")
	for _, r := range f.runs(w.ID) {
		if r.ScheduledAt.After(rfc(t, "2026-03-10T00:00:00Z")) {
			t.Errorf("a run after the end date: %+v", r)
		}
	}
}

// TestStartNowAndDryRun: a run asked for now starts at once whatever the
// schedule; the dry run lists targets and tasks in order and starts
// nothing; a window without tasks is refused.
func TestStartNowAndDryRun(t *testing.T) {
	t.Parallel()
	f := newFixture(t, rfc(t, "2026-03-01T12:00:00Z"))
	rec := f.window(store.MaintenanceWindow{Name: "adhoc", Timezone: "UTC",
		Schedule: store.MaintenanceSchedule{Expression: "cron(0 3 ? * SUN *)"}, Duration: "2h",
		Targets: store.MaintenanceTargets{ResourceIDs: []string{"h2", "h1"}},
		Tasks:   []store.MaintenanceTask{{Runbook: "report", Priority: 5}, {Runbook: "patch", Priority: 1, MaxConcurrency: "50%"}}})
	w, _ := maintenance.FromRecord(rec)
	plan, err := f.r.DryRun(context.Background(), w)
	if err != nil || strings.Join(plan.Targets, ",") != "h2,h1" || len(plan.Tasks) != 2 || plan.Tasks[0].Name != "patch" || plan.Tasks[0].MaxConcurrency != 1 {
		t.Fatalf("dry run: %+v %v", plan, err)
	}
	if len(f.runs(rec.ID)) != 0 {
		t.Fatal("the dry run made a run")
	}
	run, err := f.r.StartNow(context.Background(), w, "token:tok_admin")
	if err != nil || run.Trigger != store.TriggerManual || !run.EndsAt.Equal(rfc(t, "2026-03-01T14:00:00Z")) {
		t.Fatalf("StartNow: %+v %v", run, err)
	}
	f.tick("2026-03-01T12:00:01Z")
	if got := states(f.rows(run.ID)); got != "patch/h2=running patch/h1=pending report/h2=pending report/h1=pending" {
		t.Errorf("manual run: %s", got)
	}
	bare := f.window(store.MaintenanceWindow{Name: "deflect-only", Schedule: store.MaintenanceSchedule{Expression: "0 3 * * *"}, Duration: "1h",
		Targets: store.MaintenanceTargets{ResourceIDs: []string{"h1"}}})
	bw, _ := maintenance.FromRecord(bare)
	if _, err := f.r.StartNow(context.Background(), bw, "token:tok_admin"); !errors.Is(err, ErrNoTasks) {
		t.Errorf("StartNow without tasks: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }

// TestReplicasOpenOneRun: two replicas' runners on one PostgreSQL database
// tick at the same moments, many times over; the window opens once and
// each target starts once, whichever replica gets there.
func TestReplicasOpenOneRun(t *testing.T) {
	t.Parallel()
	st := postgres.OpenTest(t)
	at := rfc(t, "2026-03-29T00:00:00+01:00")
	a := newFixtureOn(t, st, at, true)
	b := newFixtureOn(t, st, at, false)
	w := a.window(store.MaintenanceWindow{Name: "nightly", Timezone: "Europe/Berlin",
		Schedule: store.MaintenanceSchedule{Expression: "30 2 * * *"}, Duration: "2h",
		Targets: store.MaintenanceTargets{ResourceIDs: []string{"h1", "h2", "h3", "h4"}},
		Tasks:   []store.MaintenanceTask{{Runbook: "patch", MaxConcurrency: "3"}}})
	now := rfc(t, "2026-03-29T03:30:00+02:00") // 02:30 skipped: 03:30 CEST
	a.clk.set(now)
	b.clk.set(now)
	for i := 0; i < 5; i++ {
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for j, f := range []*fixture{a, b} {
			wg.Add(1)
			go func() { defer wg.Done(); errs[j] = f.r.Tick(context.Background()) }()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	runs := a.runs(w.ID)
	if len(runs) != 1 {
		t.Fatalf("%d runs of one opening", len(runs))
	}
	rows := a.rows(runs[0].ID)
	if got := states(rows); got != "patch/h1=running patch/h2=running patch/h3=running patch/h4=pending" {
		t.Errorf("rows: %s", got)
	}
	l, _, err := st.ListExecutions(context.Background(), tenant, store.ExecutionFilter{}, store.Page{Limit: 100})
	if err != nil || len(l) != 3 {
		t.Errorf("%d executions started (%v), want 3: one per running target", len(l), err)
	}
}

// TestGroupTargets: a window targeting a resource group runs on its
// members — listed ones and those its tags select — narrowed by the
// window's tags when it has both.
func TestGroupTargets(t *testing.T) {
	t.Parallel()
	f := newFixture(t, rfc(t, "2026-03-01T12:00:00Z"))
	ctx := context.Background()
	reg := content.NewRegistry()
	reg.Register(runbook.GroupKind())
	set, err := content.Load(reg, content.Source{Name: "test", FS: fstest.MapFS{"g.yaml": {Data: []byte(`apiVersion: flywheel/v1
kind: ResourceGroup
metadata: {name: web}
spec: {resources: [h-listed], tags: {role: web}, types: [host]}
`)}}})
	if err != nil {
		t.Fatal(err)
	}
	f.r.o.Targets = execution.InventoryTargets{Groups: runbook.NewGroups(set)}
	if err := f.st.InTx(ctx, func(tx store.Tx) error {
		for id, tags := range map[string]map[string]string{"h-a": {"role": "web", "zone": "a"}, "h-b": {"role": "web", "zone": "b"}, "h-db": {"role": "db", "zone": "a"}} {
			if err := tx.PutResource(ctx, store.Resource{ID: id, TenantID: tenant, Type: "host", Name: id, Tags: tags, CreatedAt: f.clk.now(), UpdatedAt: f.clk.now()}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		targets store.MaintenanceTargets
		want    string
	}{
		{store.MaintenanceTargets{Group: "web"}, "h-a,h-b,h-listed"},
		{store.MaintenanceTargets{Group: "web", Tags: map[string]string{"zone": "a"}}, "h-a"},
		{store.MaintenanceTargets{Group: "web", ResourceIDs: []string{"h-b", "h-db"}}, "h-b"},
	} {
		rec := store.MaintenanceWindow{Name: "w", Schedule: store.MaintenanceSchedule{Expression: "0 3 * * *"}, Duration: "1h",
			Targets: tc.targets, Tasks: []store.MaintenanceTask{{Runbook: "patch"}}}
		rec.TenantID = tenant
		w, err := maintenance.FromRecord(rec)
		if err != nil {
			t.Fatal(err)
		}
		plan, err := f.r.DryRun(ctx, w)
		if err != nil || strings.Join(plan.Targets, ",") != tc.want {
			t.Errorf("%+v: targets %v (%v), want %s", tc.targets, plan.Targets, err, tc.want)
		}
	}
	rec := store.MaintenanceWindow{Name: "w", TenantID: tenant, Schedule: store.MaintenanceSchedule{Expression: "0 3 * * *"}, Duration: "1h",
		Targets: store.MaintenanceTargets{Group: "nope"}, Tasks: []store.MaintenanceTask{{Runbook: "patch"}}}
	w, _ := maintenance.FromRecord(rec)
	if _, err := f.r.DryRun(ctx, w); err == nil || !strings.Contains(err.Error(), `targets.group: no resource group "nope"`) {
		t.Errorf("unknown group: %v", err)
	}
}

// firedRules records the scheduled-rule calls of a tick.
type firedRules struct {
	mu    sync.Mutex
	calls []string
}

func (f *firedRules) FireScheduled(_ context.Context, _ store.Store, tenant string, now time.Time) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, tenant+"@"+now.UTC().Format(time.RFC3339))
	return 0, nil
}

// TestWeeklyAndOneOffWindowsRun: the weekly and one-off forms open runs
// as the cron form does (the weekly slot across the Berlin spring change),
// and each tick fires the tenant's scheduled rules at the injected time.
func TestWeeklyAndOneOffWindowsRun(t *testing.T) {
	t.Parallel()
	f := newFixture(t, rfc(t, "2026-03-27T12:00:00+01:00"))
	rules := &firedRules{}
	f.r.o.Rules = rules
	weekly := f.window(store.MaintenanceWindow{Name: "sundays", Timezone: "Europe/Berlin",
		Schedule: store.MaintenanceSchedule{Weekly: &store.Recurrence{Days: []string{"sun"}, Start: "02:30", Duration: "2h"}}, Cutoff: "30m",
		Targets: store.MaintenanceTargets{ResourceIDs: []string{"h1"}}, Tasks: []store.MaintenanceTask{{Runbook: "patch"}}})
	start, end := rfc(t, "2026-03-28T10:00:00Z"), rfc(t, "2026-03-28T11:00:00Z")
	once := f.window(store.MaintenanceWindow{Name: "once", Schedule: store.MaintenanceSchedule{Start: &start, End: &end},
		Targets: store.MaintenanceTargets{ResourceIDs: []string{"h2"}}, Tasks: []store.MaintenanceTask{{Runbook: "report"}}})
	f.tick("2026-03-28T10:00:00Z")
	if runs := f.runs(once.ID); len(runs) != 1 || !runs[0].CutoffAt.Equal(end) || states(f.rows(runs[0].ID)) != "report/h2=running" {
		t.Errorf("one-off: %+v", runs)
	}
	f.tick("2026-03-29T03:29:00+02:00")
	if runs := f.runs(weekly.ID); len(runs) != 0 {
		t.Fatalf("weekly opened early: %+v", runs)
	}
	// 02:30 does not exist that Sunday: 03:30 CEST.
	f.tick("2026-03-29T03:30:00+02:00")
	runs := f.runs(weekly.ID)
	if len(runs) != 1 || !runs[0].ScheduledAt.Equal(rfc(t, "2026-03-29T03:30:00+02:00")) || !runs[0].CutoffAt.Equal(rfc(t, "2026-03-29T05:00:00+02:00")) {
		t.Fatalf("weekly: %+v", runs)
	}
	if got := strings.Join(rules.calls, " "); got != "acme@2026-03-28T10:00:00Z acme@2026-03-29T01:29:00Z acme@2026-03-29T01:30:00Z" {
		t.Errorf("scheduled rules fired for %s", got)
	}
}
