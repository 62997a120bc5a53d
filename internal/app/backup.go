package app

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/flywheel-ops/flywheel/internal/backup"
	"github.com/flywheel-ops/flywheel/internal/backup/ebs"
	"github.com/flywheel-ops/flywheel/internal/fleet"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/exec"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// buildBackup compiles content's backup plans, makes the backup service
// (its commands reach hosts through the agents; repository passwords are
// read from the server's environment) and puts the plans' windows into
// the store. EBS snapshots are taken with the AWS provider's factory
// (built first). It runs before the runbooks are built: the backup action
// uses the service.
func (a *App) buildBackup(ctx context.Context) error {
	plans := backup.NewCatalog()
	for _, it := range a.currentContent().Items(backup.KindName) {
		p, err := backup.Compile(it.Name, it.Spec.(*backup.Spec))
		if err != nil {
			return fmt.Errorf("backup plan %s: %w", it.Name, err)
		}
		plans.Add(it.Tenant, p)
	}
	a.backupPlans = plans
	hosts := exec.New(exec.Options{Dispatcher: &fleet.Dispatcher{Service: a.fleet, TenantOf: backup.TenantFromContext, Actor: "system:backup"}})
	a.backup = backup.New(backup.Options{Store: a.st, Dispatcher: hosts, Plans: plans, Secret: os.LookupEnv,
		Snapshots: ebs.New(ebs.Options{Factory: a.awsFactory, Accounts: a.st}), Clock: a.now, Logger: a.log.With("component", "backup")})
	return a.syncBackupWindows(ctx)
}

// syncBackupWindows stores the windows of every tenant's plans, keeping
// the creation time of a window already stored (so openings missed while
// no server ran are still found), and removes the windows of plans or
// rules that are gone.
func (a *App) syncBackupWindows(ctx context.Context) error {
	tenants, _, err := a.st.ListTenants(ctx, store.Page{Limit: store.MaxPageLimit})
	if err != nil {
		return err
	}
	now := a.now()
	return a.st.InTx(ctx, func(tx store.Tx) error {
		for _, t := range tenants {
			want := map[string]bool{}
			for _, p := range a.backupPlans.ForTenant(t.ID) {
				wins, err := backup.Windows(p, t.ID, now)
				if err != nil {
					return err
				}
				for _, w := range wins {
					want[w.ID] = true
					if old, err := tx.GetMaintenanceWindow(ctx, t.ID, w.ID); err == nil {
						w.CreatedAt = old.CreatedAt
						if err := tx.DeleteMaintenanceWindow(ctx, t.ID, w.ID); err != nil {
							return err
						}
					} else if !errors.Is(err, store.ErrNotFound) {
						return err
					}
					if err := tx.CreateMaintenanceWindow(ctx, w); errors.Is(err, store.ErrConflict) {
						a.log.Warn("backup window skipped: the tenant has a window of that name", "tenant", t.ID, "window", w.Name)
					} else if err != nil {
						return err
					}
				}
			}
			if err := a.dropStaleBackupWindows(ctx, tx, t.ID, want); err != nil {
				return err
			}
		}
		return nil
	})
}

// dropStaleBackupWindows deletes a tenant's backup windows not in want.
func (a *App) dropStaleBackupWindows(ctx context.Context, tx store.Tx, tenant string, want map[string]bool) error {
	page := store.Page{Limit: store.MaxPageLimit}
	for {
		ws, next, err := tx.ListMaintenanceWindows(ctx, tenant, page)
		if err != nil {
			return err
		}
		for _, w := range ws {
			if w.RunOnly && backup.IsPlanWindow(w) && !want[w.ID] {
				if err := tx.DeleteMaintenanceWindow(ctx, tenant, w.ID); err != nil {
					return err
				}
			}
		}
		if next == "" {
			return nil
		}
		page.Cursor = next
	}
}
