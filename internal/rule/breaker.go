package rule

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/opsitem"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// RecordResult is the executor's hook: call it in the transaction that
// records the end of a top-level execution that is not a dry run.
//
// For an execution a rule started, the outcome counts toward the rule's
// circuit breaker for that execution's targets (its target group: see
// TargetGroup), so one bad host cannot switch the rule off for the fleet.
// A failure (a step failed, or it timed out) counts, unless the target
// caused it (every failed target's error is runbook.ErrTargetUnavailable:
// no agent, agent gone, never answered); after circuit_breaker.failures
// failures in a row the breaker opens: the rule starts no more automatic
// runs on that group (it suggests them instead) and an OpsItem says so.
// A success resets the count and closes an open breaker. An ineffective
// run (its verify was false) escalates the OpsItem (see escalate).
//
// A run a person started that succeeded closes the breakers of the
// rules that run the same runbook, for the same targets: the runbook
// works there again. Executions that were denied or cancelled say nothing
// about the runbook.
func (en *Engine) RecordResult(ctx context.Context, tx store.Tx, e store.Execution) error {
	if e.DryRun || e.ParentID != "" {
		return nil
	}
	if e.Rule == "" {
		group := groupOf(e.Targets)
		if e.Status != runbook.StatusSucceeded {
			return nil
		}
		for _, r := range en.rules().ForTenant(e.TenantID).List() {
			if r.Runbook != e.Runbook {
				continue
			}
			if err := en.closeIfOpen(ctx, tx, e.TenantID, r, group, e.StartedBy, "run "+e.ID+" by "+e.StartedBy+" succeeded"); err != nil {
				return err
			}
		}
		return nil
	}
	r, _ := en.rules().ForTenant(e.TenantID).Rule(e.Rule)
	if r == nil {
		// The rule is gone from content; keep counting under its name.
		r = &Rule{Name: e.Rule, CircuitBreaker: CircuitBreaker{Failures: DefaultFailures}}
	}
	switch e.Status {
	case runbook.StatusSucceeded:
	case runbook.StatusFailed, runbook.StatusTimedOut:
		caused, err := targetCaused(ctx, tx, e)
		if err != nil || caused {
			return err
		}
	case runbook.StatusIneffective:
		return en.escalate(ctx, tx, e.TenantID, r, e.OpsItemID, EscalateIneffective, e.Error, e.ID)
	default:
		return nil
	}
	group, err := en.runGroup(ctx, tx, r, e)
	if err != nil {
		return err
	}
	at := en.now()
	st, err := tx.LockRuleState(ctx, e.TenantID, stateKey(r.Name, group), at)
	if err != nil {
		return err
	}
	return en.countResult(ctx, tx, e.TenantID, r, group, st, e.Status == runbook.StatusSucceeded, at)
}

// runGroup is the target group of rule r's execution e, found the way
// Apply found it before starting e (so the breaker Apply checks is the one
// e counts toward): from the OpsItem when the rule gives no targets, else
// from e's targets.
func (en *Engine) runGroup(ctx context.Context, tx store.Tx, r *Rule, e store.Execution) (string, error) {
	if r.Targets != "" || e.OpsItemID == "" {
		return groupOf(e.Targets), nil
	}
	o, err := tx.GetOpsItem(ctx, e.TenantID, e.OpsItemID)
	if isNotFound(err) {
		return groupOf(e.Targets), nil
	}
	if err != nil {
		return "", err
	}
	if en.TargetGroup != nil {
		return en.TargetGroup(ctx, tx, e.TenantID, e.Runbook, &o, nil)
	}
	return OpsItemGroup(ctx, tx, e.TenantID, o.ID)
}

// targetCaused reports whether every target that failed in e failed
// because of the target itself (runbook.ErrTargetUnavailable), and at
// least one did.
func targetCaused(ctx context.Context, tx store.Tx, e store.Execution) (bool, error) {
	rows, err := tx.ListExecutionSteps(ctx, e.TenantID, e.ID)
	if err != nil {
		return false, err
	}
	n := 0
	for _, row := range rows {
		if row.TargetID == "" || row.Status != runbook.StatusFailed {
			continue
		}
		if !strings.Contains(row.Error, runbook.ErrTargetUnavailable.Error()) {
			return false, nil
		}
		n++
	}
	return n > 0, nil
}

// ResetBreaker closes a rule's breaker for a target group and clears its
// failure count, on a person's word (actor: "token:…"); group "" resets
// the rule's breakers for every group. It resolves the OpsItems the
// breakers opened, and audits each reset. Resetting a closed breaker does
// nothing. It returns how many breakers it closed or cleared.
func (en *Engine) ResetBreaker(ctx context.Context, tx store.Tx, tenant, rule, group, actor string) (int, error) {
	keys := []string{stateKey(rule, group)}
	if group == "" {
		sts, err := tx.ListRuleStates(ctx, tenant)
		if err != nil {
			return 0, err
		}
		for _, st := range sts {
			if name, g := SplitStateKey(st.Rule); name == rule && g != "" {
				keys = append(keys, st.Rule)
			}
		}
	}
	at := en.now()
	n := 0
	for _, k := range keys {
		st, err := tx.LockRuleState(ctx, tenant, k, at)
		if err != nil {
			return n, err
		}
		if st.Failures == 0 && !st.BreakerOpen() {
			continue
		}
		n++
		if err := en.closeBreaker(ctx, tx, st, at, actor, "reset by "+actor); err != nil {
			return n, err
		}
	}
	return n, nil
}

// closeIfOpen closes r's breaker for group when it has failures or is
// open.
func (en *Engine) closeIfOpen(ctx context.Context, tx store.Tx, tenant string, r *Rule, group, by, why string) error {
	st, err := tx.GetRuleState(ctx, tenant, stateKey(r.Name, group))
	if isNotFound(err) || (err == nil && st.Failures == 0 && !st.BreakerOpen()) {
		return nil
	}
	if err != nil {
		return err
	}
	at := en.now()
	if st, err = tx.LockRuleState(ctx, tenant, stateKey(r.Name, group), at); err != nil {
		return err
	}
	return en.closeBreaker(ctx, tx, st, at, by, why)
}

// stateKey is where a rule's breaker for a target group is kept: the
// rule's name, then "@" and the group when there is one.
func stateKey(rule, group string) string {
	if group == "" {
		return rule
	}
	return rule + "@" + group
}

// SplitStateKey splits a rule state's key into the rule and its target
// group ("" for the rule's whole-tenant state).
func SplitStateKey(key string) (rule, group string) {
	rule, group, _ = strings.Cut(key, "@")
	return rule, group
}

// maxGroupLen bounds a target group's key; a longer one is hashed.
const maxGroupLen = 200

// TargetGroup is the target group of a set of target IDs: the IDs sorted
// and joined with ",", or a hash of them when that is long. A rule's
// breaker is kept per rule and target group.
func TargetGroup(ids []string) string {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	g := strings.Join(ids, ",")
	if len(g) > maxGroupLen {
		sum := sha256.Sum256([]byte(g))
		g = fmt.Sprintf("%d-targets-%x", len(ids), sum[:8])
	}
	return g
}

// groupOf is the target group of an execution's stored targets.
func groupOf(targets json.RawMessage) string {
	var ts []struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(targets, &ts)
	ids := make([]string, len(ts))
	for i, t := range ts {
		ids[i] = t.ID
	}
	return TargetGroup(ids)
}

func (en *Engine) rules() *Rules {
	if r := en.Current(); r != nil {
		return r
	}
	return &Rules{}
}

// countResult updates st, which the caller holds locked, for one result
// of r on group.
func (en *Engine) countResult(ctx context.Context, tx store.Tx, tenant string, r *Rule, group string, st store.RuleState, succeeded bool, at time.Time) error {
	if succeeded {
		if st.Failures == 0 && !st.BreakerOpen() {
			return nil
		}
		return en.closeBreaker(ctx, tx, st, at, actor(r), "a run succeeded")
	}
	st.Failures++
	st.UpdatedAt = at
	if st.BreakerOpen() || st.Failures < r.CircuitBreaker.Failures {
		return tx.PutRuleState(ctx, st)
	}
	scope, on := "", ""
	if group != "" {
		scope, on = " for "+group, " on "+group
	}
	o := store.OpsItem{
		ID: store.NewID("oi", at), TenantID: tenant,
		Title: fmt.Sprintf("Automation rule %s disabled%s after %d failures", r.Name, scope, st.Failures),
		Description: fmt.Sprintf("The last %d runs the rule %s started (runbook %s)%s failed, so it starts no more "+
			"automatic runs there; it suggests them on the OpsItem instead. Other targets are not affected. Fix the "+
			"runbook, the rule or the host, then reset the breaker (flywheel rule breaker reset %s%s, the API or the "+
			"Rules page), or run the runbook there by hand (or approve a run) and let it succeed.",
			st.Failures, r.Name, r.Runbook, on, r.Name, groupFlag(group)),
		Category: "operations", Severity: "high", Status: opsitem.StatusOpen, Source: "flywheel",
		CreatedAt: at, UpdatedAt: at, GroupKey: "rule-breaker/" + stateKey(r.Name, group), FirstEventAt: at, LastEventAt: at,
		Resolution: "manual",
	}
	if err := tx.CreateOpsItem(ctx, o); err != nil {
		return err
	}
	if err := tx.AddTimeline(ctx, store.TimelineEntry{ID: store.NewID("tl", at), TenantID: tenant, OpsItemID: o.ID, At: at,
		Kind: "opened", Message: fmt.Sprintf("circuit breaker of rule %s%s opened after %d failed runs", r.Name, scope, st.Failures),
		Actor: actor(r)}); err != nil {
		return err
	}
	st.BreakerOpenedAt, st.BreakerOpsItemID = at, o.ID
	if err := tx.PutRuleState(ctx, st); err != nil {
		return err
	}
	_, err := audit.Append(ctx, tx, tenant, at, audit.Entry{Actor: actor(r), Action: "rule.breaker.open",
		Target: "rule/" + r.Name, Detail: map[string]any{"failures": st.Failures, "opsitem": o.ID, "runbook": r.Runbook, "group": group}})
	return err
}

func groupFlag(group string) string {
	if group == "" {
		return ""
	}
	return " --group " + group
}

// closeBreaker clears st's count and, when its breaker is open, closes it
// and resolves the OpsItem it opened.
func (en *Engine) closeBreaker(ctx context.Context, tx store.Tx, st store.RuleState, at time.Time, by, why string) error {
	wasOpen, oid := st.BreakerOpen(), st.BreakerOpsItemID
	st.Failures, st.BreakerOpenedAt, st.BreakerOpsItemID, st.UpdatedAt = 0, time.Time{}, "", at
	if err := tx.PutRuleState(ctx, st); err != nil {
		return err
	}
	if !wasOpen {
		return nil
	}
	if oid != "" {
		o, err := tx.GetOpsItem(ctx, st.TenantID, oid)
		switch {
		case err == nil && !opsitem.IsClosed(o.Status):
			// A person's reset keeps their actor; a run that succeeded is
			// the automation fixing itself.
			resolvedBy := by
			if !IsPerson(by) {
				resolvedBy = ResolvedByPrefix + by
			}
			o.Status, o.ResolvedAt, o.ResolvedBy, o.UpdatedAt = opsitem.StatusResolved, &at, resolvedBy, at
			if err := tx.UpdateOpsItem(ctx, o); err != nil {
				return err
			}
			if err := tx.AddTimeline(ctx, store.TimelineEntry{ID: store.NewID("tl", at), TenantID: st.TenantID, OpsItemID: oid,
				At: at, Kind: "resolved", Message: "circuit breaker closed: " + why, Actor: by}); err != nil {
				return err
			}
		case err != nil && !isNotFound(err):
			return err
		}
	}
	name, group := SplitStateKey(st.Rule)
	_, err := audit.Append(ctx, tx, st.TenantID, at, audit.Entry{Actor: by, Action: "rule.breaker.close",
		Target: "rule/" + name, Detail: map[string]any{"reason": why, "opsitem": oid, "group": group}})
	return err
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

// Breaker is one rule's circuit breaker for one target group, as the API,
// the CLI and the UI list it.
type Breaker struct {
	Rule string `json:"rule"`
	// Group is the target group ("" for the rule's whole tenant).
	Group    string `json:"group,omitempty"`
	Failures int    `json:"failures"`
	Open     bool   `json:"open"`
	// OpenedAt and OpsItemID are set while it is open.
	OpenedAt  *time.Time `json:"opened_at,omitempty"`
	OpsItemID string     `json:"opsitem_id,omitempty"`
}

// ListBreakers lists a tenant's breakers that are open or counting
// failures, by rule and group.
func ListBreakers(ctx context.Context, r store.RuleReader, tenant string) ([]Breaker, error) {
	sts, err := r.ListRuleStates(ctx, tenant)
	if err != nil {
		return nil, err
	}
	out := []Breaker{}
	for _, st := range sts {
		if st.Failures == 0 && !st.BreakerOpen() {
			continue
		}
		name, group := SplitStateKey(st.Rule)
		b := Breaker{Rule: name, Group: group, Failures: st.Failures, Open: st.BreakerOpen(), OpsItemID: st.BreakerOpsItemID}
		if b.Open {
			at := st.BreakerOpenedAt.UTC()
			b.OpenedAt = &at
		}
		out = append(out, b)
	}
	return out, nil
}
