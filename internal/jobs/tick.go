package jobs

import (
	"context"
	"time"

	"github.com/riverqueue/river"
)

// tickWorker runs a Tick's function.
type tickWorker[T river.JobArgs] struct {
	river.WorkerDefaults[T]
	work func(context.Context) error
}

func (w *tickWorker[T]) Work(ctx context.Context, _ *river.Job[T]) error { return w.work(ctx) }

// AddTick registers work as the periodic job of kind args.Kind(), run
// every interval on the elected leader (and at start): the leader's tick
// of a scheduler (resource schedules, capacity forecasts). Give args'
// type InsertOpts with MaxAttempts 1 so a failed tick is not retried —
// the next one does its work. Call before first use.
func AddTick[T river.JobArgs](q *Queue, every time.Duration, args T, work func(context.Context) error) error {
	if err := AddWorker(q, &tickWorker[T]{work: work}); err != nil {
		return err
	}
	return q.AddPeriodic(river.NewPeriodicJob(river.PeriodicInterval(every),
		func() (river.JobArgs, *river.InsertOpts) { return args, nil },
		&river.PeriodicJobOpts{ID: args.Kind(), RunOnStart: true}))
}
