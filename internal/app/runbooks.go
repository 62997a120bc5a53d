package app

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/flywheel-ops/flywheel/internal/execution"
	"github.com/flywheel-ops/flywheel/internal/fleet"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/aws"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/awsinventory"
	backupaction "github.com/flywheel-ops/flywheel/internal/runbook/action/backup"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/exec"
	patchaction "github.com/flywheel-ops/flywheel/internal/runbook/action/patch"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/registry"
	"github.com/flywheel-ops/flywheel/internal/store"
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
	}, Channels: a.notify.channels, ChannelsKnown: true, Outbound: a.outbound,
		Patch:  patchaction.Options{Service: a.patch, TenantOf: execution.TenantFromContext},
		Backup: backupaction.Options{Service: a.backup, TenantOf: execution.TenantFromContext},
		AWS:    aws.Options{LoadAccountConfig: a.awsAccountConfig}, AWSInventory: awsinventory.Options{Sync: a.syncAWSAccount}})

	a.actions = actions.Get
	lib, err := runbook.NewLibrary(a.currentContent(), a.actions)
	if err != nil {
		return fmt.Errorf("runbooks: %w", err)
	}
	if act, ok := actions.Get("aws"); ok {
		a.checks = append(a.checks, act.(*aws.AWS).Readiness(aws.ReadinessOptions{Runbooks: awsRunbooks(lib), Clock: a.now,
			Accounts: a.awsAccountsSeen}))
	}
	x, err := execution.New(execution.Options{
		Store: a.st, Queue: a.jobs, Runbooks: lib, Actions: actions.Get, Targets: execution.InventoryTargets{Groups: runbook.NewLiveGroups(a.currentContent)},
		Logger: a.log.With("component", "execution"), Clock: a.now, LeaseTTL: a.cfg.ExecutionLease,
		RuleApprovers: func(tenant, name string) []string {
			if a.rules == nil || a.rules.Current() == nil { // built after the executor
				return nil
			}
			if r, ok := a.rules.Current().ForTenant(tenant).Rule(name); ok {
				return r.Approvers
			}
			return nil
		},
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

// accountsScan bounds how many of each tenant's newest events the AWS
// check reads for the accounts findings come from.
const accountsScan = 500

// awsAccountsSeen returns the AWS accounts named by the "account" label of
// each tenant's newest events (EventBridge and SNS intake set it), with the
// tenants each was seen in.
func (a *App) awsAccountsSeen(ctx context.Context) (map[string][]string, error) {
	seen := map[string][]string{}
	page := store.Page{Limit: store.MaxPageLimit}
	for {
		tenants, next, err := a.st.ListTenants(ctx, page)
		if err != nil {
			return nil, err
		}
		for _, t := range tenants {
			evPage := store.Page{Limit: store.MaxPageLimit}
			for n := 0; n < accountsScan; {
				evs, evNext, err := a.st.ListEvents(ctx, t.ID, store.EventFilter{}, evPage)
				if err != nil {
					return nil, err
				}
				for _, e := range evs {
					if acct := e.Labels["account"]; acct != "" && !slices.Contains(seen[acct], t.ID) {
						seen[acct] = append(seen[acct], t.ID)
					}
				}
				n += len(evs)
				if evNext == "" {
					break
				}
				evPage.Cursor = evNext
			}
		}
		if next == "" {
			return seen, nil
		}
		page.Cursor = next
	}
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
