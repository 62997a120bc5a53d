package sqlstore

import (
	"context"

	"github.com/flywheel-ops/flywheel/internal/store"
)

const tenantCols = "id, name, description, created_at"

func scanTenant(r Rows) (store.Tenant, error) {
	var t store.Tenant
	var created int64
	err := r.Scan(&t.ID, &t.Name, &t.Description, &created)
	t.CreatedAt = fromTS(created)
	return t, err
}

func (r reader) GetTenant(ctx context.Context, id string) (store.Tenant, error) {
	var t store.Tenant
	var created int64
	err := r.q.QueryRow(ctx, "SELECT "+tenantCols+" FROM tenants WHERE id = $1", id).
		Scan(&t.ID, &t.Name, &t.Description, &created)
	t.CreatedAt = fromTS(created)
	return t, r.notFound(err, "tenant "+id)
}

func (r reader) ListTenants(ctx context.Context, page store.Page) ([]store.Tenant, string, error) {
	return listPage(ctx, r.q, tenantCols, "tenants", "id", where{}, page, scanTenant,
		func(t store.Tenant) string { return t.ID })
}

func (t *tx) CreateTenant(ctx context.Context, tn store.Tenant) error {
	_, err := t.h.Exec(ctx, "INSERT INTO tenants ("+tenantCols+") VALUES ($1, $2, $3, $4)",
		tn.ID, tn.Name, tn.Description, ts(tn.CreatedAt))
	return conflict(t.b, err, "tenant "+tn.ID)
}
