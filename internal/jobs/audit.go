package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// AuditCheckpointArgs is the periodic job that records every tenant's audit
// chain head (audit.Checkpoint), so that `flywheel audit verify` can tell
// when the log's tail was deleted even if the head row was rewritten too.
type AuditCheckpointArgs struct{}

// Kind implements river.JobArgs.
func (AuditCheckpointArgs) Kind() string { return "audit_checkpoint" }

// InsertOpts implements river.JobArgsWithInsertOpts: a checkpoint is cheap
// and the next one is minutes away, so a few attempts suffice.
func (AuditCheckpointArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 3} }

type auditCheckpointWorker struct {
	river.WorkerDefaults[AuditCheckpointArgs]
	st    store.Store
	clock func() time.Time
	keep  time.Duration
	log   *slog.Logger
}

func (w *auditCheckpointWorker) Work(ctx context.Context, _ *river.Job[AuditCheckpointArgs]) error {
	n, err := audit.Checkpoint(ctx, w.st, w.clock(), w.keep)
	if err != nil {
		return fmt.Errorf("audit checkpoint: %w", err)
	}
	w.log.DebugContext(ctx, "audit checkpoint", "tenants", n)
	return nil
}
