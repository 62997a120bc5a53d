package app

import (
	"context"
	"slices"
	"time"

	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/fleet"
	"github.com/flywheel-ops/flywheel/internal/patch"
	"github.com/flywheel-ops/flywheel/internal/pipeline"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// buildPatch makes patch management: the service the patch action and
// the API use, and its SLA check on the leader, every maintenance tick.
// Expedites start runbooks through the executor, built after the actions
// that need the service; lazyStarter bridges the two.
func (a *App) buildPatch(tick time.Duration) error {
	set := a.currentContent() // not reloaded (docs/content.md)
	groups := runbook.NewGroups(set)
	a.patch = patch.New(patch.Options{Store: a.st, Content: set, Clock: a.now, Logger: a.log.With("component", "patch"),
		Starter: lazyStarter{a},
		// The runbooks' host index, built after this.
		Resolve: func(ctx context.Context, r fleet.HostReader, tenant, ref string) (fleet.Resolution, error) {
			return a.runbooks.hosts.Resolve(ctx, r, tenant, ref)
		},
		Members: func(tenant, group string, res store.Resource) bool {
			g, ok := groups.Get(tenant, group)
			return ok && (slices.Contains(g.Resources, res.ID) || g.Selects(res.Type, res.Tags))
		}})
	return a.patch.Register(a.jobs, tick)
}

type lazyStarter struct{ a *App }

func (l lazyStarter) Start(ctx context.Context, tx store.Tx, req runbook.StartRequest) (string, error) {
	return l.a.exec.Start(ctx, tx, req)
}

// patchFindings puts the patch service in front of the rules as the
// pipeline's Automation: an Inspector package finding on a managed host
// expedites its packages in the event's own transaction (see
// patch.Service.ExpediteFinding), then the rules see the event as before.
type patchFindings struct {
	pipeline.Automation
	patch *patch.Service
}

var _ pipeline.Automation = patchFindings{}

func (p patchFindings) Wants(tenant string, e *event.Event) bool {
	_, finding := patch.PackageFinding(e)
	return finding || p.Automation.Wants(tenant, e)
}

func (p patchFindings) OnEvent(ctx context.Context, tx store.Tx, tenant string, e *event.Event, o *store.OpsItem, decision string) error {
	if _, finding := patch.PackageFinding(e); finding {
		if _, err := p.patch.ExpediteFinding(ctx, tx, tenant, e); err != nil {
			return err
		}
	}
	if !p.Automation.Wants(tenant, e) {
		return nil
	}
	return p.Automation.OnEvent(ctx, tx, tenant, e, o, decision)
}
