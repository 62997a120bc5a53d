package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/content/kinds"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// loadContent loads the built-in library and the user's content directory;
// any problem stops the server with every error listed.
func (a *App) loadContent() error {
	sources := []content.Source{content.Builtin()}
	if a.cfg.ContentDir != "" {
		sources = append(sources, content.Dir(a.cfg.ContentDir))
	}
	set, err := content.Load(kinds.NewRegistry(), sources...)
	if err != nil {
		return fmt.Errorf("content:\n%w", err)
	}
	a.content = set
	return nil
}

// syncTenants creates the tenants declared in content that the store lacks.
func (a *App) syncTenants(ctx context.Context) error {
	now := a.now()
	return a.st.InTx(ctx, func(tx store.Tx) error {
		for _, it := range a.content.Items(kinds.TenantKind) {
			spec := it.Spec.(*kinds.TenantSpec)
			if _, err := tx.GetTenant(ctx, it.Name); err == nil {
				continue
			} else if !errors.Is(err, store.ErrNotFound) {
				return err
			}
			t := store.Tenant{ID: it.Name, Name: spec.DisplayName, Description: spec.Description, CreatedAt: now}
			if err := tx.CreateTenant(ctx, t); err != nil {
				return err
			}
			if _, err := audit.Append(ctx, tx, t.ID, now, audit.Entry{Actor: "system:content", Action: "tenant.create",
				Target: "tenant/" + t.ID, Detail: map[string]string{"origin": it.Origin.String()}}); err != nil {
				return err
			}
		}
		return nil
	})
}
