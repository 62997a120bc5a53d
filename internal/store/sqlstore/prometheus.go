package sqlstore

import (
	"context"
	"fmt"

	"github.com/flywheel-ops/flywheel/internal/store"
)

func (r reader) GetPrometheusConnection(ctx context.Context, tenantID string) (store.PrometheusConnection, error) {
	c := store.PrometheusConnection{TenantID: tenantID}
	var created, updated int64
	err := r.q.QueryRow(ctx, "SELECT url, token_env, created_at, updated_at FROM prometheus_connections WHERE tenant_id = $1", tenantID).
		Scan(&c.URL, &c.TokenEnv, &created, &updated)
	c.CreatedAt, c.UpdatedAt = fromTS(created), fromTS(updated)
	return c, r.notFound(err, "prometheus connection of "+tenantID)
}

func (t *tx) PutPrometheusConnection(ctx context.Context, c store.PrometheusConnection) error {
	_, err := t.h.Exec(ctx, `INSERT INTO prometheus_connections (tenant_id, url, token_env, created_at, updated_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (tenant_id) DO UPDATE SET url = excluded.url, token_env = excluded.token_env, updated_at = excluded.updated_at`,
		c.TenantID, c.URL, c.TokenEnv, ts(c.CreatedAt), ts(c.UpdatedAt))
	return err
}

func (t *tx) DeletePrometheusConnection(ctx context.Context, tenantID string) error {
	n, err := t.h.Exec(ctx, "DELETE FROM prometheus_connections WHERE tenant_id = $1", tenantID)
	if err == nil && n == 0 {
		err = fmt.Errorf("prometheus connection of %s: %w", tenantID, store.ErrNotFound)
	}
	return err
}
