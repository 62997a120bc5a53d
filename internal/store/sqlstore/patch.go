package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

const patchStateCols = "tenant_id, resource_id, hostname, patch_group, baseline, scanned_at, compliant, noncompliant_since, opsitem_id, detail"

func scanPatchState(r Row) (store.PatchState, error) {
	var s store.PatchState
	var scanned, since, compliant int64
	var detail string
	err := r.Scan(&s.TenantID, &s.ResourceID, &s.Hostname, &s.Group, &s.Baseline, &scanned, &compliant, &since, &s.OpsItemID, &detail)
	s.Compliant = compliant == 1
	s.ScannedAt, s.NoncompliantSince, s.Detail = fromTS(scanned), fromTSPtr(since), json.RawMessage(detail)
	return s, err
}

func (r reader) GetPatchState(ctx context.Context, tenantID, resourceID string) (store.PatchState, error) {
	s, err := scanPatchState(r.q.QueryRow(ctx, "SELECT "+patchStateCols+" FROM patch_states WHERE tenant_id = $1 AND resource_id = $2", tenantID, resourceID))
	return s, r.notFound(err, "patch state of "+resourceID)
}

func (r reader) ListPatchStates(ctx context.Context, tenantID string) ([]store.PatchState, error) {
	return deflectionRows(ctx, r.q, "SELECT "+patchStateCols+" FROM patch_states WHERE tenant_id = $1 ORDER BY resource_id",
		func(rows Rows) (store.PatchState, error) { return scanPatchState(rows) }, tenantID)
}

func (r reader) ListPatchHistory(ctx context.Context, tenantID string, since time.Time) ([]store.PatchPoint, error) {
	return deflectionRows(ctx, r.q, "SELECT resource_id, patch_group, at, compliant FROM patch_points WHERE tenant_id = $1 AND at >= $2 ORDER BY at",
		func(rows Rows) (store.PatchPoint, error) {
			var p store.PatchPoint
			var at, compliant int64
			err := rows.Scan(&p.ResourceID, &p.Group, &at, &compliant)
			p.At, p.Compliant = fromTS(at), compliant == 1
			return p, err
		}, tenantID, ts(since))
}

func (r reader) PatchReleases(ctx context.Context, tenantID string, names []string) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	if len(names) == 0 {
		return out, nil
	}
	args := []any{tenantID}
	marks := make([]string, len(names))
	for i, n := range names {
		args = append(args, n)
		marks[i] = fmt.Sprintf("$%d", i+2)
	}
	rows, err := r.q.Query(ctx, "SELECT name, version, first_seen FROM patch_releases WHERE tenant_id = $1 AND name IN ("+strings.Join(marks, ", ")+")", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var name, version string
		var at int64
		if err := rows.Scan(&name, &version, &at); err != nil {
			return nil, err
		}
		out[name+"="+version] = fromTS(at)
	}
	return out, rows.Err()
}

const expediteCols = "id, tenant_id, package, version, source, reason, targets, requested_by, requested_at, due_at, status, execution_id, opsitem_id, installed_at, error"

func scanExpedite(r Row) (store.Expedite, error) {
	var e store.Expedite
	var targets string
	var requested, due, installed int64
	err := r.Scan(&e.ID, &e.TenantID, &e.Package, &e.Version, &e.Source, &e.Reason, &targets, &e.RequestedBy, &requested, &due,
		&e.Status, &e.ExecutionID, &e.OpsItemID, &installed, &e.Error)
	if err != nil {
		return e, err
	}
	e.RequestedAt, e.DueAt, e.InstalledAt = fromTS(requested), fromTS(due), fromTSPtr(installed)
	return e, json.Unmarshal([]byte(targets), &e.Targets)
}

func (r reader) GetExpedite(ctx context.Context, tenantID, id string) (store.Expedite, error) {
	e, err := scanExpedite(r.q.QueryRow(ctx, "SELECT "+expediteCols+" FROM patch_expedites WHERE tenant_id = $1 AND id = $2", tenantID, id))
	return e, r.notFound(err, "expedite "+id)
}

func (r reader) ListExpedites(ctx context.Context, tenantID string) ([]store.Expedite, error) {
	return deflectionRows(ctx, r.q, "SELECT "+expediteCols+" FROM patch_expedites WHERE tenant_id = $1 ORDER BY requested_at DESC, id DESC",
		func(rows Rows) (store.Expedite, error) { return scanExpedite(rows) }, tenantID)
}

func (r reader) OpenExpedites(ctx context.Context, limit int) ([]store.Expedite, error) {
	return deflectionRows(ctx, r.q, "SELECT "+expediteCols+" FROM patch_expedites WHERE status NOT IN ($1, $2) ORDER BY requested_at LIMIT "+fmt.Sprint(limit),
		func(rows Rows) (store.Expedite, error) { return scanExpedite(rows) }, store.ExpediteInstalled, store.ExpediteCancelled)
}

func (t *tx) PutPatchState(ctx context.Context, s store.PatchState) error {
	if _, err := t.h.Exec(ctx, "DELETE FROM patch_states WHERE tenant_id = $1 AND resource_id = $2", s.TenantID, s.ResourceID); err != nil {
		return err
	}
	if _, err := t.h.Exec(ctx, "INSERT INTO patch_states ("+patchStateCols+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
		s.TenantID, s.ResourceID, s.Hostname, s.Group, s.Baseline, ts(s.ScannedAt), boolInt(s.Compliant), tsPtr(s.NoncompliantSince), s.OpsItemID, string(s.Detail)); err != nil {
		return err
	}
	_, err := t.h.Exec(ctx, "INSERT INTO patch_points (tenant_id, resource_id, patch_group, at, compliant) VALUES ($1, $2, $3, $4, $5)",
		s.TenantID, s.ResourceID, s.Group, ts(s.ScannedAt), boolInt(s.Compliant))
	return err
}

func (t *tx) NotePatchReleases(ctx context.Context, tenantID string, versions map[string]time.Time) error {
	for nv, at := range versions {
		name, version, _ := strings.Cut(nv, "=")
		if _, err := t.h.Exec(ctx, `INSERT INTO patch_releases (tenant_id, name, version, first_seen) VALUES ($1, $2, $3, $4)
			ON CONFLICT (tenant_id, name, version) DO NOTHING`, tenantID, name, version, ts(at)); err != nil {
			return err
		}
	}
	return nil
}

func (t *tx) PutExpedite(ctx context.Context, e store.Expedite) error {
	targets, err := json.Marshal(e.Targets)
	if err != nil {
		return err
	}
	if _, err := t.h.Exec(ctx, "DELETE FROM patch_expedites WHERE tenant_id = $1 AND id = $2", e.TenantID, e.ID); err != nil {
		return err
	}
	_, err = t.h.Exec(ctx, "INSERT INTO patch_expedites ("+expediteCols+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
		e.ID, e.TenantID, e.Package, e.Version, e.Source, e.Reason, string(targets), e.RequestedBy, ts(e.RequestedAt), ts(e.DueAt),
		e.Status, e.ExecutionID, e.OpsItemID, tsPtr(e.InstalledAt), e.Error)
	return err
}

func (t *tx) ClaimExpediteKey(ctx context.Context, tenantID, key, id string) (bool, string, error) {
	n, err := t.h.Exec(ctx, `INSERT INTO patch_expedite_keys (tenant_id, dedup_key, expedite_id) VALUES ($1, $2, $3)
		ON CONFLICT (tenant_id, dedup_key) DO NOTHING`, tenantID, key, id)
	if err != nil || n == 1 {
		return n == 1, id, err
	}
	var holder string
	err = t.h.QueryRow(ctx, "SELECT expedite_id FROM patch_expedite_keys WHERE tenant_id = $1 AND dedup_key = $2", tenantID, key).Scan(&holder)
	return false, holder, err
}

const patchLeaseCols = "tenant_id, lease_key, holder, resource_id, acquired_at, expires_at, rebooted_at"

func (r reader) GetPatchLease(ctx context.Context, tenantID, key string) (store.PatchLease, error) {
	var l store.PatchLease
	var acquired, expires, rebooted int64
	err := r.q.QueryRow(ctx, "SELECT "+patchLeaseCols+" FROM patch_leases WHERE tenant_id = $1 AND lease_key = $2", tenantID, key).
		Scan(&l.TenantID, &l.Key, &l.Holder, &l.ResourceID, &acquired, &expires, &rebooted)
	if err != nil {
		return l, r.notFound(err, "patch lease "+key)
	}
	l.AcquiredAt, l.ExpiresAt, l.RebootedAt = fromTS(acquired), fromTS(expires), fromTSPtr(rebooted)
	return l, nil
}

func (t *tx) TakePatchLease(ctx context.Context, l store.PatchLease, now time.Time) (bool, error) {
	n, err := t.h.Exec(ctx, `INSERT INTO patch_leases (`+patchLeaseCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (tenant_id, lease_key) DO UPDATE SET holder = excluded.holder, resource_id = excluded.resource_id,
			acquired_at = excluded.acquired_at, expires_at = excluded.expires_at, rebooted_at = excluded.rebooted_at
		WHERE patch_leases.expires_at <= $8 OR patch_leases.holder = excluded.holder`,
		l.TenantID, l.Key, l.Holder, l.ResourceID, ts(l.AcquiredAt), ts(l.ExpiresAt), tsPtr(l.RebootedAt), ts(now))
	return n == 1, err
}

func (t *tx) ReleasePatchLease(ctx context.Context, tenantID, key, holder string) error {
	_, err := t.h.Exec(ctx, "DELETE FROM patch_leases WHERE tenant_id = $1 AND lease_key = $2 AND holder = $3", tenantID, key, holder)
	return err
}

func (t *tx) PrunePatchHistory(ctx context.Context, before time.Time) (int64, error) {
	return t.h.Exec(ctx, "DELETE FROM patch_points WHERE at < $1", ts(before))
}
