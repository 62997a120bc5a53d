package app

import (
	"context"
	"slices"
	"time"

	"github.com/flywheel-ops/flywheel/internal/patch"
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
