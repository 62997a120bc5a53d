package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

const tokenCols = "id, tenant_id, name, role, platform_admin, prefix, created_at, created_by, expires_at, revoked_at, last_used_at, permissions"

func scanToken(r Row) (store.Token, error) {
	var t store.Token
	var role string
	var pa int
	var created, expires, revoked, used int64
	var perms string
	err := r.Scan(&t.ID, &t.TenantID, &t.Name, &role, &pa, &t.Prefix, &created, &t.CreatedBy, &expires, &revoked, &used, &perms)
	t.Role = store.Role(role)
	for p := range strings.SplitSeq(perms, ",") {
		if p != "" {
			t.Permissions = append(t.Permissions, store.Permission(p))
		}
	}
	t.PlatformAdmin = pa != 0
	t.CreatedAt = fromTS(created)
	t.ExpiresAt, t.RevokedAt, t.LastUsedAt = fromTSPtr(expires), fromTSPtr(revoked), fromTSPtr(used)
	return t, err
}

func (r reader) TokenByHash(ctx context.Context, hash string) (store.Token, error) {
	t, err := scanToken(r.q.QueryRow(ctx, "SELECT "+tokenCols+" FROM tokens WHERE secret_hash = $1", hash))
	return t, r.notFound(err, "token")
}

func (r reader) ListTokens(ctx context.Context, tenantID string, page store.Page) ([]store.Token, string, error) {
	var w where
	w.add("tenant_id = ?", tenantID)
	return listPage(ctx, r.q, tokenCols, "tokens", "id", w, page,
		func(rows Rows) (store.Token, error) { return scanToken(rows) },
		func(t store.Token) string { return t.ID })
}

func (t *tx) CreateToken(ctx context.Context, tk store.Token, hash string) error {
	perms := make([]string, len(tk.Permissions))
	for i, p := range tk.Permissions {
		perms[i] = string(p)
	}
	_, err := t.h.Exec(ctx, "INSERT INTO tokens ("+tokenCols+", secret_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
		tk.ID, tk.TenantID, tk.Name, string(tk.Role), boolInt(tk.PlatformAdmin), tk.Prefix, ts(tk.CreatedAt), tk.CreatedBy,
		tsPtr(tk.ExpiresAt), tsPtr(tk.RevokedAt), tsPtr(tk.LastUsedAt), strings.Join(perms, ","), hash)
	return conflict(t.b, err, "token "+tk.ID)
}

func (t *tx) RevokeToken(ctx context.Context, tenantID, id string, at time.Time) error {
	n, err := t.h.Exec(ctx, "UPDATE tokens SET revoked_at = $1 WHERE tenant_id = $2 AND id = $3 AND revoked_at = 0", ts(at), tenantID, id)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("token %s: %w", id, store.ErrNotFound)
	}
	_, err = t.h.Exec(ctx, "DELETE FROM ui_sessions WHERE token_id = $1", id)
	return err
}

func (t *tx) TouchToken(ctx context.Context, id string, at time.Time) error {
	_, err := t.h.Exec(ctx, "UPDATE tokens SET last_used_at = $1 WHERE id = $2", ts(at), id)
	return err
}
