package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/content/kinds"
	"github.com/flywheel-ops/flywheel/internal/maintenance"
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

// contentWindows returns the store records of the maintenance windows
// declared in content for tenant (its own and those for every tenant).
func contentWindows(set *content.Set, tenant string, now time.Time) []store.MaintenanceWindow {
	var out []store.MaintenanceWindow
	for _, it := range set.Items(maintenance.KindName) {
		if it.Tenant != "" && it.Tenant != tenant {
			continue
		}
		spec := it.Spec.(*maintenance.Spec)
		out = append(out, spec.Record("mw_content_"+it.Name, tenant, it.Name, "system:content", now))
	}
	return out
}

// syncWindows puts content-declared maintenance windows into the store,
// replacing earlier versions of them; a window made through the API with
// the same name wins and the content one is skipped with a warning.
func (a *App) syncWindows(ctx context.Context) error {
	if len(a.content.Items(maintenance.KindName)) == 0 {
		return nil
	}
	tenants, _, err := a.st.ListTenants(ctx, store.Page{Limit: store.MaxPageLimit})
	if err != nil {
		return err
	}
	now := a.now()
	return a.st.InTx(ctx, func(tx store.Tx) error {
		for _, t := range tenants {
			for _, w := range contentWindows(a.content, t.ID, now) {
				if err := tx.DeleteMaintenanceWindow(ctx, t.ID, w.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
					return err
				}
				if err := tx.CreateMaintenanceWindow(ctx, w); errors.Is(err, store.ErrConflict) {
					a.log.Warn("maintenance window from content skipped: the tenant has one of that name", "tenant", t.ID, "window", w.Name)
				} else if err != nil {
					return err
				}
			}
		}
		return nil
	})
}
