// Package jobs is Flywheel's durable background work: runbook executions,
// scheduled evaluations and retries run as jobs on River, which keeps them in
// the same database as everything else (SQLite or PostgreSQL), so a job is
// enqueued in the very transaction that causes it and survives a restart.
//
// A Queue wraps one River client. New picks River's driver from the store
// (the SQLite store's single write connection, or the PostgreSQL pool and
// schema) and applies River's own migrations. Other packages register their
// job kinds with AddWorker and AddPeriodic before the queue is first used,
// then enqueue with InsertTx inside store.Store.InTx, so "OpsItem opened" and
// "runbook queued" commit or roll back together. Periodic jobs run on the
// elected leader only; with several `flywheel serve` replicas on one
// PostgreSQL, exactly one of them schedules them.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/flywheel-ops/flywheel/internal/store"
)

// Options configure a Queue. Zero values take the defaults noted.
type Options struct {
	Logger *slog.Logger // default slog.Default()
	// Clock is the time handed to jobs (checkpoint times, retention
	// cut-offs); River's own scheduling keeps the wall clock.
	Clock func() time.Time // default time.Now
	// Workers bounds how many jobs run at once in this process.
	Workers int // default 10
	// JobTimeout cancels a job's context after this long unless its worker
	// sets its own Timeout; -1 means no timeout.
	JobTimeout time.Duration // default 1 minute
	// AuditCheckpointEvery is how often the leader records every tenant's
	// audit chain head (audit.Checkpoint); AuditCheckpointKeep is how long
	// checkpoints are kept (the newest per tenant always is).
	AuditCheckpointEvery time.Duration // default 15 minutes
	AuditCheckpointKeep  time.Duration // default 30 days
	// RetentionEvery is how often the leader runs the pruners registered
	// with AddPruner.
	RetentionEvery time.Duration // default 1 hour
	// PollInterval is how often idle workers look for new jobs when no
	// notification arrives (always, on SQLite). Tests lower it.
	PollInterval time.Duration // default 1 second
	// HardStopTimeout bounds how long Stop waits for cancelled jobs to
	// return once its own context has expired.
	HardStopTimeout time.Duration // default 5 seconds

	// testOnly switches off River's start-up jitter (tests only).
	testOnly bool
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Workers == 0 {
		o.Workers = 10
	}
	if o.JobTimeout == 0 {
		o.JobTimeout = time.Minute
	}
	if o.AuditCheckpointEvery == 0 {
		o.AuditCheckpointEvery = 15 * time.Minute
	}
	if o.AuditCheckpointKeep == 0 {
		o.AuditCheckpointKeep = 30 * 24 * time.Hour
	}
	if o.RetentionEvery == 0 {
		o.RetentionEvery = time.Hour
	}
	if o.PollInterval == 0 {
		o.PollInterval = time.Second
	}
	if o.HardStopTimeout == 0 {
		o.HardStopTimeout = 5 * time.Second
	}
	return o
}

func (o Options) validate() error {
	var errs []error
	if o.Workers < 1 || o.Workers > river.QueueNumWorkersMax {
		errs = append(errs, fmt.Errorf("workers: %d is out of range 1..%d", o.Workers, river.QueueNumWorkersMax))
	}
	if o.JobTimeout < -1 {
		errs = append(errs, fmt.Errorf("job timeout: %s is negative", o.JobTimeout))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"audit checkpoint interval", o.AuditCheckpointEvery},
		{"audit checkpoint retention", o.AuditCheckpointKeep},
		{"retention interval", o.RetentionEvery},
		{"poll interval", o.PollInterval},
		{"hard stop timeout", o.HardStopTimeout},
	} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("%s: %s is negative", d.name, d.v))
		}
	}
	return errors.Join(errs...)
}

// ErrSealed is returned when a worker, periodic job or pruner is added after
// the queue was first used: River fixes its workers when its client is built.
var ErrSealed = errors.New("jobs: queue already in use; register workers before Start, Insert or InsertTx")

// Queue runs background jobs on River over the application's store.
type Queue struct {
	st      store.Store
	opts    Options
	log     *slog.Logger
	newCl   func(*river.Config) (client, error)
	schema  string
	workers *river.Workers

	mu       sync.Mutex
	periodic []*river.PeriodicJob
	pruners  []namedPruner
	cl       client // built on first use; registration is closed from then on
	started  bool
	stopped  bool
}

// New prepares a Queue over st, which must be a *sqlite.Store or a
// *postgres.Store (or a type embedding one), and applies River's schema
// migrations. It registers the audit checkpoint job; callers add their own
// kinds with AddWorker before Start.
func New(ctx context.Context, st store.Store, opts Options) (*Queue, error) {
	opts = opts.withDefaults()
	if err := opts.validate(); err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	q := &Queue{st: st, opts: opts, log: opts.Logger, workers: river.NewWorkers()}
	d, err := detect(st)
	if err != nil {
		return nil, err
	}
	if err := d.migrate(ctx, opts.Logger); err != nil {
		return nil, fmt.Errorf("jobs: river migrations: %w", err)
	}
	q.newCl, q.schema = d.newClient, d.schema

	if err := AddWorker(q, &auditCheckpointWorker{st: st, clock: opts.Clock, keep: opts.AuditCheckpointKeep, log: opts.Logger}); err != nil {
		return nil, err
	}
	q.periodic = append(q.periodic, river.NewPeriodicJob(
		river.PeriodicInterval(opts.AuditCheckpointEvery),
		func() (river.JobArgs, *river.InsertOpts) { return AuditCheckpointArgs{}, nil },
		&river.PeriodicJobOpts{ID: AuditCheckpointArgs{}.Kind(), RunOnStart: true},
	))
	return q, nil
}

// AddWorker registers w for its job kind. It must be called before the queue
// is first used (Start, Insert, InsertTx); afterwards it returns ErrSealed.
func AddWorker[T river.JobArgs](q *Queue, w river.Worker[T]) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.cl != nil {
		return ErrSealed
	}
	if err := river.AddWorkerSafely(q.workers, w); err != nil {
		return fmt.Errorf("jobs: %w", err)
	}
	return nil
}

// AddPeriodic schedules a periodic job. River runs the schedule on the
// elected leader only, so the job is enqueued once per cluster, not once per
// replica. Its kind needs a worker (AddWorker). Call before first use.
func (q *Queue) AddPeriodic(job *river.PeriodicJob) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.cl != nil {
		return ErrSealed
	}
	q.periodic = append(q.periodic, job)
	return nil
}

// client returns the River client, building it (and closing registration)
// on first call.
func (q *Queue) client() (client, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.cl != nil {
		return q.cl, nil
	}
	periodic := q.periodic
	if len(q.pruners) > 0 {
		pr := &retentionWorker{pruners: q.pruners, clock: q.opts.Clock, log: q.log, timeout: q.opts.RetentionEvery}
		if err := river.AddWorkerSafely(q.workers, pr); err != nil {
			return nil, fmt.Errorf("jobs: %w", err)
		}
		periodic = append(periodic, river.NewPeriodicJob(
			river.PeriodicInterval(q.opts.RetentionEvery),
			func() (river.JobArgs, *river.InsertOpts) { return RetentionArgs{}, nil },
			&river.PeriodicJobOpts{ID: RetentionArgs{}.Kind(), RunOnStart: true},
		))
	}
	cooldown := min(100*time.Millisecond, q.opts.PollInterval)
	cfg := &river.Config{
		Logger:            riverLogger(q.log),
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: q.opts.Workers}},
		Workers:           q.workers,
		PeriodicJobs:      periodic,
		Schema:            q.schema,
		JobTimeout:        q.opts.JobTimeout,
		FetchCooldown:     cooldown,
		FetchPollInterval: q.opts.PollInterval,
		TestOnly:          q.opts.testOnly,
	}
	cl, err := q.newCl(cfg)
	if err != nil {
		return nil, fmt.Errorf("jobs: river client: %w", err)
	}
	q.cl = cl
	return cl, nil
}

// Start begins working jobs and, if elected leader, scheduling periodic
// ones. Cancelling ctx does not stop the queue — a shutdown signal must not
// kill running jobs mid-step — Stop does. Start on a started queue is a
// no-op; after Stop it is an error.
func (q *Queue) Start(ctx context.Context) error {
	cl, err := q.client()
	if err != nil {
		return err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.stopped {
		return errors.New("jobs: queue stopped")
	}
	if q.started {
		return nil
	}
	if err := cl.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("jobs: start: %w", err)
	}
	q.started = true
	q.log.DebugContext(ctx, "job queue started", "driver", q.st.Driver(), "client_id", cl.ID())
	return nil
}

// Stop stops fetching jobs and waits for running ones to finish. If ctx
// expires first, it cancels the running jobs' contexts and waits at most
// Options.HardStopTimeout more for them to return. Only the first call does
// anything; it returns an error only if jobs still had not returned.
func (q *Queue) Stop(ctx context.Context) error {
	q.mu.Lock()
	cl, started, stopped := q.cl, q.started, q.stopped
	q.stopped = true
	q.mu.Unlock()
	if stopped || !started {
		return nil
	}
	err := cl.Stop(ctx)
	if err == nil || ctx.Err() == nil {
		return err
	}
	q.log.Warn("job queue: graceful stop timed out; cancelling running jobs", "timeout", q.opts.HardStopTimeout)
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), q.opts.HardStopTimeout)
	defer cancel()
	if err := cl.StopAndCancel(hctx); err != nil {
		return fmt.Errorf("jobs: hard stop: jobs still running after %s: %w", q.opts.HardStopTimeout, err)
	}
	return nil
}

// Insert enqueues a job in a transaction of its own. Do not call it inside
// store.Store.InTx on SQLite: the single write connection is taken, so it
// would wait forever — use InsertTx there.
func (q *Queue) Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) error {
	cl, err := q.client()
	if err != nil {
		return err
	}
	if err := cl.Insert(ctx, args, opts); err != nil {
		return fmt.Errorf("jobs: insert %s: %w", args.Kind(), err)
	}
	return nil
}

// InsertTx enqueues a job in the caller's store transaction: it becomes
// visible to workers when tx commits and vanishes if tx rolls back.
func (q *Queue) InsertTx(ctx context.Context, tx store.Tx, args river.JobArgs, opts *river.InsertOpts) error {
	cl, err := q.client()
	if err != nil {
		return err
	}
	if err := cl.InsertTx(ctx, tx.Raw(), args, opts); err != nil {
		return fmt.Errorf("jobs: insert %s: %w", args.Kind(), err)
	}
	return nil
}

// ClientID is the job queue client's ID, the one River's leader row and
// a job's attempted_by name ("" before first use). Replicas log it when
// they start serving, so an operator can tell which one leads.
func (q *Queue) ClientID() string {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.cl == nil {
		return ""
	}
	return q.cl.ID()
}

// IsLeader reports whether this queue's client currently holds River's
// leadership (and so runs periodic jobs). It reads the leader row: a
// snapshot, stale as soon as it returns.
func (q *Queue) IsLeader(ctx context.Context) (bool, error) {
	q.mu.Lock()
	cl, started := q.cl, q.started
	q.mu.Unlock()
	if !started {
		return false, nil
	}
	id, err := cl.leader(ctx)
	if err != nil {
		return false, fmt.Errorf("jobs: leader: %w", err)
	}
	return id == cl.ID(), nil
}
