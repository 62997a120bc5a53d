package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/execution"
	"github.com/flywheel-ops/flywheel/internal/fleet"
	"github.com/flywheel-ops/flywheel/internal/notification"
	"github.com/flywheel-ops/flywheel/internal/pipeline"
	"github.com/flywheel-ops/flywheel/internal/rule"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// buildAutomation joins rules, pipeline and executor: the content's rules
// run on every event that reaches an OpsItem, inside the pipeline's
// transaction, and start runbooks through the executor in that same
// transaction; the executor reports how rule-started executions end back
// to the rules (circuit breaker). Call it after buildPipeline and
// buildRunbooks, before the job queue starts.
func (a *App) buildAutomation() error {
	rules, err := rule.Compile(a.content.Items(rule.KindName))
	if err != nil {
		return fmt.Errorf("rules: %w", err)
	}
	en := &rule.Engine{Rules: rules, Starter: a.runbooks, Now: a.now, Logger: a.log.With("component", "rules"),
		Verifies: a.runbookVerifies}
	a.engine.Automation = ruleAutomation{en: en, log: a.log.With("component", "rules"), notifications: a.notify.svc}
	a.exec.SetResults(en)
	a.rules = en
	return nil
}

// runbookVerifies reports whether the tenant's runbook declares verify:
// only its succeeded runs proved their effect.
func (a *App) runbookVerifies(tenant, name string) bool {
	rb, ok := a.runbooks.Runbooks().Get(tenant, name)
	return ok && rb.Verify != nil
}

// ruleAutomation is the rule engine as the pipeline's Automation.
type ruleAutomation struct {
	en  *rule.Engine
	log *slog.Logger
	// notifications delivers rules' notifications; nil (benchmarks)
	// only logs them.
	notifications *notification.Service
}

var _ pipeline.Automation = ruleAutomation{}

// Wants: whether any rule's guard lets e through (see rule.Rules.Admits).
func (r ruleAutomation) Wants(tenant string, e *event.Event) bool {
	return r.en.Rules != nil && r.en.Rules.ForTenant(tenant).Admits(e)
}

func (r ruleAutomation) OnEvent(ctx context.Context, tx store.Tx, tenant string, e *event.Event, o *store.OpsItem, decision string) error {
	effs, err := r.en.OnEvent(ctx, tx, tenant, e, o, decision)
	if err != nil {
		return err
	}
	for _, ef := range effs {
		if ef.Decision != rule.DecisionNotified || ef.Notify == nil {
			continue
		}
		// Queued in the event's transaction: sent once the OpsItem
		// commits, never for one rolled back.
		n := ef.Notify
		if r.notifications == nil {
			r.log.Warn("rule notification not delivered: no delivery service", "tenant", tenant, "rule", ef.Rule, "channel", n.Channel)
			continue
		}
		if err := r.notifications.Enqueue(ctx, tx, notification.Request{Tenant: tenant, OpsItemID: n.OpsItemID,
			Rule: ef.Rule, Channel: n.Channel, Message: n.Message}); err != nil {
			return fmt.Errorf("rule %s: notification: %w", ef.Rule, err)
		}
	}
	return nil
}

func (r ruleAutomation) ResolvedBy(ctx context.Context, tx store.Tx, o store.OpsItem) (string, error) {
	return r.en.ResolvedBy(ctx, tx, &o)
}

// hostRunbooks is the executor with one addition: a runbook that targets
// the OpsItem's resources ({from: opsitem}) runs on the inventory's hosts
// those resources name. Events name hosts loosely — an Alertmanager
// instance label "web-03:9100" becomes the host reference "web-03" — while
// the agent reports its host as a resource with its own ID (res_…) and
// the hostname as its name; a reference that is no resource ID but is a
// host's name is run on that host. One alert often names its host twice
// (nodename "web-03", instance "10.0.3.41:9100"): once a reference
// resolved, host references that match nothing are dropped. When none
// resolves the executor's own targeting applies (a step on a host without
// an agent then fails saying so).
type hostRunbooks struct {
	*execution.Executor
}

var _ runbook.Starter = hostRunbooks{}

// Start implements runbook.Starter.
func (h hostRunbooks) Start(ctx context.Context, tx store.Tx, req runbook.StartRequest) (string, error) {
	if len(req.Targets) == 0 && req.OpsItemID != "" && req.Mode != runbook.ModeSuggest {
		if rb, ok := h.Runbooks().Get(req.TenantID, req.Runbook); ok && rb.Targets.From == "opsitem" {
			ids, err := opsItemHosts(ctx, tx, req.TenantID, req.OpsItemID)
			if err != nil {
				return "", err
			}
			req.Targets = ids
		}
	}
	return h.Executor.Start(ctx, tx, req)
}

// opsItemHosts returns the OpsItem's resources as target IDs, host
// references resolved to inventory hosts by name; nil when none needed
// resolving (the executor's own targeting then applies unchanged).
func opsItemHosts(ctx context.Context, tx store.Tx, tenant, opsItemID string) ([]string, error) {
	rs, err := tx.ListOpsItemResources(ctx, tenant, opsItemID)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(rs))
	resolved := false
	for _, r := range rs {
		id, inInventory, err := hostByName(ctx, tx, tenant, r)
		if err != nil {
			return nil, err
		}
		switch {
		case id != r.ID:
			resolved = true
		case !inInventory && r.Type == fleet.ResourceTypeHost:
			continue // an unknown name of a host, maybe of one resolved
		}
		ids = append(ids, id)
	}
	if !resolved {
		return nil, nil
	}
	return ids, nil
}

// hostByName returns the ID of the inventory resource r names: r.ID when
// it is one, else the one host whose name is r.ID (a host reference);
// else r.ID, not in the inventory.
func hostByName(ctx context.Context, tx store.Tx, tenant string, r store.OpsItemResource) (string, bool, error) {
	if _, err := tx.GetResource(ctx, tenant, r.ID); err == nil {
		return r.ID, true, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return "", false, err
	}
	if r.Type != fleet.ResourceTypeHost {
		return r.ID, false, nil
	}
	hosts, _, err := tx.ListResources(ctx, tenant, store.ResourceFilter{Type: fleet.ResourceTypeHost, Name: r.ID}, store.Page{Limit: 2})
	if err != nil {
		return "", false, err
	}
	if len(hosts) != 1 {
		// None, or two hosts of that name: no guessing which.
		return r.ID, false, nil
	}
	return hosts[0].ID, true, nil
}
