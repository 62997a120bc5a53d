package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/flywheel-ops/flywheel/internal/compliance"
	"github.com/flywheel-ops/flywheel/internal/execution"
	"github.com/flywheel-ops/flywheel/internal/jobs"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// Compliance evaluation runs every complianceEvery in full (AWS Config's
// default maximum execution frequency is 24 h; a quarter of it), and
// every complianceChangesEvery over what changed.
const (
	complianceEvery        = 6 * time.Hour
	complianceChangesEvery = time.Minute
)

// buildCompliance compiles the content's config rules and packs and
// schedules their evaluation on the job queue; remediations start through
// the runbook executor, whose ends queue a re-evaluation. Call it after
// buildAutomation.
func (a *App) buildCompliance() error {
	lib, err := compliance.NewLibrary(a.currentContent())
	if err != nil {
		return fmt.Errorf("config rules: %w", err)
	}
	a.complianceLib.Store(lib)
	svc := compliance.NewService(compliance.Options{Store: a.st, Library: a.complianceLib.Load,
		Sink: intakeSink{a.intake}, Starter: a.runbooks, Queue: a.jobs, Logger: a.log.With("component", "compliance"), Clock: a.now})
	if err := errors.Join(
		jobs.AddWorker(a.jobs, &compliance.EvaluateWorker{Service: svc}),
		jobs.AddWorker(a.jobs, &compliance.ReevaluateWorker{Service: svc}),
		jobs.AddWorker(a.jobs, &compliance.ChangesWorker{Service: svc, Every: complianceChangesEvery}),
		a.jobs.AddPeriodic(compliance.PeriodicEvaluate(complianceEvery)),
		a.jobs.AddPeriodic(compliance.PeriodicChanges(complianceChangesEvery)),
		a.jobs.AddPruner("compliance-history", svc.Prune),
	); err != nil {
		return err
	}
	a.exec.SetResults(results{a.rules, svc})
	a.compliance = svc
	return nil
}

// Compliance returns the server's compliance service.
func (a *App) Compliance() *compliance.Service { return a.compliance }

// results tells every recorder how an execution ended, in order.
type results []execution.ResultRecorder

func (rs results) RecordResult(ctx context.Context, tx store.Tx, e store.Execution) error {
	for _, r := range rs {
		if err := r.RecordResult(ctx, tx, e); err != nil {
			return err
		}
	}
	return nil
}
