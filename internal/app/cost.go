package app

import (
	"os"
	"time"

	"github.com/flywheel-ops/flywheel/internal/cost"
	"github.com/flywheel-ops/flywheel/internal/forecast"
	"github.com/flywheel-ops/flywheel/internal/promsource"
)

// buildCost makes the resource schedule runner and the capacity forecast
// engine; both tick as periodic jobs on the job queue's elected leader,
// the schedules at the maintenance windows' interval.
func (a *App) buildCost(tick time.Duration) error {
	scheds, err := cost.CompileSet(a.currentContent())
	if err != nil {
		return err
	}
	r, err := cost.New(cost.Options{Store: a.st, Starter: a.exec, Schedules: scheds, TickEvery: tick,
		Logger: a.log.With("component", "cost"), Clock: a.now})
	if err != nil {
		return err
	}
	if err := r.Register(a.jobs); err != nil {
		return err
	}
	// A tenant's Prometheus, where connected, is a series source besides
	// the agents' inventory.
	prom := &promsource.Connections{Store: a.st, Guard: a.outbound, Lookup: os.LookupEnv}
	f, err := forecast.NewEngine(forecast.EngineOptions{Store: a.st, Logger: a.log.With("component", "forecast"), Clock: a.now,
		Sources: []forecast.Source{&promsource.Source{Hosts: a.st, Connect: prom.Connect}}})
	if err != nil {
		return err
	}
	if err := f.Register(a.jobs); err != nil {
		return err
	}
	a.costs, a.forecasts = r, f
	return nil
}

// Costs returns the resource schedule runner.
func (a *App) Costs() *cost.Runner { return a.costs }
