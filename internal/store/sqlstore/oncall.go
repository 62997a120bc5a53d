package sqlstore

import (
	"context"

	"github.com/flywheel-ops/flywheel/internal/store"
)

const pageColumns = "p.tenant_id, p.opsitem_id, p.channel, p.channel_type, p.dedup_key, p.state, p.created_at, p.updated_at"

func scanOnCallPage(rows Rows, p *store.OnCallPage, more ...any) error {
	var created, updated int64
	err := rows.Scan(append([]any{&p.TenantID, &p.OpsItemID, &p.Channel, &p.ChannelType, &p.DedupKey, &p.State, &created, &updated}, more...)...)
	p.CreatedAt, p.UpdatedAt = fromTS(created), fromTS(updated)
	return err
}

func (r reader) ListOnCallPages(ctx context.Context, tenantID, opsItemID string) ([]store.OnCallPage, error) {
	return deflectionRows(ctx, r.q, "SELECT "+pageColumns+" FROM notification_pages p WHERE p.tenant_id = $1 AND p.opsitem_id = $2 ORDER BY p.channel",
		func(rows Rows) (store.OnCallPage, error) {
			var p store.OnCallPage
			return p, scanOnCallPage(rows, &p)
		}, tenantID, opsItemID)
}

// pageWant is what a page's OpsItem wants the on-call service told.
const pageWant = `CASE WHEN o.status IN ('resolved', 'suppressed') THEN 'resolved'
	WHEN o.status = 'in-progress' OR o.acknowledged_at <> 0 THEN 'acknowledged'
	ELSE 'triggered' END`

func (r reader) ListOnCallPagesOutOfStep(ctx context.Context, limit int) ([]store.OnCallPageSync, error) {
	return deflectionRows(ctx, r.q, "SELECT "+pageColumns+", "+pageWant+`, o.title, o.severity, o.status
		FROM notification_pages p JOIN opsitems o ON o.tenant_id = p.tenant_id AND o.id = p.opsitem_id
		WHERE p.state <> (`+pageWant+`) ORDER BY o.updated_at, p.tenant_id, p.opsitem_id, p.channel LIMIT $1`,
		func(rows Rows) (store.OnCallPageSync, error) {
			var p store.OnCallPageSync
			return p, scanOnCallPage(rows, &p.OnCallPage, &p.Want, &p.Title, &p.Severity, &p.Status)
		}, limit)
}

func (t *tx) PutOnCallPage(ctx context.Context, p store.OnCallPage) error {
	_, err := t.h.Exec(ctx, `INSERT INTO notification_pages (tenant_id, opsitem_id, channel, channel_type, dedup_key, state, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (tenant_id, opsitem_id, channel) DO UPDATE SET state = excluded.state, channel_type = excluded.channel_type, updated_at = excluded.updated_at`,
		p.TenantID, p.OpsItemID, p.Channel, p.ChannelType, p.DedupKey, p.State, ts(p.CreatedAt), ts(p.UpdatedAt))
	return err
}
