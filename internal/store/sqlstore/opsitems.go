package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/flywheel-ops/flywheel/internal/store"
)

const opsItemCols = "id, tenant_id, title, description, category, severity, status, source, created_at, updated_at, resolved_at, resolved_by"

func scanOpsItem(r Row) (store.OpsItem, error) {
	var o store.OpsItem
	var created, updated, resolved int64
	err := r.Scan(&o.ID, &o.TenantID, &o.Title, &o.Description, &o.Category, &o.Severity, &o.Status, &o.Source,
		&created, &updated, &resolved, &o.ResolvedBy)
	o.CreatedAt, o.UpdatedAt, o.ResolvedAt = fromTS(created), fromTS(updated), fromTSPtr(resolved)
	return o, err
}

func (r reader) GetOpsItem(ctx context.Context, tenantID, id string) (store.OpsItem, error) {
	o, err := scanOpsItem(r.q.QueryRow(ctx, "SELECT "+opsItemCols+" FROM opsitems WHERE tenant_id = $1 AND id = $2", tenantID, id))
	return o, r.notFound(err, "opsitem "+id)
}

func (r reader) ListOpsItems(ctx context.Context, tenantID string, f store.OpsItemFilter, page store.Page) ([]store.OpsItem, string, error) {
	var w where
	w.add("tenant_id = ?", tenantID)
	if f.Status != "" {
		w.add("status = ?", f.Status)
	}
	if f.Severity != "" {
		w.add("severity = ?", f.Severity)
	}
	if f.Category != "" {
		w.add("category = ?", f.Category)
	}
	if f.Text != "" {
		pat := "%" + strings.ToLower(f.Text) + "%"
		w.add("(LOWER(title) LIKE ? OR LOWER(description) LIKE ?)", pat, pat)
	}
	return listPage(ctx, r.q, opsItemCols, "opsitems", "id", w, page,
		func(rows Rows) (store.OpsItem, error) { return scanOpsItem(rows) },
		func(o store.OpsItem) string { return o.ID })
}

func (t *tx) CreateOpsItem(ctx context.Context, o store.OpsItem) error {
	_, err := t.h.Exec(ctx, "INSERT INTO opsitems ("+opsItemCols+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
		o.ID, o.TenantID, o.Title, o.Description, o.Category, o.Severity, o.Status, o.Source,
		ts(o.CreatedAt), ts(o.UpdatedAt), tsPtr(o.ResolvedAt), o.ResolvedBy)
	return conflict(t.b, err, "opsitem "+o.ID)
}

func (t *tx) UpdateOpsItem(ctx context.Context, o store.OpsItem) error {
	n, err := t.h.Exec(ctx, `UPDATE opsitems SET title = $1, description = $2, category = $3, severity = $4, status = $5,
		updated_at = $6, resolved_at = $7, resolved_by = $8 WHERE tenant_id = $9 AND id = $10`,
		o.Title, o.Description, o.Category, o.Severity, o.Status, ts(o.UpdatedAt), tsPtr(o.ResolvedAt), o.ResolvedBy, o.TenantID, o.ID)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("opsitem %s: %w", o.ID, store.ErrNotFound)
	}
	return nil
}
