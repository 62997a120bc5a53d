package app

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/flywheel-ops/flywheel/internal/application"
	"sync/atomic"
	"time"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/content/kinds"
	"github.com/flywheel-ops/flywheel/internal/correlate"
	"github.com/flywheel-ops/flywheel/internal/dedup"
	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/inhibit"
	"github.com/flywheel-ops/flywheel/internal/intake"
	"github.com/flywheel-ops/flywheel/internal/intake/generic"
	"github.com/flywheel-ops/flywheel/internal/intake/registry"
	"github.com/flywheel-ops/flywheel/internal/intake/sns"
	"github.com/flywheel-ops/flywheel/internal/pipeline"
	"github.com/flywheel-ops/flywheel/internal/replay"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// intakeService joins the adapter registry and the committer for the API.
type intakeService struct {
	reg *atomic.Pointer[registry.Registry] // swapped by a content reload (its mappings)
	com *pipeline.Committer
}

func (s intakeService) Adapter(name string) (intake.Adapter, bool) { return s.reg.Load().Adapter(name) }

func (s intakeService) Submit(ctx context.Context, tenant, source string, body []byte, header json.RawMessage, evs []event.Event) error {
	return s.com.Submit(ctx, tenant, source, body, header, evs)
}

// newIntakeRegistry makes the intake adapters, the generic ones from set's
// mappings.
func (a *App) newIntakeRegistry(set *content.Set) (*registry.Registry, error) {
	return registry.New(registry.Config{
		SNS:      sns.Config{AllowedTopics: a.cfg.SNSTopics, CertHosts: a.cfg.SNSCertHosts},
		Mappings: generic.MappingsFrom(set.Items(generic.KindName)),
		Clock:    a.now,
	})
}

// buildPipeline makes the adapters, engine, processor and committer.
func (a *App) buildPipeline() error {
	reg, err := a.newIntakeRegistry(a.currentContent())
	if err != nil {
		return err
	}
	a.intakeReg.Store(reg)
	en, err := engineFrom(a.currentContent())
	if err != nil {
		return err
	}
	en.Metrics = pipeline.NewMetrics(a.registry)
	en.StoreRaw = true
	a.engine = en
	parse := func(ctx context.Context, b store.IntakeBatch) ([]event.Event, error) {
		ad, ok := a.intakeReg.Load().Adapter(b.Source)
		if !ok {
			return nil, fmt.Errorf("no adapter %q", b.Source)
		}
		hdr := api.HeaderFromJSON(b.Header)
		res, err := ad.Parse(ctx, intake.Request{Body: b.Body, Header: hdr})
		if sender := hdr.Get(api.SenderHeader); sender != "" {
			event.StampSender(res.Events, sender)
		}
		return res.Events, err
	}
	a.processor = pipeline.NewProcessor(a.st, a.engine, parse, pipeline.ProcessorOptions{Logger: a.log, Clock: a.now})
	a.committer = pipeline.NewCommitter(a.st, a.processor.Input(), a.processor.Backlog(), pipeline.CommitterOptions{Logger: a.log, Clock: a.now,
		Handoff: a.processor.Handoff()})
	a.intake = intakeService{reg: &a.intakeReg, com: a.committer}
	return nil
}

// engineFrom builds the pipeline engine from content: correlation,
// inhibition and dedup rules, and the store's silences and windows.
func engineFrom(set *content.Set) (*pipeline.Engine, error) {
	corr, err := correlatorFrom(set)
	if err != nil {
		return nil, err
	}
	inh, err := inhibit.Compile(set.Items(inhibit.KindName))
	if err != nil {
		return nil, fmt.Errorf("inhibit rules: %w", err)
	}
	dd, err := dedup.Compile(set.Items(dedup.KindName))
	if err != nil {
		return nil, fmt.Errorf("dedup rules: %w", err)
	}
	return &pipeline.Engine{
		Correlator: corr,
		Deflector:  &pipeline.StoreDeflector{TagsIn: inventoryTags, GroupIn: groupMember(runbook.NewGroups(set))},
		Inhibitor:  pipeline.NewRuleInhibitor(inh),
		Dedup:      dd,
	}, nil
}

// correlatorFrom builds the correlator for a content set.
func correlatorFrom(set *content.Set) (pipeline.Correlator, error) {
	rules, err := correlate.Compile(set.Items(correlate.KindName))
	if err != nil {
		return nil, fmt.Errorf("correlation rules: %w", err)
	}
	apps, err := application.Compile(set.Items(application.KindName))
	if err != nil {
		return nil, fmt.Errorf("applications: %w", err)
	}
	return pipeline.NewRuleCorrelator(rules.WithApplications(apps)), nil
}

// ReplayOptions builds what `flywheel replay` needs: the built-in content
// plus dir (if any), the intake adapters and an engine built from them.
// More directories load after dir, in order (a drafted rule on top).
func ReplayOptions(dir string, more ...string) (replay.Options, error) {
	sources := []content.Source{content.Builtin()}
	for _, d := range append([]string{dir}, more...) {
		if d != "" {
			sources = append(sources, content.Dir(d))
		}
	}
	set, err := content.Load(kinds.NewRegistry(), sources...)
	if err != nil {
		return replay.Options{}, fmt.Errorf("content:\n%w", err)
	}
	reg, err := registry.New(registry.Config{Mappings: generic.MappingsFrom(set.Items(generic.KindName))})
	if err != nil {
		return replay.Options{}, err
	}
	en, err := engineFrom(set)
	if err != nil {
		return replay.Options{}, err
	}
	setup := func(ctx context.Context, tx store.Tx, tenant string) error {
		for _, w := range contentWindows(set, tenant, time.Unix(0, 0).UTC()) {
			if err := tx.CreateMaintenanceWindow(ctx, w); err != nil {
				return fmt.Errorf("maintenance window %s: %w", w.Name, err)
			}
		}
		return nil
	}
	return replay.Options{Adapter: reg.Adapter, Engine: en, Setup: setup}, nil
}
