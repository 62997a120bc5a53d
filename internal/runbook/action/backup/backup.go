// Package backup is the `backup` step action: take a recovery point of the
// step's target with a backup plan (internal/backup), or run a plan's
// restore test. The built-in runbook `backup` runs it; backup plans' rules
// start that runbook through maintenance windows, so backups run on the
// one scheduler and each is a durable, audited execution.
package backup

import (
	"context"
	"errors"
	"fmt"

	"github.com/flywheel-ops/flywheel/internal/runbook/action"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/with"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// Operations a step may run.
const (
	OpBackup      = "backup"
	OpRestoreTest = "restore_test"
)

// Service takes points and tests restores; *backup.Service is one.
type Service interface {
	Backup(ctx context.Context, tenant, plan, rule, selection, resource, actor string) (store.RecoveryPoint, error)
	TestRestore(ctx context.Context, tenant, plan, pointID, resource, actor string) (store.RestoreTest, error)
	Sweep(ctx context.Context, tenant string) (int, error)
}

// Options configure the action.
type Options struct {
	// Service runs the operations; nil: steps load but fail when run.
	Service Service
	// TenantOf returns the tenant of the calling execution.
	TenantOf func(ctx context.Context) string
}

// Backup is the backup action.
type Backup struct{ o Options }

var _ action.Action = (*Backup)(nil)

// New returns the backup action.
func New(o Options) *Backup { return &Backup{o: o} }

// Name implements action.Action.
func (*Backup) Name() string { return "backup" }

type step struct {
	op, plan, rule, selection string
}

func parse(r *with.Reader) step {
	s := step{op: OpBackup}
	if op, ok := r.String("operation"); ok {
		if op != OpBackup && op != OpRestoreTest && !r.Validating() {
			r.Errorf("operation", "%q is not backup or restore_test", op)
		}
		s.op = op
	}
	r.Require("plan")
	s.plan, _ = r.String("plan")
	s.rule, _ = r.String("rule")
	s.selection, _ = r.String("selection")
	if s.op == OpBackup {
		r.Require("rule", "selection")
	} else {
		r.Forbid("by a restore test", "rule", "selection")
	}
	return s
}

// Validate implements action.Action.
func (*Backup) Validate(m map[string]any) error {
	r := with.ForValidate(m)
	parse(r)
	return r.Err()
}

// Run implements action.Action.
func (b *Backup) Run(ctx context.Context, in action.Input) (action.Output, error) {
	r := with.ForRun(in.With)
	s := parse(r)
	if err := r.Err(); err != nil {
		return action.Output{}, action.Permanent(fmt.Errorf("backup: %w", err))
	}
	if b.o.Service == nil || b.o.TenantOf == nil {
		return action.Output{}, action.Permanent(errors.New("backup: this server runs no backup service"))
	}
	tenant := b.o.TenantOf(ctx)
	actor := "execution:" + in.ExecutionID
	if in.Target == nil {
		return action.Output{}, action.Permanent(errors.New("backup: the step has no target; run it per_target"))
	}
	if s.op == OpRestoreTest {
		rt, err := b.o.Service.TestRestore(ctx, tenant, s.plan, "", in.Target.ID, actor)
		out := action.Output{Values: map[string]any{"restore_test": rt.ID, "point": rt.PointID, "status": rt.Status,
			"duration_seconds": rt.Duration.Seconds(), "opsitem": rt.OpsItemID}, Log: rt.Detail}
		return out, permanent(err)
	}
	pt, err := b.o.Service.Backup(ctx, tenant, s.plan, s.rule, s.selection, in.Target.ID, actor)
	out := action.Output{Values: map[string]any{"point": pt.ID, "status": pt.Status, "size_bytes": pt.SizeBytes,
		"duration_seconds": pt.Duration.Seconds(), "opsitem": pt.OpsItemID},
		Log: fmt.Sprintf("recovery point %s: %s, %d bytes in %s", pt.ID, pt.Status, pt.SizeBytes, pt.Duration)}
	if err != nil {
		// The failure is recorded (a failed point, an OpsItem); a retry
		// would take another point, so the step fails at once.
		return out, action.Permanent(err)
	}
	// Retention runs after each backup: points past their time go.
	if n, err := b.o.Service.Sweep(ctx, tenant); err != nil {
		out.Log += fmt.Sprintf("; retention: %v", err)
	} else if n > 0 {
		out.Log += fmt.Sprintf("; retention deleted %d expired points", n)
	}
	return out, nil
}

func permanent(err error) error {
	if err == nil {
		return nil
	}
	return action.Permanent(err)
}
