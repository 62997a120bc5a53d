package execution

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/flywheel-ops/flywheel/internal/jobs"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// AdvanceArgs is the job that runs an execution's next steps.
type AdvanceArgs struct {
	TenantID    string `json:"tenant"`
	ExecutionID string `json:"execution"`
}

// Kind implements river.JobArgs.
func (AdvanceArgs) Kind() string { return "runbook_execution" }

// InsertOpts implements river.JobArgsWithInsertOpts. A failing job is
// retried a few times; beyond that, recovery re-enqueues the execution.
func (AdvanceArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 5} }

// ApprovalTimeoutArgs ends an execution whose approval gate (Seq) is still
// open when it runs.
type ApprovalTimeoutArgs struct {
	TenantID    string `json:"tenant"`
	ExecutionID string `json:"execution"`
	Seq         int    `json:"seq"`
}

// Kind implements river.JobArgs.
func (ApprovalTimeoutArgs) Kind() string { return "runbook_approval_timeout" }

// RecoverArgs is the periodic job that re-enqueues executions a crash left
// without a job.
type RecoverArgs struct{}

// Kind implements river.JobArgs.
func (RecoverArgs) Kind() string { return "runbook_recover" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (RecoverArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 1} }

type advanceWorker struct {
	river.WorkerDefaults[AdvanceArgs]
	x *Executor
}

// Timeout: steps have their own timeouts; River's would cut a long step.
func (w *advanceWorker) Timeout(*river.Job[AdvanceArgs]) time.Duration { return -1 }

func (w *advanceWorker) Work(ctx context.Context, job *river.Job[AdvanceArgs]) error {
	return w.x.run(ctx, job.Args.TenantID, job.Args.ExecutionID)
}

type approvalTimeoutWorker struct {
	river.WorkerDefaults[ApprovalTimeoutArgs]
	x *Executor
}

func (w *approvalTimeoutWorker) Work(ctx context.Context, job *river.Job[ApprovalTimeoutArgs]) error {
	return w.x.approvalTimeout(ctx, job.Args.TenantID, job.Args.ExecutionID, job.Args.Seq)
}

type recoverWorker struct {
	river.WorkerDefaults[RecoverArgs]
	x *Executor
}

func (w *recoverWorker) Work(ctx context.Context, _ *river.Job[RecoverArgs]) error {
	_, err := w.x.Recover(ctx)
	return err
}

// Register adds the executor's job kinds to q, and the periodic recovery,
// which runs on the elected leader. Call before q starts.
func (x *Executor) Register(q *jobs.Queue) error {
	if err := jobs.AddWorker(q, &advanceWorker{x: x}); err != nil {
		return err
	}
	if err := jobs.AddWorker(q, &approvalTimeoutWorker{x: x}); err != nil {
		return err
	}
	if err := jobs.AddWorker(q, &recoverWorker{x: x}); err != nil {
		return err
	}
	return q.AddPeriodic(river.NewPeriodicJob(river.PeriodicInterval(x.opts.RecoverEvery),
		func() (river.JobArgs, *river.InsertOpts) { return RecoverArgs{}, nil },
		&river.PeriodicJobOpts{ID: RecoverArgs{}.Kind(), RunOnStart: true}))
}

// Recover enqueues a job for every execution that should be making
// progress but has no live worker: its lease expired (the worker died) and
// it is overdue by more than a lease period. It returns how many it
// enqueued. Running it on several replicas at once is harmless: a
// duplicate job finds the lease taken and stops.
func (x *Executor) Recover(ctx context.Context) (int, error) {
	now := x.now()
	overdue, err := x.st.OverdueExecutions(ctx, now, now.Add(-x.opts.LeaseTTL), 100)
	if err != nil {
		return 0, fmt.Errorf("overdue executions: %w", err)
	}
	n := 0
	for _, e := range overdue {
		err := x.st.InTx(ctx, func(tx store.Tx) error {
			cur, err := tx.LockExecution(ctx, e.TenantID, e.ID)
			if err != nil {
				return err
			}
			if cur.DueAt != e.DueAt || cur.LeaseUntil.After(now) {
				return nil // moved on meanwhile
			}
			cur.DueAt = now
			if err := tx.UpdateExecution(ctx, cur); err != nil {
				return err
			}
			n++
			return x.enqueue(ctx, tx, cur)
		})
		if err != nil {
			return n, fmt.Errorf("recover execution %s: %w", e.ID, err)
		}
		x.log.InfoContext(ctx, "execution resumed after its worker stopped", "execution", e.ID, "tenant", e.TenantID, "step", e.Cursor)
	}
	return n, nil
}
