package app

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/intake"
	"github.com/flywheel-ops/flywheel/internal/intake/registry"
	"github.com/flywheel-ops/flywheel/internal/intake/sns"
	"github.com/flywheel-ops/flywheel/internal/pipeline"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// intakeService joins the adapter registry and the committer for the API.
type intakeService struct {
	reg *registry.Registry
	com *pipeline.Committer
}

func (s intakeService) Adapter(name string) (intake.Adapter, bool) { return s.reg.Adapter(name) }

func (s intakeService) Submit(ctx context.Context, tenant, source string, body []byte, header json.RawMessage, evs []event.Event) error {
	return s.com.Submit(ctx, tenant, source, body, header, evs)
}

// buildPipeline makes the adapters, engine, processor and committer.
func (a *App) buildPipeline() error {
	reg, err := registry.New(registry.Config{
		SNS:   sns.Config{AllowedTopics: a.cfg.SNSTopics, CertHosts: a.cfg.SNSCertHosts},
		Clock: a.now,
	})
	if err != nil {
		return err
	}
	a.engine = &pipeline.Engine{
		Correlator: a.correlator(),
		Deflector:  &pipeline.StoreDeflector{},
		Metrics:    pipeline.NewMetrics(a.registry),
		StoreRaw:   true,
	}
	parse := func(ctx context.Context, b store.IntakeBatch) ([]event.Event, error) {
		ad, ok := reg.Adapter(b.Source)
		if !ok {
			return nil, fmt.Errorf("no adapter %q", b.Source)
		}
		res, err := ad.Parse(ctx, intake.Request{Body: b.Body, Header: api.HeaderFromJSON(b.Header)})
		return res.Events, err
	}
	a.processor = pipeline.NewProcessor(a.st, a.engine, parse, pipeline.ProcessorOptions{Logger: a.log, Clock: a.now})
	a.committer = pipeline.NewCommitter(a.st, a.processor.Input(), a.processor.Backlog(), pipeline.CommitterOptions{Logger: a.log, Clock: a.now})
	a.intake = intakeService{reg: reg, com: a.committer}
	return nil
}

func (a *App) correlator() pipeline.Correlator {
	return pipeline.ByFingerprint{}
}
