package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

const recoveryPointCols = `id, tenant_id, plan, rule, resource_id, method, repository, location, created_at, duration_us, size_bytes,
	checksum, manifest, status, error, verification, verified_at, expires_at, immutable_until, deleted_at, opsitem_id`

func scanRecoveryPoint(r Row) (store.RecoveryPoint, error) {
	var p store.RecoveryPoint
	var created, duration, verified, expires, immutable, deleted int64
	var manifest string
	err := r.Scan(&p.ID, &p.TenantID, &p.Plan, &p.Rule, &p.ResourceID, &p.Method, &p.Repository, &p.Location, &created, &duration,
		&p.SizeBytes, &p.Checksum, &manifest, &p.Status, &p.Error, &p.Verification, &verified, &expires, &immutable, &deleted, &p.OpsItemID)
	if err != nil {
		return p, err
	}
	p.CreatedAt, p.Duration, p.VerifiedAt = fromTS(created), time.Duration(duration)*time.Microsecond, fromTSPtr(verified)
	p.ExpiresAt, p.ImmutableUntil, p.DeletedAt = fromTS(expires), fromTS(immutable), fromTSPtr(deleted)
	if manifest != "" && manifest != "{}" {
		if err := json.Unmarshal([]byte(manifest), &p.Manifest); err != nil {
			return p, fmt.Errorf("recovery point %s manifest: %w", p.ID, err)
		}
	}
	return p, nil
}

func recoveryPointArgs(p store.RecoveryPoint) ([]any, error) {
	manifest := []byte("{}")
	if len(p.Manifest) > 0 {
		var err error
		if manifest, err = json.Marshal(p.Manifest); err != nil {
			return nil, fmt.Errorf("recovery point %s manifest: %w", p.ID, err)
		}
	}
	return []any{p.ID, p.TenantID, p.Plan, p.Rule, p.ResourceID, p.Method, p.Repository, p.Location, ts(p.CreatedAt), p.Duration.Microseconds(),
		p.SizeBytes, p.Checksum, string(manifest), p.Status, p.Error, p.Verification, tsPtr(p.VerifiedAt), ts(p.ExpiresAt), ts(p.ImmutableUntil),
		tsPtr(p.DeletedAt), p.OpsItemID}, nil
}

func (r reader) GetRecoveryPoint(ctx context.Context, tenantID, id string) (store.RecoveryPoint, error) {
	p, err := scanRecoveryPoint(r.q.QueryRow(ctx, "SELECT "+recoveryPointCols+" FROM recovery_points WHERE tenant_id = $1 AND id = $2", tenantID, id))
	return p, r.notFound(err, "recovery point "+id)
}

func (r reader) ListRecoveryPoints(ctx context.Context, tenantID string, f store.RecoveryPointFilter, page store.Page) ([]store.RecoveryPoint, string, error) {
	var w where
	w.add("tenant_id = ?", tenantID)
	if f.Plan != "" {
		w.add("plan = ?", f.Plan)
	}
	if f.ResourceID != "" {
		w.add("resource_id = ?", f.ResourceID)
	}
	if f.Status != "" {
		w.add("status = ?", f.Status)
	}
	if f.ExpiredBy != nil {
		w.add("status <> ?", store.PointDeleted)
		w.add("expires_at <= ?", ts(*f.ExpiredBy))
	}
	return listPage(ctx, r.q, recoveryPointCols, "recovery_points", "id", w, page,
		func(rows Rows) (store.RecoveryPoint, error) { return scanRecoveryPoint(rows) },
		func(p store.RecoveryPoint) string { return p.ID })
}

func (t *tx) CreateRecoveryPoint(ctx context.Context, p store.RecoveryPoint) error {
	if p.ExpiresAt.Before(p.ImmutableUntil) {
		return fmt.Errorf("recovery point %s expires at %s, before its immutability ends at %s: %w", p.ID,
			p.ExpiresAt.Format(time.RFC3339), p.ImmutableUntil.Format(time.RFC3339), store.ErrImmutable)
	}
	args, err := recoveryPointArgs(p)
	if err != nil {
		return err
	}
	_, err = t.h.Exec(ctx, "INSERT INTO recovery_points ("+recoveryPointCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,
		$11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)`, args...)
	return conflict(t.b, err, "recovery point "+p.ID)
}

func (t *tx) UpdateRecoveryPoint(ctx context.Context, p store.RecoveryPoint) error {
	old, err := scanRecoveryPoint(t.h.QueryRow(ctx, "SELECT "+recoveryPointCols+" FROM recovery_points WHERE tenant_id = $1 AND id = $2", p.TenantID, p.ID))
	if err := t.notFound(err, "recovery point "+p.ID); err != nil {
		return err
	}
	switch {
	case p.ImmutableUntil.Before(old.ImmutableUntil):
		return fmt.Errorf("recovery point %s is immutable until %s; that cannot be shortened: %w", p.ID,
			old.ImmutableUntil.Format(time.RFC3339), store.ErrImmutable)
	case p.ExpiresAt.Before(p.ImmutableUntil):
		return fmt.Errorf("recovery point %s is immutable until %s; its retention cannot end before: %w", p.ID,
			p.ImmutableUntil.Format(time.RFC3339), store.ErrImmutable)
	case p.Status == store.PointDeleted && old.Status != store.PointDeleted && (p.DeletedAt == nil || p.DeletedAt.Before(p.ImmutableUntil)):
		return fmt.Errorf("recovery point %s is immutable until %s; it cannot be deleted before: %w", p.ID,
			p.ImmutableUntil.Format(time.RFC3339), store.ErrImmutable)
	}
	args, err := recoveryPointArgs(p)
	if err != nil {
		return err
	}
	_, err = t.h.Exec(ctx, `UPDATE recovery_points SET size_bytes = $11, checksum = $12, manifest = $13, status = $14, error = $15,
		verification = $16, verified_at = $17, expires_at = $18, immutable_until = $19, deleted_at = $20, opsitem_id = $21
		WHERE id = $1 AND tenant_id = $2 AND plan = $3 AND rule = $4 AND resource_id = $5 AND method = $6 AND repository = $7
		AND location = $8 AND created_at = $9 AND duration_us = $10`, args...)
	return err
}

const restoreTestCols = "id, tenant_id, plan, point_id, resource_id, started_at, duration_us, status, detail, opsitem_id"

func scanRestoreTest(r Row) (store.RestoreTest, error) {
	var x store.RestoreTest
	var started, duration int64
	err := r.Scan(&x.ID, &x.TenantID, &x.Plan, &x.PointID, &x.ResourceID, &started, &duration, &x.Status, &x.Detail, &x.OpsItemID)
	x.StartedAt, x.Duration = fromTS(started), time.Duration(duration)*time.Microsecond
	return x, err
}

func (r reader) ListRestoreTests(ctx context.Context, tenantID, plan string, page store.Page) ([]store.RestoreTest, string, error) {
	var w where
	w.add("tenant_id = ?", tenantID)
	if plan != "" {
		w.add("plan = ?", plan)
	}
	return listPage(ctx, r.q, restoreTestCols, "restore_tests", "id", w, page,
		func(rows Rows) (store.RestoreTest, error) { return scanRestoreTest(rows) },
		func(x store.RestoreTest) string { return x.ID })
}

func (t *tx) CreateRestoreTest(ctx context.Context, x store.RestoreTest) error {
	_, err := t.h.Exec(ctx, "INSERT INTO restore_tests ("+restoreTestCols+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
		x.ID, x.TenantID, x.Plan, x.PointID, x.ResourceID, ts(x.StartedAt), x.Duration.Microseconds(), x.Status, x.Detail, x.OpsItemID)
	return conflict(t.b, err, "restore test "+x.ID)
}
