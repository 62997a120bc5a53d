package rule

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/opsitem"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// RecordResult is the executor's hook: call it in the transaction that
// records an execution's end, for executions whose StartRequest.Rule is
// set, with succeeded = whether it succeeded. A failure (a step failed, or
// it timed out) counts toward the rule's circuit breaker; after
// circuit_breaker.failures failures in a row the breaker opens: the rule
// starts no more automatic runs (it suggests them instead) and an OpsItem
// says so. A success resets the count and closes an open breaker (a run a
// person approved has shown the runbook works again). Executions that were
// denied, cancelled or dry-run say nothing about the runbook: do not
// report them.
func (en *Engine) RecordResult(ctx context.Context, tx store.Tx, tenant, rule string, succeeded bool) error {
	at := en.now()
	st, err := tx.LockRuleState(ctx, tenant, rule, at)
	if err != nil {
		return err
	}
	r, _ := en.rules().ForTenant(tenant).Rule(rule)
	if r == nil {
		// The rule is gone from content; keep counting under its name.
		r = &Rule{Name: rule, CircuitBreaker: CircuitBreaker{Failures: DefaultFailures}}
	}
	return en.countResult(ctx, tx, tenant, r, st, succeeded, at)
}

// ResetBreaker closes a rule's breaker and clears its failure count, on a
// person's word (actor: "token:…"). It resolves the OpsItem the breaker
// opened. Resetting a closed breaker does nothing.
func (en *Engine) ResetBreaker(ctx context.Context, tx store.Tx, tenant, rule, actor string) error {
	at := en.now()
	st, err := tx.LockRuleState(ctx, tenant, rule, at)
	if err != nil {
		return err
	}
	if st.Failures == 0 && !st.BreakerOpen() {
		return nil
	}
	return en.closeBreaker(ctx, tx, st, at, actor, "reset by "+actor)
}

func (en *Engine) rules() *Rules {
	if en.Rules == nil {
		return &Rules{}
	}
	return en.Rules
}

// countResult updates st, which the caller holds locked, for one result.
func (en *Engine) countResult(ctx context.Context, tx store.Tx, tenant string, r *Rule, st store.RuleState, succeeded bool, at time.Time) error {
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
	o := store.OpsItem{
		ID: store.NewID("oi", at), TenantID: tenant,
		Title: fmt.Sprintf("Automation rule %s disabled after %d failures", r.Name, st.Failures),
		Description: fmt.Sprintf("The last %d runs the rule %s started (runbook %s) failed, so it starts no more "+
			"automatic runs; it suggests them on the OpsItem instead. Fix the runbook or the rule, then reset the "+
			"rule's breaker (or approve a run that succeeds).", st.Failures, r.Name, r.Runbook),
		Category: "operations", Severity: "high", Status: opsitem.StatusOpen, Source: "flywheel",
		CreatedAt: at, UpdatedAt: at, GroupKey: "rule-breaker/" + r.Name, FirstEventAt: at, LastEventAt: at,
		Resolution: "manual",
	}
	if err := tx.CreateOpsItem(ctx, o); err != nil {
		return err
	}
	if err := tx.AddTimeline(ctx, store.TimelineEntry{ID: store.NewID("tl", at), TenantID: tenant, OpsItemID: o.ID, At: at,
		Kind: "opened", Message: fmt.Sprintf("circuit breaker of rule %s opened after %d failed runs", r.Name, st.Failures),
		Actor: actor(r)}); err != nil {
		return err
	}
	st.BreakerOpenedAt, st.BreakerOpsItemID = at, o.ID
	if err := tx.PutRuleState(ctx, st); err != nil {
		return err
	}
	_, err := audit.Append(ctx, tx, tenant, at, audit.Entry{Actor: actor(r), Action: "rule.breaker.open",
		Target: "rule/" + r.Name, Detail: map[string]any{"failures": st.Failures, "opsitem": o.ID, "runbook": r.Runbook}})
	return err
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
	_, err := audit.Append(ctx, tx, st.TenantID, at, audit.Entry{Actor: by, Action: "rule.breaker.close",
		Target: "rule/" + st.Rule, Detail: map[string]any{"reason": why, "opsitem": oid}})
	return err
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
