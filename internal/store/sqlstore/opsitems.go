package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/flywheel-ops/flywheel/internal/store"
)

const opsItemCols = "id, tenant_id, title, description, category, severity, status, source, created_at, updated_at, resolved_at, resolved_by, " +
	"rule, group_key, first_event_at, last_event_at, occurrences, resolution, flapping, opsdata, " +
	"acknowledged_at, acknowledged_by, assignee, human_seconds, human_since"

func scanOpsItem(r Row) (store.OpsItem, error) {
	var o store.OpsItem
	var created, updated, resolved, first, last, acked, since int64
	var flapping int
	var opsdata string
	err := r.Scan(&o.ID, &o.TenantID, &o.Title, &o.Description, &o.Category, &o.Severity, &o.Status, &o.Source,
		&created, &updated, &resolved, &o.ResolvedBy,
		&o.Rule, &o.GroupKey, &first, &last, &o.Occurrences, &o.Resolution, &flapping, &opsdata,
		&acked, &o.AcknowledgedBy, &o.Assignee, &o.HumanSeconds, &since)
	o.CreatedAt, o.UpdatedAt, o.ResolvedAt = fromTS(created), fromTS(updated), fromTSPtr(resolved)
	o.AcknowledgedAt, o.HumanSince = fromTSPtr(acked), fromTSPtr(since)
	o.FirstEventAt, o.LastEventAt, o.Flapping = fromTS(first), fromTS(last), flapping != 0
	if opsdata != "" {
		o.OperationalData = []byte(opsdata)
	}
	return o, err
}

// opsItemArgs are the column values of o, in opsItemCols order; a resolved
// OpsItem's in-hands time is settled first.
func opsItemArgs(o store.OpsItem) []any {
	o.SettleHumanTime()
	return []any{o.ID, o.TenantID, o.Title, o.Description, o.Category, o.Severity, o.Status, o.Source,
		ts(o.CreatedAt), ts(o.UpdatedAt), tsPtr(o.ResolvedAt), o.ResolvedBy,
		o.Rule, o.GroupKey, ts(o.FirstEventAt), ts(o.LastEventAt), o.Occurrences, o.Resolution, boolInt(o.Flapping), string(o.OperationalData),
		tsPtr(o.AcknowledgedAt), o.AcknowledgedBy, o.Assignee, o.HumanSeconds, tsPtr(o.HumanSince)}
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
		pat := "%" + likeEscaper.Replace(strings.ToLower(f.Text)) + "%"
		w.add(`(LOWER(title) LIKE ? ESCAPE '\' OR LOWER(description) LIKE ? ESCAPE '\')`, pat, pat)
	}
	if f.Resource != "" {
		w.add("EXISTS (SELECT 1 FROM opsitem_resources r WHERE r.tenant_id = opsitems.tenant_id AND r.opsitem_id = opsitems.id AND r.ref_id = ?)", f.Resource)
	}
	if f.Assignee != "" {
		w.add("assignee = ?", f.Assignee)
	}
	return listPage(ctx, r.q, opsItemCols, "opsitems", "id", w, page,
		func(rows Rows) (store.OpsItem, error) { return scanOpsItem(rows) },
		func(o store.OpsItem) string { return o.ID })
}

// likeEscaper makes user text literal inside a LIKE pattern.
var likeEscaper = strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`)

func (t *tx) CreateOpsItem(ctx context.Context, o store.OpsItem) error {
	_, err := t.h.Exec(ctx, "INSERT INTO opsitems ("+opsItemCols+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25)",
		opsItemArgs(o)...)
	return conflict(t.b, err, "opsitem "+o.ID)
}

func (t *tx) UpdateOpsItem(ctx context.Context, o store.OpsItem) error {
	n, err := t.h.Exec(ctx, `UPDATE opsitems SET title = $3, description = $4, category = $5, severity = $6, status = $7,
		source = $8, created_at = $9, updated_at = $10, resolved_at = $11, resolved_by = $12, rule = $13, group_key = $14,
		first_event_at = $15, last_event_at = $16, occurrences = $17, resolution = $18, flapping = $19, opsdata = $20,
		acknowledged_at = $21, acknowledged_by = $22, assignee = $23, human_seconds = $24, human_since = $25
		WHERE id = $1 AND tenant_id = $2`, opsItemArgs(o)...)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("opsitem %s: %w", o.ID, store.ErrNotFound)
	}
	return nil
}
