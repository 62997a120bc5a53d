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
// any problem stops the server with every error listed. The content is
// that of the database's current content generation: a reload published
// before this replica started is already in the directory it reads.
func (a *App) loadContent(ctx context.Context) error {
	set, err := loadContentSet(ctx, a.st, a.cfg.ContentDir)
	if err != nil {
		return fmt.Errorf("content:\n%w", err)
	}
	gen, err := a.st.GetContentGeneration(ctx)
	if err != nil {
		return fmt.Errorf("content generation: %w", err)
	}
	a.live.Store(&loaded{set: set, generation: gen.Generation, at: a.now()})
	return nil
}

// loadContentSet loads the built-in library, the packs installed for
// every tenant (read through r) and dir (if any).
func loadContentSet(ctx context.Context, r store.PackReader, dir string) (*content.Set, error) {
	sources := []content.Source{content.Builtin()}
	packs, err := packSources(ctx, r)
	if err != nil {
		return nil, err
	}
	sources = append(sources, packs...)
	if dir != "" {
		sources = append(sources, content.Dir(dir))
	}
	set, err := content.Load(kinds.NewRegistry(), sources...)
	return set, errors.Join(err, checkPackNames(set))
}

// syncTenants creates the tenants declared in content that the store lacks.
func (a *App) syncTenants(ctx context.Context) error {
	now := a.now()
	return a.st.InTx(ctx, func(tx store.Tx) error {
		for _, it := range a.currentContent().Items(kinds.TenantKind) {
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
	if len(a.currentContent().Items(maintenance.KindName)) == 0 {
		return nil
	}
	tenants, _, err := a.st.ListTenants(ctx, store.Page{Limit: store.MaxPageLimit})
	if err != nil {
		return err
	}
	now := a.now()
	return a.st.InTx(ctx, func(tx store.Tx) error {
		for _, t := range tenants {
			for _, w := range contentWindows(a.currentContent(), t.ID, now) {
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
