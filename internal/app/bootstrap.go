package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/auth"
	"github.com/flywheel-ops/flywheel/internal/config/defaults"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// DefaultTenant is created on first start and owns the first admin token.
const DefaultTenant = "default"

// AdminTokenFile is where the generated admin token is written (0600).
const AdminTokenFile = defaults.AdminTokenFile

// bootstrap makes a fresh database usable: the default tenant, and a
// platform-admin token — FLYWHEEL_ADMIN_TOKEN when set, else a generated one
// printed once and written to the data directory.
func (a *App) bootstrap(ctx context.Context, out io.Writer) error {
	now := a.now()
	var secret string
	err := a.st.InTx(ctx, func(tx store.Tx) error {
		_, err := tx.GetTenant(ctx, DefaultTenant)
		firstStart := errors.Is(err, store.ErrNotFound)
		if err != nil && !firstStart {
			return err
		}
		if firstStart {
			if err := tx.CreateTenant(ctx, store.Tenant{ID: DefaultTenant, Name: "Default tenant", CreatedAt: now}); err != nil {
				return err
			}
			if _, err := audit.Append(ctx, tx, DefaultTenant, now, audit.Entry{Actor: "system:bootstrap", Action: "tenant.create", Target: "tenant/" + DefaultTenant}); err != nil {
				return err
			}
		}
		want := a.cfg.AdminToken
		if want != "" {
			if _, err := tx.TokenByHash(ctx, auth.HashSecret(want)); err == nil {
				return nil
			} else if !errors.Is(err, store.ErrNotFound) {
				return err
			}
		} else if !firstStart {
			return nil
		}
		t, s, err := auth.Issue(ctx, tx, auth.NewToken{TenantID: DefaultTenant, Name: "bootstrap admin", Role: store.RoleAdmin,
			PlatformAdmin: true, CreatedBy: "system:bootstrap", Secret: want}, now)
		if err != nil {
			return err
		}
		if want == "" {
			secret = s
		}
		_, err = audit.Append(ctx, tx, DefaultTenant, now, audit.Entry{Actor: "system:bootstrap", Action: "token.create",
			Target: "token/" + t.ID, Detail: map[string]any{"role": t.Role, "platform_admin": true}})
		return err
	})
	if errors.Is(err, store.ErrConflict) {
		return nil // another replica bootstrapped at the same moment
	}
	if err != nil || secret == "" {
		return err
	}
	path := filepath.Join(a.cfg.DataDir, AdminTokenFile)
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		return fmt.Errorf("write admin token: %w", err)
	}
	fmt.Fprintf(out, "\nFirst start: created a platform-admin API token. It is shown only this once\n"+
		"and saved (mode 0600) in %s:\n\n    %s\n\nLog in to the UI with it, or: export FLYWHEEL_TOKEN=$(cat %s)\n\n", path, secret, path)
	return nil
}
