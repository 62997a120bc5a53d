package windowrun

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/maintenance"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// maxTargets bounds one window's targets.
const maxTargets = 10_000

// ErrNoTasks: the window has no tasks to run.
var ErrNoTasks = errors.New("the window has no tasks")

// Targets resolves the window's targets to resource IDs: its resource IDs
// in the order given, or the resources carrying its tags or in its
// resource group (each criterion given narrows the others), by ID.
func (r *Runner) Targets(ctx context.Context, tx store.Tx, w *maintenance.Window) ([]string, error) {
	ids := slices.Clone(w.Targets.ResourceIDs)
	narrowed := len(ids) > 0
	for _, sel := range []struct {
		field string
		spec  runbook.TargetSpec
		set   bool
	}{
		{"targets.tags", runbook.TargetSpec{Tags: w.Targets.Tags}, len(w.Targets.Tags) > 0},
		{"targets.group", runbook.TargetSpec{Group: w.Targets.Group}, w.Targets.Group != ""},
	} {
		if !sel.set {
			continue
		}
		if r.o.Targets == nil {
			return nil, fmt.Errorf("%s: no inventory to resolve it with", sel.field)
		}
		ts, err := r.o.Targets.ResolveTargets(ctx, tx, w.TenantID, sel.spec)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", sel.field, err)
		}
		var picked []string
		for _, t := range ts {
			if !narrowed || slices.Contains(ids, t.ID) {
				picked = append(picked, t.ID)
			}
		}
		sort.Strings(picked)
		ids, narrowed = picked, true
	}
	ids = slices.Compact(ids)
	if len(ids) > maxTargets {
		return nil, fmt.Errorf("targets: %d resources; the limit is %d", len(ids), maxTargets)
	}
	return ids, nil
}

// Plan is what a run of a window would do: its targets and its tasks in
// the order they run. A dry run shows it.
type Plan struct {
	Window  string     `json:"window"`
	Targets []string   `json:"targets"`
	Tasks   []PlanTask `json:"tasks"`
}

// PlanTask is one task as a run would run it.
type PlanTask struct {
	Name           string         `json:"name"`
	Runbook        string         `json:"runbook"`
	Parameters     map[string]any `json:"parameters,omitempty"`
	Priority       int            `json:"priority"`
	MaxConcurrency int            `json:"max_concurrency"`
	MaxErrors      int            `json:"max_errors"`
	CutoffBehavior string         `json:"cutoff_behavior"`
	OnFailure      string         `json:"on_failure"`
}

// DryRun returns the plan of a run of w now, without starting anything.
func (r *Runner) DryRun(ctx context.Context, w *maintenance.Window) (Plan, error) {
	p := Plan{Window: w.Name}
	err := r.st.InTx(ctx, func(tx store.Tx) error {
		var err error
		p.Targets, err = r.Targets(ctx, tx, w)
		return err
	})
	if err != nil {
		return p, err
	}
	if p.Targets == nil {
		p.Targets = []string{}
	}
	for _, i := range taskOrder(w.Tasks) {
		t := w.Tasks[i]
		p.Tasks = append(p.Tasks, PlanTask{Name: t.Name, Runbook: t.Runbook, Parameters: t.Parameters, Priority: t.Priority,
			MaxConcurrency: t.MaxConcurrency.Of(len(p.Targets), true), MaxErrors: t.MaxErrors.Of(len(p.Targets), false),
			CutoffBehavior: t.CutoffBehavior, OnFailure: t.OnFailure})
	}
	return p, nil
}

// taskOrder returns task indexes by priority, then position.
func taskOrder(tasks []maintenance.Task) []int {
	idx := make([]int, len(tasks))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return tasks[idx[a]].Priority < tasks[idx[b]].Priority })
	return idx
}

// StartNow opens a run of w at once (`flywheel window run NAME --now`),
// for the window's duration from now, and enqueues a tick to start it.
func (r *Runner) StartNow(ctx context.Context, w *maintenance.Window, by string) (store.WindowRun, error) {
	if len(w.Tasks) == 0 {
		return store.WindowRun{}, ErrNoTasks
	}
	now := r.now()
	plan := w.Plan()
	run := store.WindowRun{ID: store.NewID("wr", now), TenantID: w.TenantID, WindowID: w.ID, WindowName: w.Name,
		Trigger: store.TriggerManual, StartedBy: by, ScheduledAt: now, CutoffAt: now.Add(plan.Duration - plan.Cutoff), EndsAt: now.Add(plan.Duration),
		Status: store.WindowRunPending, CreatedAt: now, UpdatedAt: now}
	err := r.create(ctx, w, run, func(ctx context.Context, tx store.Tx) error {
		if r.o.Queue == nil {
			return nil
		}
		return r.o.Queue.InsertTx(ctx, tx, TickArgs{}, nil)
	})
	return run, err
}

// create stores a run with a pending row per task and target, in one
// transaction with then (if any).
func (r *Runner) create(ctx context.Context, w *maintenance.Window, run store.WindowRun, then func(context.Context, store.Tx) error) error {
	return r.st.InTx(ctx, func(tx store.Tx) error {
		targets, err := r.Targets(ctx, tx, w)
		if err != nil {
			run.Status, run.Error, run.EndedAt = store.WindowRunFailed, err.Error(), &run.CreatedAt
		} else if len(targets) == 0 {
			run.Status, run.Error, run.EndedAt = store.WindowRunFailed, "no resources match the window's targets", &run.CreatedAt
		}
		var rows []store.WindowRunTarget
		if run.Status == store.WindowRunPending {
			for ti, t := range w.Tasks {
				for pos, id := range targets {
					rows = append(rows, store.WindowRunTarget{TenantID: run.TenantID, RunID: run.ID, Task: t.Name, TaskIndex: ti,
						Priority: t.Priority, Position: pos, TargetID: id, Status: store.WindowRunPending})
				}
			}
		}
		if err := tx.CreateWindowRun(ctx, run, rows); err != nil {
			return err
		}
		if _, err := audit.Append(ctx, tx, run.TenantID, run.CreatedAt, audit.Entry{Actor: actorOf(run), Action: "window.run",
			Target: "window-run/" + run.ID, Result: auditResult(run),
			Detail: map[string]any{"window": w.Name, "trigger": run.Trigger, "opening": run.ScheduledAt, "targets": len(targets), "tasks": len(w.Tasks)}}); err != nil {
			return err
		}
		if then != nil {
			return then(ctx, tx)
		}
		return nil
	})
}

func actorOf(run store.WindowRun) string {
	if run.Trigger == store.TriggerManual {
		return run.StartedBy
	}
	return "system:maintenance"
}

func auditResult(run store.WindowRun) string {
	if run.Error != "" {
		return "failed: " + run.Error
	}
	return "ok"
}

// Advance moves one run on: it records the targets whose executions ended,
// applies the cutoff and the error thresholds, starts what may start, and
// ends the run when nothing is left. Executions to cancel at the cutoff
// are cancelled after the transaction.
func (r *Runner) Advance(ctx context.Context, tenant, id string) error {
	var cancel []string
	var name string
	err := r.st.InTx(ctx, func(tx store.Tx) error {
		run, err := tx.LockWindowRun(ctx, tenant, id)
		if err != nil {
			return err
		}
		if run.Status != store.WindowRunPending && run.Status != store.WindowRunRunning {
			return nil
		}
		name = run.WindowName
		a := &advance{r: r, tx: tx, run: run, now: r.now()}
		if err := a.load(ctx); err != nil {
			return err
		}
		if err := a.step(ctx); err != nil {
			return err
		}
		cancel = a.cancel
		return a.save(ctx)
	})
	if err != nil {
		return err
	}
	for _, ex := range cancel {
		if _, err := r.o.Canceller.Cancel(ctx, tenant, ex, "window:"+name, "maintenance window cutoff reached"); err != nil {
			r.log.WarnContext(ctx, "cancelling a window task at the cutoff", "execution", ex, "error", err)
		}
	}
	if len(cancel) > 0 {
		// Record the cancellations now (rows marked once are not
		// cancelled again).
		return r.Advance(ctx, tenant, id)
	}
	return nil
}

// advance is one Advance of one run, in its transaction.
type advance struct {
	r      *Runner
	tx     store.Tx
	run    store.WindowRun
	now    time.Time
	w      *maintenance.Window
	rows   []store.WindowRunTarget
	dirty  map[int]bool // rows to save
	cancel []string
}

func (a *advance) load(ctx context.Context) error {
	rec, err := a.tx.GetMaintenanceWindow(ctx, a.run.TenantID, a.run.WindowID)
	if err == nil {
		a.w, err = maintenance.FromRecord(rec)
	}
	if errors.Is(err, store.ErrNotFound) {
		a.w = &maintenance.Window{Name: a.run.WindowName} // deleted: its rows are skipped below
	} else if err != nil {
		return err
	}
	a.rows, err = a.tx.ListWindowRunTargets(ctx, a.run.TenantID, a.run.ID)
	a.dirty = map[int]bool{}
	return err
}

func (a *advance) set(i int, status, msg string) {
	row := &a.rows[i]
	row.Status, row.Error = status, msg
	if status != store.WindowRunRunning {
		now := a.now
		row.EndedAt = &now
	}
	a.dirty[i] = true
}

// task returns the window's task for a row, nil when the window no longer
// has it (deleted or edited since the run opened).
func (a *advance) task(row store.WindowRunTarget) *maintenance.Task {
	if row.TaskIndex < len(a.w.Tasks) && a.w.Tasks[row.TaskIndex].Name == row.Task {
		return &a.w.Tasks[row.TaskIndex]
	}
	return nil
}

func (a *advance) step(ctx context.Context) error {
	if a.run.Status == store.WindowRunPending {
		a.run.Status = store.WindowRunRunning
	}
	// Targets whose executions have ended.
	for i, row := range a.rows {
		if row.Status != store.WindowRunRunning {
			continue
		}
		ex, err := a.tx.GetExecution(ctx, a.run.TenantID, row.ExecutionID)
		if err != nil {
			return fmt.Errorf("execution %s: %w", row.ExecutionID, err)
		}
		if !runbook.IsTerminal(ex.Status) {
			continue
		}
		switch ex.Status {
		case runbook.StatusSucceeded:
			a.set(i, store.WindowRunSucceeded, "")
		case runbook.StatusCancelled:
			a.set(i, store.WindowRunCancelled, ex.Error)
		default:
			a.set(i, store.WindowRunFailed, fmt.Sprintf("execution %s %s: %s", ex.ID, ex.Status, ex.Error))
		}
	}
	pastCutoff := !a.now.Before(a.run.CutoffAt)
	for i, row := range a.rows {
		switch {
		case row.Status == store.WindowRunPending && a.task(row) == nil:
			a.set(i, store.WindowRunSkipped, "the window or this task was deleted or changed")
		case row.Status == store.WindowRunPending && pastCutoff:
			a.set(i, store.WindowRunSkipped, "cutoff reached")
		case row.Status == store.WindowRunRunning && pastCutoff && row.Error == "":
			if t := a.task(row); t != nil && t.CutoffBehavior == maintenance.CutoffCancel {
				a.cancel = append(a.cancel, row.ExecutionID)
				a.rows[i].Error = "cancelled at the cutoff"
				a.dirty[i] = true
			}
		}
	}
	if !pastCutoff {
		if err := a.start(ctx); err != nil {
			return err
		}
	}
	a.finish()
	return nil
}

// taskState counts one task's rows.
type taskState struct {
	targets, pending, running, failed int
}

func (a *advance) states() map[int]*taskState {
	st := map[int]*taskState{}
	for _, row := range a.rows {
		s := st[row.TaskIndex]
		if s == nil {
			s = &taskState{}
			st[row.TaskIndex] = s
		}
		s.targets++
		switch row.Status {
		case store.WindowRunPending:
			s.pending++
		case store.WindowRunRunning:
			s.running++
		case store.WindowRunFailed:
			s.failed++
		}
	}
	return st
}

// overErrors reports whether a task has failed on more targets than it
// tolerates.
func overErrors(t *maintenance.Task, s *taskState) bool {
	return s.failed > t.MaxErrors.Of(s.targets, false)
}

// start starts targets of the tasks of the lowest priority that still has
// work, within their concurrency and error limits, unless an earlier
// priority's task failed and says on_failure: stop.
func (a *advance) start(ctx context.Context) error {
	states := a.states()
	// Tasks over their error threshold start nothing more.
	for i, row := range a.rows {
		if t := a.task(row); row.Status == store.WindowRunPending && t != nil && overErrors(t, states[row.TaskIndex]) {
			a.set(i, store.WindowRunSkipped, fmt.Sprintf("task %s failed on more than %s targets (max_errors)", t.Name, t.MaxErrors))
		}
	}
	states = a.states()
	current, found := 0, false
	for _, row := range a.rows {
		if (row.Status == store.WindowRunPending || row.Status == store.WindowRunRunning) && (!found || row.Priority < current) {
			current, found = row.Priority, true
		}
	}
	if !found {
		return nil
	}
	for ti, t := range a.w.Tasks {
		s := states[ti]
		if s != nil && t.Priority < current && t.OnFailure == maintenance.FailureStop && (overErrors(&a.w.Tasks[ti], s) || s.failed > 0 && s.failed == s.targets) {
			for i, row := range a.rows {
				if row.Status == store.WindowRunPending {
					a.set(i, store.WindowRunSkipped, fmt.Sprintf("task %s failed (on_failure: stop)", t.Name))
				}
			}
			return nil
		}
	}
	for i := range a.rows {
		row := a.rows[i]
		t := a.task(row)
		if row.Status != store.WindowRunPending || row.Priority != current || t == nil {
			continue
		}
		s := states[row.TaskIndex]
		if s.running >= t.MaxConcurrency.Of(s.targets, true) || overErrors(t, s) {
			continue
		}
		exID, err := a.r.o.Starter.Start(ctx, a.tx, runbook.StartRequest{TenantID: a.run.TenantID, Runbook: t.Runbook, Parameters: t.Parameters,
			Targets: []string{row.TargetID}, Mode: runbook.ModeAuto, StartedBy: "window:" + a.run.WindowName})
		now := a.now
		a.rows[i].StartedAt = &now
		if err != nil {
			a.set(i, store.WindowRunFailed, "could not start: "+err.Error())
			s.failed++
			continue
		}
		a.rows[i].ExecutionID = exID
		a.set(i, store.WindowRunRunning, "")
		s.running++
		s.pending--
	}
	return nil
}

// finish ends the run once no row is pending or running.
func (a *advance) finish() {
	status := store.WindowRunSucceeded
	msg := ""
	for _, row := range a.rows {
		switch row.Status {
		case store.WindowRunPending, store.WindowRunRunning:
			return
		case store.WindowRunFailed:
			status, msg = store.WindowRunFailed, "a task failed on "+row.TargetID+": "+row.Error
		case store.WindowRunSkipped, store.WindowRunCancelled:
			if status == store.WindowRunSucceeded {
				status, msg = store.WindowRunCancelled, row.Error
			}
		}
	}
	now := a.now
	a.run.Status, a.run.Error, a.run.EndedAt = status, msg, &now
}

func (a *advance) save(ctx context.Context) error {
	for i := range a.rows {
		if a.dirty[i] {
			if err := a.tx.UpdateWindowRunTarget(ctx, a.rows[i]); err != nil {
				return err
			}
		}
	}
	a.run.UpdatedAt = a.now
	if err := a.tx.UpdateWindowRun(ctx, a.run); err != nil {
		return err
	}
	if a.run.EndedAt != nil {
		_, err := audit.Append(ctx, a.tx, a.run.TenantID, a.now, audit.Entry{Actor: "system:maintenance", Action: "window.run.end",
			Target: "window-run/" + a.run.ID, Result: auditResult(a.run), Detail: map[string]any{"window": a.run.WindowName, "error": a.run.Error}})
		return err
	}
	return nil
}
