// Package windowrun runs maintenance windows' tasks: it opens a run when a
// window's schedule says so, runs each task's runbook on each target
// through the runbook executor, and records per-task, per-target results.
//
// The state of a run is rows in the store (store.WindowRun and its
// WindowRunTarget rows), so a run survives a restart: a periodic job on
// the job queue's elected leader (Tick) opens due runs and advances the
// active ones, each under its row lock. Advancing never starts a row that
// has finished, and each started row is one durable runbook execution,
// written in the same transaction as the row that points to it; the
// executor resumes executions a crash interrupted. A window that opened
// while no server ran still runs if its cutoff has not passed; otherwise
// its run is recorded as missed and an OpsItem says so.
//
// Within a run, tasks of lower priority run first and equal priorities
// together; a task runs on at most max_concurrency targets at once and
// starts no more once more than max_errors have failed; on_failure: stop
// keeps later priorities from starting after a task failed. No target
// starts at or after the cutoff; running ones are cancelled there when
// the task says cutoff_behavior: cancel.
package windowrun

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/execution"
	"github.com/flywheel-ops/flywheel/internal/jobs"
	"github.com/flywheel-ops/flywheel/internal/maintenance"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// Canceller cancels executions; *execution.Executor is one.
type Canceller interface {
	Cancel(ctx context.Context, tenant, id, actor, comment string) (store.Execution, error)
}

// RuleScheduler fires the scheduled automation rules of a tenant that are
// due; *rule.Engine is one. The tick runs it, so rules and windows share
// one scheduler on the leader.
type RuleScheduler interface {
	FireScheduled(ctx context.Context, st store.Store, tenant string, now time.Time) (int, error)
}

// Options configure a Runner.
type Options struct {
	// Rules fires scheduled rules (optional).
	Rules RuleScheduler
	Store store.Store
	// Starter starts the tasks' runbooks (the executor).
	Starter runbook.Starter
	// Canceller cancels running targets at the cutoff (the executor).
	Canceller Canceller
	// Targets resolves tag targets over the inventory.
	Targets execution.TargetResolver
	// Queue enqueues a tick at once when a run is asked for.
	Queue  *jobs.Queue
	Logger *slog.Logger
	Clock  func() time.Time // default time.Now
	// TickEvery is how often the leader looks for due windows and
	// advances runs.
	TickEvery time.Duration // default 15s
	// MissedLimit bounds how many missed openings of one window are
	// recorded after a long downtime (the latest ones).
	MissedLimit int // default 10
	// Category returns the OpsItem category of a window's missed
	// openings: a capability's own ("backup" for a backup plan's window),
	// or "" for the default, "operations".
	Category func(store.MaintenanceWindow) string
}

// Runner opens and advances window runs.
type Runner struct {
	o   Options
	st  store.Store
	log *slog.Logger
	now func() time.Time
}

// New returns a Runner; Register its job before the queue starts.
func New(o Options) (*Runner, error) {
	if o.Store == nil || o.Starter == nil {
		return nil, errors.New("windowrun: store and starter are required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.TickEvery == 0 {
		o.TickEvery = 15 * time.Second
	}
	if o.MissedLimit == 0 {
		o.MissedLimit = 10
	}
	clock := o.Clock
	return &Runner{o: o, st: o.Store, log: o.Logger,
		now: func() time.Time { return clock().UTC().Truncate(time.Microsecond) }}, nil
}

// TickArgs is the periodic job that opens due runs and advances active
// ones.
type TickArgs struct{}

// Kind implements river.JobArgs.
func (TickArgs) Kind() string { return "maintenance_window_tick" }

// InsertOpts implements river.JobArgsWithInsertOpts: a tick that fails is
// not retried; the next one does its work.
func (TickArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 1} }

// Register adds the tick job to q, scheduled periodically on the elected
// leader (and at start, so a restart resumes runs at once).
func (r *Runner) Register(q *jobs.Queue) error {
	return jobs.AddTick(q, r.o.TickEvery, TickArgs{}, r.Tick)
}

// Tick fires the scheduled rules that are due, opens the window runs that
// are due and advances every active run.
func (r *Runner) Tick(ctx context.Context) error {
	now := r.now()
	var errs []error
	page := store.Page{Limit: store.MaxPageLimit}
	for {
		tenants, next, err := r.st.ListTenants(ctx, page)
		if err != nil {
			return err
		}
		for _, t := range tenants {
			if r.o.Rules != nil {
				if _, err := r.o.Rules.FireScheduled(ctx, r.st, t.ID, now); err != nil {
					errs = append(errs, err)
				}
			}
			recs, err := r.st.ActiveMaintenanceWindows(ctx, t.ID, now)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			for _, rec := range recs {
				if len(rec.Tasks) == 0 {
					continue
				}
				if err := r.openDue(ctx, rec, now); err != nil {
					errs = append(errs, fmt.Errorf("window %s: %w", rec.Name, err))
				}
			}
		}
		if next == "" {
			break
		}
		page.Cursor = next
	}
	runs, err := r.st.ActiveWindowRuns(ctx, 500)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	for _, run := range runs {
		if err := r.Advance(ctx, run.TenantID, run.ID); err != nil {
			errs = append(errs, fmt.Errorf("window run %s: %w", run.ID, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		r.log.WarnContext(ctx, "maintenance window tick", "error", err)
		return err
	}
	return nil
}

// openDue accounts for the openings of one window since the last one it
// ran (or since it was made): the latest runs if its cutoff has not
// passed, every other is recorded as missed.
func (r *Runner) openDue(ctx context.Context, rec store.MaintenanceWindow, now time.Time) error {
	w, err := maintenance.FromRecord(rec)
	if err != nil {
		return err
	}
	since := w.CreatedAt
	last, err := r.st.LatestWindowRun(ctx, rec.TenantID, rec.ID)
	switch {
	case err == nil:
		if last.ScheduledAt.After(since) {
			since = last.ScheduledAt
		}
	case !errors.Is(err, store.ErrNotFound):
		return err
	}
	openings := w.Plan().Between(since, now, r.o.MissedLimit)
	for i, o := range openings {
		run := store.WindowRun{ID: store.NewID("wr", now), TenantID: rec.TenantID, WindowID: rec.ID, WindowName: rec.Name,
			Trigger: store.TriggerSchedule, StartedBy: "schedule", ScheduledAt: o.Start.UTC(), CutoffAt: o.CutoffAt.UTC(), EndsAt: o.End.UTC(),
			Status: store.WindowRunPending, CreatedAt: now, UpdatedAt: now}
		if i < len(openings)-1 || !now.Before(o.CutoffAt) {
			err = r.recordMissed(ctx, w, run, now)
		} else {
			err = r.create(ctx, w, run, nil)
		}
		if errors.Is(err, store.ErrConflict) {
			continue // another replica, or an earlier tick, got there first
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// recordMissed stores a missed run and opens an OpsItem about it.
func (r *Runner) recordMissed(ctx context.Context, w *maintenance.Window, run store.WindowRun, now time.Time) error {
	run.Status, run.EndedAt = store.WindowRunMissed, &now
	run.Error = fmt.Sprintf("no server ran between the opening at %s and its cutoff at %s", run.ScheduledAt.Format(time.RFC3339), run.CutoffAt.Format(time.RFC3339))
	category := "operations"
	if r.o.Category != nil {
		if c := r.o.Category(w.Record()); c != "" {
			category = c
		}
	}
	return r.st.InTx(ctx, func(tx store.Tx) error {
		o := store.OpsItem{ID: store.NewID("oi", now), TenantID: run.TenantID,
			Title:       fmt.Sprintf("Maintenance window %s missed its opening at %s", w.Name, run.ScheduledAt.Format(time.RFC3339)),
			Description: fmt.Sprintf("Window run %s: %s. Its tasks did not run; start them with `flywheel window run %s --now` if they still should.", run.ID, run.Error, w.Name),
			Category:    category, Severity: "medium", Status: "open", Source: "maintenance-window", CreatedAt: now, UpdatedAt: now}
		run.OpsItemID = o.ID
		if err := tx.CreateWindowRun(ctx, run, nil); err != nil {
			return err
		}
		if err := tx.CreateOpsItem(ctx, o); err != nil {
			return err
		}
		_, err := audit.Append(ctx, tx, run.TenantID, now, audit.Entry{Actor: "system:maintenance", Action: "window.missed",
			Target: "window-run/" + run.ID, Detail: map[string]any{"window": w.Name, "opening": run.ScheduledAt, "opsitem": o.ID}})
		return err
	})
}
