package app

import (
	"fmt"
	"slices"

	"github.com/flywheel-ops/flywheel/internal/execution"
	"github.com/flywheel-ops/flywheel/internal/fleet"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/aws"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/exec"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/registry"
)

// buildRunbooks makes the I/O actions (exec steps run on hosts through the
// fleet's agents), compiles the content's runbooks and builds the executor,
// whose jobs run on the app's queue.
func (a *App) buildRunbooks() error {
	if err := a.buildNotifications(); err != nil {
		return err
	}
	actions := registry.New(registry.Options{Exec: exec.Options{
		Dispatcher: &fleet.Dispatcher{Service: a.fleet, TenantOf: execution.TenantFromContext},
	}, Channels: a.notify.channels, ChannelsKnown: true})
	lib, err := runbook.NewLibrary(a.content, actions.Get)
	if err != nil {
		return fmt.Errorf("runbooks: %w", err)
	}
	if act, ok := actions.Get("aws"); ok {
		a.checks = append(a.checks, act.(*aws.AWS).Readiness(aws.ReadinessOptions{Runbooks: awsRunbooks(lib), Clock: a.now}))
	}
	x, err := execution.New(execution.Options{
		Store: a.st, Queue: a.jobs, Runbooks: lib, Actions: actions.Get, Targets: execution.InventoryTargets{Groups: runbook.NewGroups(a.content)},
		Logger: a.log.With("component", "execution"), Clock: a.now,
	})
	if err != nil {
		return err
	}
	if err := x.Register(a.jobs); err != nil {
		return err
	}
	a.exec, a.runbooks = x, hostRunbooks{x}
	return nil
}

// awsRunbooks names the runbooks with aws steps (any tenant's).
func awsRunbooks(lib *runbook.Library) []string {
	var names []string
	for _, rb := range lib.List("") {
		if rb.UsesAction("aws") && !slices.Contains(names, rb.Name) {
			names = append(names, rb.Name)
		}
	}
	slices.Sort(names)
	return names
}

// Executor returns the runbook executor (automation rules start runbooks
// through it: it is a runbook.Starter).
func (a *App) Executor() *execution.Executor { return a.exec }
