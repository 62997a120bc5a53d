package app

import (
	"fmt"
	"time"

	"github.com/flywheel-ops/flywheel/internal/execution"
	"github.com/flywheel-ops/flywheel/internal/fleet"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/exec"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/registry"
)

// hostIndexTTL is how long host resolution keeps a tenant's index of agent
// hosts (their names, addresses and listening ports).
const hostIndexTTL = 30 * time.Second

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
	a.exec, a.runbooks = x, hostRunbooks{Executor: x, hosts: &fleet.Resolver{TTL: hostIndexTTL, Now: a.now}}
	return nil
}

// Executor returns the runbook executor (automation rules start runbooks
// through it: it is a runbook.Starter).
func (a *App) Executor() *execution.Executor { return a.exec }
