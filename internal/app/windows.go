package app

import (
	"context"
	"slices"
	"time"

	"github.com/flywheel-ops/flywheel/internal/backup"
	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/fleet"
	"github.com/flywheel-ops/flywheel/internal/store"

	"github.com/flywheel-ops/flywheel/internal/execution"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/windowrun"
)

// buildWindows makes the maintenance window runner: its tick runs on the
// job queue's elected leader and starts the windows' tasks through the
// runbook executor.
func (a *App) buildWindows(tick time.Duration) error {
	r, err := windowrun.New(windowrun.Options{Store: a.st, Starter: a.exec, Canceller: a.exec,
		Targets: execution.InventoryTargets{Groups: runbook.NewLiveGroups(a.currentContent)}, Queue: a.jobs, Rules: a.rules,
		Logger: a.log.With("component", "maintenance"), Clock: a.now, TickEvery: tick,
		Category: backup.OpsItemCategory})
	if err != nil {
		return err
	}
	if err := r.Register(a.jobs); err != nil {
		return err
	}
	a.windows = r
	return nil
}

// Windows returns the maintenance window runner.
func (a *App) Windows() *windowrun.Runner { return a.windows }

// inventoryResource is the inventory resource an event names: by resource
// ID, or for a host by its name when exactly one host has it (an
// Alertmanager instance label names it, port stripped by intake).
func inventoryResource(ctx context.Context, r store.Reader, tenant string, ref event.ResourceRef) (store.Resource, bool) {
	if res, err := r.GetResource(ctx, tenant, ref.ID); err == nil {
		return res, true
	}
	if ref.Type != fleet.ResourceTypeHost {
		return store.Resource{}, false
	}
	hosts, _, err := r.ListResources(ctx, tenant, store.ResourceFilter{Type: fleet.ResourceTypeHost, Name: ref.ID}, store.Page{Limit: 2})
	if err != nil || len(hosts) != 1 {
		return store.Resource{}, false
	}
	return hosts[0], true
}

// inventoryTags returns the inventory tags of the resource an event names,
// so maintenance windows that target tags deflect their hosts' alerts.
func inventoryTags(ctx context.Context, r store.Reader, tenant string, ref event.ResourceRef) map[string]string {
	res, _ := inventoryResource(ctx, r, tenant, ref)
	return res.Tags
}

// groupMember reports whether the resource an event names is in a
// resource group: listed in it, or selected by its types and tags.
func groupMember(groups runbook.Groups) func(ctx context.Context, r store.Reader, tenant, group string, ref event.ResourceRef) bool {
	return func(ctx context.Context, r store.Reader, tenant, group string, ref event.ResourceRef) bool {
		g, ok := groups.Get(tenant, group)
		if !ok {
			return false
		}
		res, known := inventoryResource(ctx, r, tenant, ref)
		if slices.Contains(g.Resources, ref.ID) || known && slices.Contains(g.Resources, res.ID) {
			return true
		}
		return known && g.Selects(res.Type, res.Tags)
	}
}
