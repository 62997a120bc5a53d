package cli

import (
	"context"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/auth"
	"github.com/flywheel-ops/flywheel/internal/store"
	"github.com/flywheel-ops/flywheel/internal/store/sqlite/sqlitetest"
)

// tenantStore opens a fresh SQLite store holding tenant acme and returns it
// with the secret of an acme token of the given role.
func tenantStore(t *testing.T, role store.Role) (store.Store, string) {
	t.Helper()
	ctx := context.Background()
	st := sqlitetest.Open(t)
	now := time.Now().UTC()
	var secret string
	err := st.InTx(ctx, func(tx store.Tx) error {
		if err := tx.CreateTenant(ctx, store.Tenant{ID: "acme", Name: "ACME", CreatedAt: now}); err != nil {
			return err
		}
		var err error
		_, secret, err = auth.Issue(ctx, tx, auth.NewToken{TenantID: "acme", Name: "cli", Role: role}, now)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return st, secret
}
