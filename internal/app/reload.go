package app

import (
	"context"
	"errors"
	"fmt"
	"github.com/flywheel-ops/flywheel/internal/compliance"
	"github.com/flywheel-ops/flywheel/internal/cost"
	"time"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/application"
	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/intake/registry"
	"github.com/flywheel-ops/flywheel/internal/notification"
	"github.com/flywheel-ops/flywheel/internal/pipeline"
	"github.com/flywheel-ops/flywheel/internal/rule"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// loaded is the content a replica runs: the set, the database's content
// generation when it was loaded, and when.
type loaded struct {
	set        *content.Set
	generation int64
	at         time.Time
}

// derived is everything a reload rebuilds from a content set, built and
// checked whole before any of it is swapped in.
type derived struct {
	set    *content.Set
	intake *registry.Registry
	engine *pipeline.Engine
	rules  *rule.Rules
	lib    *runbook.Library
	apps   *application.Catalog
	// compliance is the config rules and packs; schedules the resource
	// schedules.
	compliance *compliance.Library
	schedules  []*cost.Schedule
}

// currentContent is the content set in force (groups look it up at each
// use, so they follow a reload).
func (a *App) currentContent() *content.Set { return a.live.Load().set }

// ContentStatus implements api.ContentReloader.
func (a *App) ContentStatus() api.ContentStatus {
	l := a.live.Load()
	return api.ContentStatus{Generation: l.generation, Digest: l.set.Digest(), Documents: l.set.Len(), LoadedAt: l.at}
}

// ReloadContent implements api.ContentReloader: it loads the content here
// and, when it is valid, bumps the database's content generation so every
// other replica loads it too (watchContent). Invalid content changes
// nothing, here or elsewhere.
func (a *App) ReloadContent(ctx context.Context, actor string) (api.ContentStatus, error) {
	a.reloadMu.Lock()
	defer a.reloadMu.Unlock()
	d, err := a.derive(ctx, a.st)
	if err != nil {
		return a.ContentStatus(), err
	}
	var gen store.ContentGeneration
	if err := a.st.InTx(ctx, func(tx store.Tx) error {
		gen, err = tx.BumpContentGeneration(ctx, d.set.Digest(), a.now(), actor)
		return err
	}); err != nil {
		return a.ContentStatus(), fmt.Errorf("content generation: %w", err)
	}
	if err := a.apply(ctx, d, gen.Generation); err != nil {
		return a.ContentStatus(), err
	}
	a.log.Info("content reloaded", "generation", gen.Generation, "digest", d.set.Digest(), "by", actor)
	return a.ContentStatus(), nil
}

// reloadTo loads the content for generation gen, which another replica
// published; invalid content here (a directory that differs between
// replicas) keeps what runs and is logged.
func (a *App) reloadTo(ctx context.Context, gen int64) error {
	a.reloadMu.Lock()
	defer a.reloadMu.Unlock()
	if a.live.Load().generation == gen {
		return nil
	}
	d, err := a.derive(ctx, a.st)
	if err != nil {
		return err
	}
	if err := a.apply(ctx, d, gen); err != nil {
		return err
	}
	a.log.Info("content reloaded: another replica published it", "generation", gen, "digest", d.set.Digest())
	return nil
}

// derive loads the content directory, the installed packs (read through
// r) and the built-in library again and builds everything derived from
// it; an error wraps api.ErrInvalidContent and lists every problem.
func (a *App) derive(ctx context.Context, r store.PackReader) (derived, error) {
	invalid := func(what string, err error) (derived, error) {
		return derived{}, fmt.Errorf("%w: %s:\n%w", api.ErrInvalidContent, what, err)
	}
	set, err := loadContentSet(ctx, r, a.cfg.ContentDir)
	if err != nil {
		return invalid("content", err)
	}
	if _, err := notification.CheckRules(set.Items(rule.KindName), a.notify.channels); err != nil {
		return invalid("rules' notifications", err)
	}
	d := derived{set: set}
	if d.intake, err = a.newIntakeRegistry(set); err != nil {
		return invalid("intake mappings", err)
	}
	if d.engine, err = engineFrom(set); err != nil {
		return invalid("pipeline", err)
	}
	old := a.engine // what content does not decide stays
	d.engine.Metrics, d.engine.StoreRaw, d.engine.Automation = old.Metrics, old.StoreRaw, old.Automation
	if d.rules, err = rule.Compile(set.Items(rule.KindName)); err != nil {
		return invalid("rules", err)
	}
	if d.lib, err = runbook.NewLibrary(set, a.actions); err != nil {
		return invalid("runbooks", err)
	}
	if d.apps, err = application.Compile(set.Items(application.KindName)); err != nil {
		return invalid("applications", err)
	}
	if d.compliance, err = compliance.NewLibrary(set); err != nil {
		return invalid("config rules", err)
	}
	if d.schedules, err = cost.CompileSet(set); err != nil {
		return invalid("resource schedules", err)
	}
	return d, nil
}

// apply swaps d in, each part with one atomic store: work in flight
// finishes with what it started with. The store's copies of content
// (tenants, maintenance windows) are brought up to date after.
func (a *App) apply(ctx context.Context, d derived, gen int64) error {
	a.live.Store(&loaded{set: d.set, generation: gen, at: a.now()})
	a.intakeReg.Store(d.intake)
	a.exec.SetRunbooks(d.lib)
	a.rules.SetRules(d.rules)
	a.processor.SetEngine(d.engine)
	a.api.SetContent(d.rules, d.apps)
	a.complianceLib.Store(d.compliance)
	if a.costs != nil {
		a.costs.SetSchedules(d.schedules)
	}
	return errors.Join(a.syncTenants(ctx), a.syncWindows(ctx))
}
