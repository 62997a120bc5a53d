package backup

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/exec"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// Sweep enforces retention: every point of tenant whose retention has
// ended is marked deleted, an available one after it is deleted from its
// repository, a failed one (nothing to delete) at once. It returns how
// many it deleted.
func (s *Service) Sweep(ctx context.Context, tenant string) (int, error) {
	now := s.now()
	pts, _, err := s.o.Store.ListRecoveryPoints(ctx, tenant, store.RecoveryPointFilter{ExpiredBy: &now}, store.Page{Limit: store.MaxPageLimit})
	if err != nil {
		return 0, err
	}
	var errs []error
	n := 0
	for _, pt := range pts {
		if err := s.delete(ctx, pt, "system:backup-retention", "retention ended"); err != nil {
			errs = append(errs, err)
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

// Delete deletes a point before its retention ends, as an operator asks.
// Inside the point's immutability window it is refused (store.ErrImmutable),
// whoever asks.
func (s *Service) Delete(ctx context.Context, tenant, pointID, actor string) error {
	pt, err := s.o.Store.GetRecoveryPoint(ctx, tenant, pointID)
	if err != nil {
		return err
	}
	return s.delete(ctx, pt, actor, "asked for")
}

// SetRetention moves a point's expiry; it cannot end before the point's
// immutability does.
func (s *Service) SetRetention(ctx context.Context, tenant, pointID string, expires time.Time, actor string) (store.RecoveryPoint, error) {
	var pt store.RecoveryPoint
	err := s.o.Store.InTx(ctx, func(tx store.Tx) error {
		var err error
		if pt, err = tx.GetRecoveryPoint(ctx, tenant, pointID); err != nil {
			return err
		}
		old := pt.ExpiresAt
		pt.ExpiresAt = expires.UTC().Truncate(time.Microsecond)
		err = tx.UpdateRecoveryPoint(ctx, pt)
		_, aerr := audit.Append(ctx, tx, tenant, s.now(), audit.Entry{Actor: actor, Action: "backup.retention", Target: "recovery-point/" + pt.ID,
			Result: resultOf(err), Detail: map[string]any{"from": old, "to": pt.ExpiresAt}})
		return errors.Join(err, aerr)
	})
	return pt, err
}

func (s *Service) delete(ctx context.Context, pt store.RecoveryPoint, actor, why string) error {
	now := s.now()
	if pt.Status == store.PointDeleted {
		return nil
	}
	if now.Before(pt.ImmutableUntil) {
		return s.refuse(ctx, pt, actor, fmt.Errorf("recovery point %s is immutable until %s: %w", pt.ID, pt.ImmutableUntil.Format(time.RFC3339), store.ErrImmutable))
	}
	if pt.Status == store.PointAvailable && pt.Method == MethodEBS {
		if err := s.deleteEBS(ctx, pt); err != nil {
			return fmt.Errorf("deleting recovery point %s: %w", pt.ID, err)
		}
	} else if pt.Status == store.PointAvailable {
		cmd := exec.Command{Env: map[string]string{}, Timeout: time.Hour}
		switch pt.Method {
		case MethodPostgres:
			cmd.Script = postgresDelete(pt.Location)
		case MethodRestic:
			p, err := s.Plan(pt.TenantID, pt.Plan)
			if err != nil {
				return err
			}
			if err := resticEnv(cmd.Env, p.Repository, "RESTIC_REPOSITORY", "RESTIC_PASSWORD", s.o.Secret); err != nil {
				return err
			}
			cmd.Script = resticForget(pt.Location)
		}
		if _, err := s.run(ctx, pt.TenantID, pt.ResourceID, cmd); err != nil {
			return fmt.Errorf("deleting recovery point %s: %w", pt.ID, err)
		}
	}
	pt.Status, pt.DeletedAt = store.PointDeleted, &now
	if pt.ExpiresAt.After(now) {
		pt.ExpiresAt = now
	}
	return s.o.Store.InTx(ctx, func(tx store.Tx) error {
		if err := tx.UpdateRecoveryPoint(ctx, pt); err != nil {
			return err
		}
		_, err := audit.Append(ctx, tx, pt.TenantID, now, audit.Entry{Actor: actor, Action: "backup.delete", Target: "recovery-point/" + pt.ID,
			Result: "ok", Detail: map[string]any{"why": why, "plan": pt.Plan, "resource": pt.ResourceID}})
		return err
	})
}

// refuse audits a refused deletion and returns err.
func (s *Service) refuse(ctx context.Context, pt store.RecoveryPoint, actor string, err error) error {
	aerr := s.o.Store.InTx(ctx, func(tx store.Tx) error {
		_, e := audit.Append(ctx, tx, pt.TenantID, s.now(), audit.Entry{Actor: actor, Action: "backup.delete", Target: "recovery-point/" + pt.ID,
			Result: "denied: immutable until " + pt.ImmutableUntil.Format(time.RFC3339)})
		return e
	})
	return errors.Join(err, aerr)
}
