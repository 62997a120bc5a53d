package rule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/opsitem"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// LabelExecutionRule is the event label that says an execution started by
// this rule caused the event; the rule does not act on such an event (the
// loop guard). Whatever turns an execution's effects into events (a runbook
// step that emits one, an action reporting back) sets it to the
// execution's StartRequest.Rule.
const LabelExecutionRule = "flywheel_execution_rule"

// Decision is what a rule did for one event.
type Decision string

const (
	// DecisionRan: the rule started its runbook (auto or approval mode).
	DecisionRan Decision = "ran"
	// DecisionSuggested: the rule's runbook was recorded as a suggestion
	// on the OpsItem's timeline (mode suggest).
	DecisionSuggested Decision = "suggested"
	// DecisionNotified: the rule asked for a notification (Effect.Notify).
	DecisionNotified Decision = "notified"
	// DecisionRateLimited: the rule matched but had acted its rate limit's
	// max times within its period.
	DecisionRateLimited Decision = "rate-limited"
	// DecisionBreakerOpen: the rule matched in auto mode while its circuit
	// breaker is open; nothing ran, the runbook was suggested instead.
	DecisionBreakerOpen Decision = "breaker-open"
	// DecisionLoopGuarded: the event came from this rule's own execution,
	// or the rule acted on this OpsItem within its cool-down.
	DecisionLoopGuarded Decision = "loop-guarded"
	// DecisionFailed: the rule's runbook could not start (a parameter
	// failed to evaluate, or the starter refused).
	DecisionFailed Decision = "failed"
	// DecisionNoTarget: the rule's runbook runs commands on hosts and none
	// of the OpsItem's hosts has an agent (or a name matched two hosts):
	// nothing ran, the OpsItem's timeline says why, and neither the
	// breaker, the rate limit nor the cool-down counts it.
	DecisionNoTarget Decision = "no-target"
	// DecisionSet: the rule changed the OpsItem's category or severity.
	DecisionSet Decision = "set"
	// DecisionSuppressed: the rule marked the OpsItem suppressed.
	DecisionSuppressed Decision = "suppressed"
)

// Effect is one thing a rule did (or declined to do) for an event. Apply
// has already applied every effect to the OpsItem and the store; the
// caller reports them, and delivers DecisionNotified ones.
type Effect struct {
	Rule     string   `json:"rule"`
	Decision Decision `json:"decision"`
	// Reason explains a skip or failure.
	Reason string `json:"reason,omitempty"`

	Runbook     string         `json:"runbook,omitempty"`
	Mode        runbook.Mode   `json:"mode,omitempty"`
	ExecutionID string         `json:"execution_id,omitempty"`
	Parameters  map[string]any `json:"parameters,omitempty"`
	Targets     []string       `json:"targets,omitempty"`

	// Category and Severity are the values DecisionSet gave the OpsItem.
	Category string `json:"category,omitempty"`
	Severity string `json:"severity,omitempty"`

	// Notify is the notification DecisionNotified asks for.
	Notify *Notification `json:"notify,omitempty"`
}

// Notification is a notification a rule asks the application to deliver.
type Notification struct {
	Channel   string `json:"channel"`
	Message   string `json:"message"`
	OpsItemID string `json:"opsitem_id"`
}

// Engine applies rules to the OpsItems the pipeline opens and updates, and
// keeps their rate limits, breakers and loop guard in the store.
//
// It writes only through the transaction it is given, so a rule's actions
// commit with the event that caused them, or not at all.
type Engine struct {
	// Rules are the rules the engine starts with; SetRules replaces them
	// (a content reload) and Current returns the rules in force.
	Rules *Rules
	live  atomic.Pointer[Rules]
	// Starter starts runbook executions and records suggestions
	// (internal/execution). Nil: rules with a runbook in auto or approval
	// mode fail (DecisionFailed); suggestions are recorded on the timeline
	// by the engine.
	Starter runbook.Starter
	// Now is the clock for RecordResult and ResetBreaker (Apply takes time
	// from the event); nil means time.Now.
	Now func() time.Time
	// Logger receives rule expressions that fail on an event; nil discards.
	Logger *slog.Logger
	// Verifies reports whether the tenant's runbook declares `verify`, so
	// that a run of it that succeeded proved its effect; only such runs
	// earn automation credit (ResolvedBy). Nil counts every succeeded run
	// as verified.
	Verifies func(tenant, runbook string) bool
	// Notify delivers a notification the engine raises itself, outside
	// Apply's effects (an escalation when a run ends ineffective), in tx.
	// Nil: escalations are not notified (they are still on the OpsItem).
	Notify func(ctx context.Context, tx store.Tx, tenant, rule string, n Notification) error
	// TargetGroup returns the target group a rule's run on OpsItem o with
	// targets would run on (see TargetGroup), so that the breaker checked
	// before the run is the one its result counts toward. Nil: the group
	// of targets, else of o's resources.
	TargetGroup func(ctx context.Context, tx store.Tx, tenant, runbook string, o *store.OpsItem, targets []string) (string, error)
}

func (en *Engine) now() time.Time {
	if en.Now != nil {
		return en.Now().UTC()
	}
	return time.Now().UTC()
}

func (en *Engine) logger() *slog.Logger {
	if en.Logger != nil {
		return en.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// OnEvent is the pipeline's hook: call it inside the pipeline transaction
// after the event was stored on an OpsItem, with the pipeline's decision
// for it. Rules act on firing events that opened, joined, updated or
// reopened an OpsItem that is still open; for any other decision
// (deduplicated, resolved, suppressed, held, flapping, …) OnEvent does
// nothing. o is updated in place when a rule sets or suppresses it (and
// already stored).
func (en *Engine) OnEvent(ctx context.Context, tx store.Tx, tenant string, ev *event.Event, o *store.OpsItem, decision string) ([]Effect, error) {
	switch decision {
	case "opened", "attached", "updated", "reopened":
	default:
		return nil, nil
	}
	if ev == nil || ev.Status != event.StatusFiring {
		return nil, nil
	}
	return en.apply(ctx, tx, tenant, ev, o, decision)
}

// Apply evaluates the tenant's rules for ev on o and carries out every
// match, in order, inside tx:
//
//   - set and suppress change o and store it (tx.UpdateOpsItem), with a
//     timeline entry and an audit record; o is updated in place.
//   - acting (runbook, notify) passes the loop guard (the event's
//     LabelExecutionRule, then the cool-down on this OpsItem), then the
//     rate limit, then — for auto runs — the circuit breaker (an open one
//     turns the run into a suggestion); then hands the run or suggestion
//     to the Starter, which records it on the OpsItem's timeline, and
//     returns notifications as effects to deliver.
//
// Every decision writes an audit record with actor "rule:<name>". Apply
// returns an error only when the store fails; a runbook that cannot start
// is DecisionFailed (counted by the breaker), not an error, so one bad rule
// cannot stall the pipeline. Time is the event's (ReceivedAt, else
// OccurredAt), so replays decide the same.
func (en *Engine) Apply(ctx context.Context, tx store.Tx, tenant string, ev *event.Event, o *store.OpsItem) ([]Effect, error) {
	return en.apply(ctx, tx, tenant, ev, o, "")
}

// apply is Apply for an event the pipeline decided on (decision
// "reopened": the OpsItem came back after it resolved).
func (en *Engine) apply(ctx context.Context, tx store.Tx, tenant string, ev *event.Event, o *store.OpsItem, decision string) ([]Effect, error) {
	rules := en.Current()
	if rules == nil || o == nil || opsitem.IsClosed(o.Status) {
		return nil, nil
	}
	matches, errs := rules.ForTenant(tenant).Evaluate(ev, o)
	for _, err := range errs {
		en.logger().Debug("rule condition failed", "tenant", tenant, "opsitem", o.ID, "err", err)
	}
	a := applier{en: en, tx: tx, tenant: tenant, ev: ev, o: o, at: eventTime(ev, en), reopened: decision == "reopened"}
	for _, m := range matches {
		if err := a.apply(ctx, m); err != nil {
			return a.effects, fmt.Errorf("rule %s: %w", m.Rule.Name, err)
		}
		if opsitem.IsClosed(o.Status) {
			break
		}
	}
	return a.effects, nil
}

func eventTime(ev *event.Event, en *Engine) time.Time {
	switch {
	case ev != nil && !ev.ReceivedAt.IsZero():
		return ev.ReceivedAt.UTC()
	case ev != nil && !ev.OccurredAt.IsZero():
		return ev.OccurredAt.UTC()
	}
	return en.now()
}

// applier carries one Apply call's state.
type applier struct {
	en      *Engine
	tx      store.Tx
	tenant  string
	ev      *event.Event
	o       *store.OpsItem
	at      time.Time
	effects []Effect
	// reopened: the event reopened the OpsItem (it came back).
	reopened bool
}

func actor(r *Rule) string { return "rule:" + r.Name }

func (a *applier) apply(ctx context.Context, m Match) error {
	r := m.Rule
	if err := a.classify(ctx, r); err != nil {
		return err
	}
	if !r.Acts() {
		return nil
	}
	reason, cooling, err := a.guarded(ctx, r)
	if err != nil {
		return err
	}
	if reason != "" {
		if err := a.record(ctx, r, Effect{Decision: DecisionLoopGuarded, Reason: reason, Runbook: r.Runbook, Mode: r.Mode}, a.reopened && cooling); err != nil {
			return err
		}
		// The problem came back within the cool-down of a run: that run
		// did not last, and nothing runs now. A person has to look.
		if a.reopened && cooling && r.Runbook != "" {
			if err := a.en.escalate(ctx, a.tx, a.tenant, r, a.o.ID, EscalateBlocked, "it came back within the cool-down of the rule's last run ("+reason+")", ""); err != nil {
				return err
			}
			return a.reload(ctx)
		}
		return nil
	}
	group, err := a.group(ctx, r, m)
	if err != nil {
		return err
	}
	st, err := a.tx.LockRuleState(ctx, a.tenant, stateKey(r.Name, group), a.at)
	if err != nil {
		return err
	}
	// The window is the last Per, (at-Per, at]: a run exactly Per ago no
	// longer counts (stored times are microseconds).
	n, err := a.tx.CountRuleRuns(ctx, a.tenant, r.Name, a.at.Add(-r.RateLimit.Per+time.Microsecond))
	if err != nil {
		return err
	}
	if n >= int64(r.RateLimit.Max) {
		reason := fmt.Sprintf("acted %d times in the last %s (rate limit %d per %s)", n, r.RateLimit.Per, r.RateLimit.Max, r.RateLimit.Per)
		return a.record(ctx, r, Effect{Decision: DecisionRateLimited, Reason: reason, Runbook: r.Runbook, Mode: r.Mode}, true)
	}

	action, execID := "notify", ""
	if r.Runbook != "" {
		eff, err := a.runbook(ctx, r, m, group, st)
		if err != nil {
			return err
		}
		action, execID = "run", eff.ExecutionID
		if eff.Decision == DecisionSuggested || eff.Decision == DecisionBreakerOpen {
			action = "suggest"
		}
		if eff.Decision == DecisionNoTarget {
			return nil
		}
	}
	if r.Notify != nil {
		eff := Effect{Decision: DecisionNotified, Notify: &Notification{Channel: r.Notify.Channel, Message: m.Message, OpsItemID: a.o.ID}}
		if err := a.record(ctx, r, eff, false); err != nil {
			return err
		}
	}
	if err := a.tx.AddRuleRun(ctx, store.RuleRun{TenantID: a.tenant, Rule: r.Name, OpsItemID: a.o.ID, At: a.at,
		Action: action, ExecutionID: execID}); err != nil {
		return err
	}
	_, err = a.tx.PruneRuleRuns(ctx, a.tenant, r.Name, a.at.Add(-max(r.RateLimit.Per, r.Cooldown)))
	return err
}

// classify applies set and suppress.
func (a *applier) classify(ctx context.Context, r *Rule) error {
	o := a.o
	var changed []string
	if c := r.Set.Category; c != "" && c != o.Category {
		changed = append(changed, fmt.Sprintf("category %s → %s", o.Category, c))
		o.Category = c
	}
	if s := r.Set.Severity; s != "" && s != o.Severity {
		changed = append(changed, fmt.Sprintf("severity %s → %s", o.Severity, s))
		o.Severity = s
	}
	if len(changed) > 0 {
		o.UpdatedAt = later(o.UpdatedAt, a.at)
		if err := a.tx.UpdateOpsItem(ctx, *o); err != nil {
			return err
		}
		if err := a.timeline(ctx, r, "rule", "rule "+r.Name+" set "+strings.Join(changed, ", ")); err != nil {
			return err
		}
		if err := a.record(ctx, r, Effect{Decision: DecisionSet, Category: o.Category, Severity: o.Severity}, false); err != nil {
			return err
		}
	}
	if r.Suppress {
		at := a.at
		o.Status, o.ResolvedAt, o.ResolvedBy, o.UpdatedAt = opsitem.StatusSuppressed, &at, actor(r), later(o.UpdatedAt, a.at)
		if err := a.tx.UpdateOpsItem(ctx, *o); err != nil {
			return err
		}
		if err := a.timeline(ctx, r, "suppressed", "suppressed by rule "+r.Name); err != nil {
			return err
		}
		return a.record(ctx, r, Effect{Decision: DecisionSuppressed}, false)
	}
	return nil
}

// guarded returns why the loop guard stops r from acting, or "", and
// whether it is the cool-down after an earlier run.
func (a *applier) guarded(ctx context.Context, r *Rule) (string, bool, error) {
	if a.ev != nil && a.ev.Labels[LabelExecutionRule] == r.Name {
		return "the event comes from an execution this rule started (label " + LabelExecutionRule + ")", false, nil
	}
	if r.Cooldown <= 0 {
		return "", false, nil
	}
	last, err := a.tx.LastRuleRun(ctx, a.tenant, r.Name, a.o.ID)
	if errors.Is(err, store.ErrNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	if a.at.Sub(last.At) < r.Cooldown {
		return fmt.Sprintf("acted on this OpsItem at %s (cool-down %s)", last.At.Format(time.RFC3339), r.Cooldown), true, nil
	}
	return "", false, nil
}

// reload reads the OpsItem again after an escalation changed it in the
// store, so the caller's copy (which the pipeline may store) has it.
func (a *applier) reload(ctx context.Context) error {
	o, err := a.tx.GetOpsItem(ctx, a.tenant, a.o.ID)
	if err != nil {
		return err
	}
	*a.o = o
	return nil
}

// group is the target group r's run for m would run on.
func (a *applier) group(ctx context.Context, r *Rule, m Match) (string, error) {
	if r.Runbook == "" {
		return "", nil
	}
	if a.en.TargetGroup != nil {
		return a.en.TargetGroup(ctx, a.tx, a.tenant, r.Runbook, a.o, m.Targets)
	}
	if len(m.Targets) > 0 {
		return TargetGroup(m.Targets), nil
	}
	return OpsItemGroup(ctx, a.tx, a.tenant, a.o.ID)
}

// OpsItemGroup is the target group of an OpsItem's resources, as they are.
func OpsItemGroup(ctx context.Context, tx store.Tx, tenant, opsItemID string) (string, error) {
	rs, err := tx.ListOpsItemResources(ctx, tenant, opsItemID)
	if err != nil {
		return "", err
	}
	ids := make([]string, len(rs))
	for i, res := range rs {
		ids[i] = res.ID
	}
	return TargetGroup(ids), nil
}

// runbook starts, suggests or declines the rule's runbook, and records
// the decision.
func (a *applier) runbook(ctx context.Context, r *Rule, m Match, group string, st store.RuleState) (Effect, error) {
	eff := Effect{Runbook: r.Runbook, Mode: r.Mode, Parameters: m.Parameters, Targets: m.Targets}
	if len(m.Errors) > 0 {
		// The rule's expressions failed on this event: its inputs would be
		// wrong. That is the rule's fault, not the runbook's, so the
		// breaker does not count it.
		eff.Decision, eff.Reason = DecisionFailed, errors.Join(m.Errors...).Error()
		return eff, a.record(ctx, r, eff, true)
	}
	mode := r.Mode
	switch {
	case mode == runbook.ModeSuggest:
		eff.Decision = DecisionSuggested
	case mode == runbook.ModeAuto && st.BreakerOpen():
		// Stop auto runs, but say what would have run and why not.
		eff.Decision, mode = DecisionBreakerOpen, runbook.ModeSuggest
		eff.Reason = fmt.Sprintf("its circuit breaker opened at %s after %d failed runs", st.BreakerOpenedAt.Format(time.RFC3339), st.Failures)
		if st.BreakerOpsItemID != "" {
			eff.Reason += " (OpsItem " + st.BreakerOpsItemID + ")"
		}
		if err := a.record(ctx, r, eff, true); err != nil {
			return eff, err
		}
		if err := a.en.escalate(ctx, a.tx, a.tenant, r, a.o.ID, EscalateBlocked, "the rule's circuit breaker is open: "+eff.Reason, ""); err != nil {
			return eff, err
		}
		if err := a.reload(ctx); err != nil {
			return eff, err
		}
	default:
		eff.Decision = DecisionRan
	}

	id, err := a.start(ctx, r, m, mode)
	if errors.Is(err, runbook.ErrNoTarget) {
		// Not the runbook's failure: there is nowhere to run it.
		eff.Decision, eff.Reason = DecisionNoTarget, err.Error()
		return eff, a.record(ctx, r, eff, true)
	}
	if err != nil {
		// A runbook that cannot start is a failed run: the breaker counts
		// it, so a rule naming a missing runbook stops itself.
		eff.Decision, eff.Reason = DecisionFailed, err.Error()
		if err := a.record(ctx, r, eff, true); err != nil {
			return eff, err
		}
		return eff, a.en.countResult(ctx, a.tx, a.tenant, r, group, st, false, a.at)
	}
	eff.ExecutionID = id
	if eff.Decision == DecisionBreakerOpen {
		return eff, nil
	}
	return eff, a.record(ctx, r, eff, false)
}

// start hands the run (or, in suggest mode, the suggestion) to the
// Starter, which records it on the OpsItem's timeline. Without a Starter a
// suggestion is recorded here, and a run fails.
func (a *applier) start(ctx context.Context, r *Rule, m Match, mode runbook.Mode) (string, error) {
	if a.en.Starter == nil {
		if mode != runbook.ModeSuggest {
			return "", errors.New("no runbook starter is configured")
		}
		return "", a.timeline(ctx, r, "suggestion",
			fmt.Sprintf("Suggested runbook: %s (rule %s)%s", r.Runbook, r.Name, formatParams(m.Parameters)))
	}
	return a.en.Starter.Start(ctx, a.tx, runbook.StartRequest{
		TenantID: a.tenant, Runbook: r.Runbook, Parameters: m.Parameters, Targets: m.Targets,
		OpsItemID: a.o.ID, Mode: mode, StartedBy: actor(r), Rule: r.Name,
	})
}

// record audits eff and keeps it for Apply's result; note also puts a
// skip on the OpsItem's timeline, so whoever looks at it sees why nothing
// ran.
func (a *applier) record(ctx context.Context, r *Rule, eff Effect, note bool) error {
	eff.Rule = r.Name
	a.effects = append(a.effects, eff)
	if note {
		msg := fmt.Sprintf("rule %s matched but is %s: %s", r.Name, eff.Decision, eff.Reason)
		switch eff.Decision {
		case DecisionNoTarget:
			msg = fmt.Sprintf("rule %s did not run runbook %s: %s", r.Name, r.Runbook, strings.TrimPrefix(eff.Reason, "invalid request: no target to run on: "))
		case DecisionFailed:
			msg = fmt.Sprintf("rule %s could not start runbook %s: %s", r.Name, r.Runbook, eff.Reason)
		}
		if err := a.timeline(ctx, r, "rule", msg); err != nil {
			return err
		}
	}
	result := "ok"
	switch eff.Decision {
	case DecisionRateLimited, DecisionBreakerOpen, DecisionLoopGuarded, DecisionNoTarget:
		result = "skipped: " + eff.Reason
	case DecisionFailed:
		result = "failed: " + eff.Reason
	}
	detail := map[string]any{"opsitem": a.o.ID}
	if a.ev != nil {
		detail["fingerprint"] = a.ev.Fingerprint
	}
	for k, v := range map[string]any{"runbook": eff.Runbook, "mode": string(eff.Mode), "execution": eff.ExecutionID,
		"category": eff.Category, "severity": eff.Severity} {
		if v != "" {
			detail[k] = v
		}
	}
	if len(eff.Parameters) > 0 {
		detail["parameters"] = eff.Parameters
	}
	if len(eff.Targets) > 0 {
		detail["targets"] = eff.Targets
	}
	if eff.Notify != nil {
		detail["channel"] = eff.Notify.Channel
	}
	_, err := audit.Append(ctx, a.tx, a.tenant, a.at, audit.Entry{Actor: actor(r), Action: "rule." + string(eff.Decision),
		Target: "opsitem/" + a.o.ID, Result: result, Detail: detail})
	return err
}

func (a *applier) timeline(ctx context.Context, r *Rule, kind, msg string) error {
	return a.tx.AddTimeline(ctx, store.TimelineEntry{ID: store.NewID("tl", a.at), TenantID: a.tenant, OpsItemID: a.o.ID,
		At: a.at, Kind: kind, Message: msg, Actor: actor(r)})
}

func formatParams(p map[string]any) string {
	if len(p) == 0 {
		return ""
	}
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%v", k, p[k])
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// Current returns the rules in force: the last SetRules's, else Rules.
func (en *Engine) Current() *Rules {
	if r := en.live.Load(); r != nil {
		return r
	}
	return en.Rules
}

// SetRules replaces the rules (a content reload); events being evaluated
// finish with the rules they started with.
func (en *Engine) SetRules(r *Rules) {
	if r == nil {
		r = &Rules{}
	}
	en.live.Store(r)
}
