package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
)

// Pruner deletes data older than its own retention, measured from now, and
// says how many rows it removed. Packages that keep expiring data (raw
// payloads, resolved events) register one with AddPruner.
type Pruner func(ctx context.Context, now time.Time) (int64, error)

type namedPruner struct {
	name string
	fn   Pruner
}

// AddPruner registers fn to run every Options.RetentionEvery on the leader,
// in one "retention" job with the other pruners. Call before first use.
func (q *Queue) AddPruner(name string, fn Pruner) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.cl != nil {
		return ErrSealed
	}
	q.pruners = append(q.pruners, namedPruner{name, fn})
	return nil
}

// RetentionArgs is the periodic job that runs the registered pruners. It is
// scheduled only when at least one pruner is registered.
type RetentionArgs struct{}

// Kind implements river.JobArgs.
func (RetentionArgs) Kind() string { return "retention" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (RetentionArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 3} }

type retentionWorker struct {
	river.WorkerDefaults[RetentionArgs]
	pruners []namedPruner
	clock   func() time.Time
	log     *slog.Logger
	timeout time.Duration // the retention interval
}

// Timeout lets a run work through a backlog (the first run after retention
// is turned on) for up to one interval instead of the queue's job timeout;
// the pruners work in batches that each commit, so a run cut short has kept
// its progress and the next one resumes.
func (w *retentionWorker) Timeout(*river.Job[RetentionArgs]) time.Duration { return w.timeout }

// Work runs every pruner even if one fails, so one broken table does not
// stop the others from being pruned.
func (w *retentionWorker) Work(ctx context.Context, _ *river.Job[RetentionArgs]) error {
	now := w.clock()
	var errs []error
	for _, p := range w.pruners {
		n, err := p.fn(ctx, now)
		if err != nil {
			errs = append(errs, fmt.Errorf("prune %s: %w", p.name, err))
			continue
		}
		if n > 0 {
			w.log.InfoContext(ctx, "pruned expired rows", "pruner", p.name, "rows", n)
		}
	}
	return errors.Join(errs...)
}
