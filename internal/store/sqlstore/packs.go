package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/flywheel-ops/flywheel/internal/store"
)

const packColumns = "tenant_id, name, version, digest, files, installed_at, installed_by, updated_at"

func (r reader) ListPackInstallations(ctx context.Context, tenantID string) ([]store.PackInstallation, error) {
	return r.packs(ctx, "SELECT "+packColumns+" FROM pack_installations WHERE tenant_id = $1 ORDER BY name", tenantID)
}

func (r reader) ListAllPackInstallations(ctx context.Context) ([]store.PackInstallation, error) {
	return r.packs(ctx, "SELECT "+packColumns+" FROM pack_installations ORDER BY tenant_id, name")
}

func (r reader) GetPackInstallation(ctx context.Context, tenantID, name string) (store.PackInstallation, error) {
	ps, err := r.packs(ctx, "SELECT "+packColumns+" FROM pack_installations WHERE tenant_id = $1 AND name = $2", tenantID, name)
	if err != nil {
		return store.PackInstallation{}, err
	}
	if len(ps) == 0 {
		return store.PackInstallation{}, fmt.Errorf("pack %s of %s: %w", name, tenantID, store.ErrNotFound)
	}
	return ps[0], nil
}

func (r reader) packs(ctx context.Context, query string, args ...any) ([]store.PackInstallation, error) {
	rows, err := r.q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.PackInstallation
	for rows.Next() {
		var p store.PackInstallation
		var files string
		var installed, updated int64
		if err := rows.Scan(&p.TenantID, &p.Name, &p.Version, &p.Digest, &files, &installed, &p.InstalledBy, &updated); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(files), &p.Files); err != nil {
			return nil, fmt.Errorf("pack %s of %s: files: %w", p.Name, p.TenantID, err)
		}
		p.InstalledAt, p.UpdatedAt = fromTS(installed), fromTS(updated)
		out = append(out, p)
	}
	return out, rows.Err()
}

func (t *tx) PutPackInstallation(ctx context.Context, p store.PackInstallation) error {
	files, err := json.Marshal(p.Files)
	if err != nil {
		return err
	}
	_, err = t.h.Exec(ctx, `INSERT INTO pack_installations (`+packColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (tenant_id, name) DO UPDATE SET version = excluded.version, digest = excluded.digest, files = excluded.files, updated_at = excluded.updated_at`,
		p.TenantID, p.Name, p.Version, p.Digest, string(files), ts(p.InstalledAt), p.InstalledBy, ts(p.UpdatedAt))
	return err
}

func (t *tx) DeletePackInstallation(ctx context.Context, tenantID, name string) error {
	n, err := t.h.Exec(ctx, "DELETE FROM pack_installations WHERE tenant_id = $1 AND name = $2", tenantID, name)
	if err == nil && n == 0 {
		err = fmt.Errorf("pack %s of %s: %w", name, tenantID, store.ErrNotFound)
	}
	return err
}
