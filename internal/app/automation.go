package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

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
	rules, err := rule.Compile(a.currentContent().Items(rule.KindName))
	if err != nil {
		return fmt.Errorf("rules: %w", err)
	}
	en := &rule.Engine{Rules: rules, Starter: a.runbooks, Now: a.now, Logger: a.log.With("component", "rules"),
		Verifies: a.runbookVerifies, TargetGroup: a.targetGroup}
	if svc := a.notify.svc; svc != nil {
		en.Notify = func(ctx context.Context, tx store.Tx, tenant, rule string, n rule.Notification) error {
			return svc.Enqueue(ctx, tx, notification.Request{Tenant: tenant, OpsItemID: n.OpsItemID, Rule: rule, Channel: n.Channel, Message: n.Message})
		}
	}
	a.engine.Automation = patchFindings{Automation: ruleAutomation{en: en, log: a.log.With("component", "rules"), notifications: a.notify.svc}, patch: a.patch}
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

// targetGroup is the target group a rule's run of runbook name on o would
// run on: the rule's targets, else o's resources, host references resolved
// to agents' hosts as hostRunbooks resolves them (rule.TargetGroup of the
// IDs).
func (a *App) targetGroup(ctx context.Context, tx store.Tx, tenant, name string, o *store.OpsItem, targets []string) (string, error) {
	if rb, ok := a.runbooks.Runbooks().Get(tenant, name); !ok || !rb.NeedsAgent() {
		if len(targets) > 0 {
			return rule.TargetGroup(targets), nil
		}
		return rule.OpsItemGroup(ctx, tx, tenant, o.ID)
	}
	var refs []store.OpsItemResource
	given := len(targets) > 0
	if given {
		for _, id := range targets {
			refs = append(refs, store.OpsItemResource{Type: fleet.ResourceTypeHost, ID: id})
		}
	} else {
		var err error
		if refs, err = tx.ListOpsItemResources(ctx, tenant, o.ID); err != nil {
			return "", err
		}
	}
	ids, _, err := a.runbooks.resolveTargets(ctx, tx, tenant, refs, given)
	if err != nil {
		return "", err
	}
	if ids == nil {
		for _, r := range refs {
			ids = append(ids, r.ID)
		}
	}
	return rule.TargetGroup(ids), nil
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
	rules := r.en.Current()
	return rules != nil && rules.ForTenant(tenant).Admits(e)
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

// hostRunbooks is the executor with host resolution in front: events and
// people name hosts loosely — an Alertmanager instance label
// "web-03:9100", "127.0.0.1:9100", an IP, an FQDN, an agent ID — while the
// agent reports its host as a resource with its own ID (res_…). Each
// target, given or taken from the OpsItem ({from: opsitem}), that is not
// an inventory resource is resolved to an agent's host (fleet.ResolveHost).
// One alert often names its host twice (nodename "web-03", instance
// "10.0.3.41:9100"): host references that resolve to nothing are dropped
// once another resolved. A runbook that runs commands on hosts (an exec
// step) is not started when no target is an agent's host: the error wraps
// runbook.ErrNoTarget and says why, so a rule records that it did not run
// (no failed execution, nothing for the breaker) and a person gets a 400.
type hostRunbooks struct {
	*execution.Executor
	// hosts resolves host references, each tenant's index of agent hosts
	// kept briefly (fleet.Resolver).
	hosts *fleet.Resolver
}

var _ runbook.Starter = hostRunbooks{}

// Start implements runbook.Starter.
func (h hostRunbooks) Start(ctx context.Context, tx store.Tx, req runbook.StartRequest) (string, error) {
	rb, ok := h.Runbooks().Get(req.TenantID, req.Runbook)
	if !ok || req.Mode == runbook.ModeSuggest || !rb.NeedsAgent() {
		return h.Executor.Start(ctx, tx, req)
	}
	var refs []store.OpsItemResource
	given := len(req.Targets) > 0
	switch {
	case given:
		for _, id := range req.Targets {
			refs = append(refs, store.OpsItemResource{Type: fleet.ResourceTypeHost, ID: id})
		}
	case req.OpsItemID != "" && rb.Targets.From == "opsitem":
		var err error
		if refs, err = tx.ListOpsItemResources(ctx, req.TenantID, req.OpsItemID); err != nil {
			return "", err
		}
	default:
		return h.Executor.Start(ctx, tx, req)
	}
	ids, why, err := h.resolveTargets(ctx, tx, req.TenantID, refs, given)
	if err != nil {
		return "", err
	}
	if len(why) > 0 && (given || len(ids) == 0) {
		return "", fmt.Errorf("%w: %w: runbook %s runs commands on hosts, and %s", execution.ErrInvalid, runbook.ErrNoTarget, rb.Name, strings.Join(why, "; "))
	}
	if ids != nil {
		req.Targets = ids
	}
	return h.Executor.Start(ctx, tx, req)
}

// resolveTargets maps the targets of a runbook that needs an agent to
// inventory resource IDs: a resource ID stays; a host reference becomes
// its agent's host, or is dropped with the reason why it did not resolve.
// With given false (the OpsItem's resources) it returns nil IDs when
// nothing changed, so the executor's own targeting applies unchanged.
func (h hostRunbooks) resolveTargets(ctx context.Context, tx store.Tx, tenant string, refs []store.OpsItemResource, given bool) ([]string, []string, error) {
	ids := make([]string, 0, len(refs))
	var why []string
	changed := false
	for _, r := range refs {
		if r.ID == execution.LocalTarget {
			ids = append(ids, r.ID)
			continue
		}
		if res, err := tx.GetResource(ctx, tenant, r.ID); err == nil && (res.AgentID != "" || !fleet.IsHostType(res.Type)) {
			ids = append(ids, r.ID)
			continue
		} else if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, nil, err
		}
		if !fleet.IsHostType(r.Type) {
			ids = append(ids, r.ID)
			continue
		}
		res, err := h.hosts.Resolve(ctx, tx, tenant, r.ID)
		if err != nil {
			return nil, nil, err
		}
		if !res.Resolved() {
			why = append(why, "host "+res.Reason+" (no agent runs on it)")
			changed = true
			continue
		}
		changed = changed || res.ResourceID != r.ID
		ids = append(ids, res.ResourceID)
	}
	if !given && !changed {
		return nil, nil, nil
	}
	return dedupe(ids), why, nil
}

func dedupe(ids []string) []string {
	seen := map[string]bool{}
	out := ids[:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
