package app

import (
	"time"

	"github.com/flywheel-ops/flywheel/internal/execution"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/windowrun"
)

// buildWindows makes the maintenance window runner: its tick runs on the
// job queue's elected leader and starts the windows' tasks through the
// runbook executor.
func (a *App) buildWindows(tick time.Duration) error {
	r, err := windowrun.New(windowrun.Options{Store: a.st, Starter: a.exec, Canceller: a.exec,
		Targets: execution.InventoryTargets{Groups: runbook.NewGroups(a.content)}, Queue: a.jobs,
		Logger: a.log.With("component", "maintenance"), Clock: a.now, TickEvery: tick})
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
