package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

// Unmanaged hosts.

const unmanagedCols = "tenant_id, host, kind, source, resource_id, first_seen, last_seen, raised_at"

func scanUnmanaged(r Row) (store.UnmanagedHost, error) {
	var h store.UnmanagedHost
	var first, last, raised int64
	if err := r.Scan(&h.TenantID, &h.Host, &h.Kind, &h.Source, &h.ResourceID, &first, &last, &raised); err != nil {
		return h, err
	}
	h.FirstSeen, h.LastSeen, h.RaisedAt = fromTS(first), fromTS(last), fromTSPtr(raised)
	return h, nil
}

func (r reader) ListUnmanagedHosts(ctx context.Context, tenantID string, page store.Page) ([]store.UnmanagedHost, string, error) {
	var w where
	w.add("tenant_id = ?", tenantID)
	return listPage(ctx, r.q, unmanagedCols, "unmanaged_hosts", "host", w, page,
		func(rows Rows) (store.UnmanagedHost, error) { return scanUnmanaged(rows) },
		store.UnmanagedHostCursor)
}

func (t *tx) PutUnmanagedHost(ctx context.Context, h store.UnmanagedHost) error {
	_, err := t.h.Exec(ctx, `INSERT INTO unmanaged_hosts (`+unmanagedCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, 0)
		ON CONFLICT (tenant_id, host) DO UPDATE SET kind = excluded.kind, source = excluded.source,
		resource_id = excluded.resource_id, last_seen = excluded.last_seen`,
		h.TenantID, h.Host, h.Kind, h.Source, h.ResourceID, ts(h.FirstSeen), ts(h.LastSeen))
	return err
}

func (t *tx) SetUnmanagedHostRaised(ctx context.Context, tenantID, host string, at time.Time) error {
	n, err := t.h.Exec(ctx, `UPDATE unmanaged_hosts SET raised_at = $3 WHERE tenant_id = $1 AND host = $2`, tenantID, host, ts(at))
	return t.oneRow(n, err, "unmanaged host "+host)
}

func (t *tx) DeleteUnmanagedHost(ctx context.Context, tenantID, host string) error {
	n, err := t.h.Exec(ctx, `DELETE FROM unmanaged_hosts WHERE tenant_id = $1 AND host = $2`, tenantID, host)
	return t.oneRow(n, err, "unmanaged host "+host)
}

// oneRow turns "no row changed" into ErrNotFound naming what.
func (t *tx) oneRow(n int64, err error, what string) error {
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return nil
}
