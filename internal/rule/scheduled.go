package rule

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// ScheduledAction is the RuleRun action of a scheduled rule's firing; its
// At is the scheduled instant, so a firing is never repeated.
const ScheduledAction = "schedule"

// Scheduled returns the scheduled rules of this view (when.schedule).
func (rs *Rules) Scheduled() []*Rule {
	var out []*Rule
	for _, r := range rs.rules {
		if r.c.schedule != nil {
			out = append(out, r)
		}
	}
	return out
}

// NextRun returns a scheduled rule's first time strictly after t.
func (r *Rule) NextRun(t time.Time) (time.Time, bool) {
	if r.c.schedule == nil {
		return time.Time{}, false
	}
	return r.c.schedule.Next(t)
}

// FireScheduled runs, in tenant, each scheduled rule whose time has come
// since it last ran (or since the tenant first saw it), once — when a
// server was down over several of its times, only the latest runs, and
// the audit record says how many were missed. Each rule fires in its own
// transaction under its rule-state lock, so replicas do not both fire it;
// the rule's rate limit and circuit breaker apply as to event rules. It
// returns how many rules fired.
func (en *Engine) FireScheduled(ctx context.Context, st store.Store, tenant string, now time.Time) (int, error) {
	rules := en.Current()
	if rules == nil {
		return 0, nil
	}
	fired := 0
	var errs []error
	for _, r := range rules.ForTenant(tenant).Scheduled() {
		err := st.InTx(ctx, func(tx store.Tx) error {
			ok, err := en.fireIfDue(ctx, tx, tenant, r, now)
			if ok {
				fired++
			}
			return err
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("scheduled rule %s: %w", r.Name, err))
		}
	}
	return fired, errors.Join(errs...)
}

func (en *Engine) fireIfDue(ctx context.Context, tx store.Tx, tenant string, r *Rule, now time.Time) (bool, error) {
	state, err := tx.LockRuleState(ctx, tenant, r.Name, now)
	if err != nil {
		return false, err
	}
	since := state.UpdatedAt // when the tenant first saw the rule, at the latest
	last, err := tx.LastRuleRun(ctx, tenant, r.Name, "")
	switch {
	case err == nil:
		since = last.At
	case !errors.Is(err, store.ErrNotFound):
		return false, err
	}
	// Look back at most a month: older times only add to the count of
	// missed ones.
	if lookback := now.AddDate(0, -1, 0); since.Before(lookback) {
		since = lookback
	}
	var at time.Time
	n := 0
	for t := since; n < 50_000; n++ {
		next, ok := r.c.schedule.Next(t)
		if !ok || next.After(now) {
			break
		}
		at, t = next, next
	}
	if n == 0 {
		return false, nil
	}
	detail := map[string]any{"runbook": r.Runbook, "scheduled_at": at.UTC(), "schedule": r.Schedule}
	if n > 1 {
		detail["missed"] = n - 1
	}
	record := func(action, result, execID string) error {
		if execID != "" {
			detail["execution"] = execID
		}
		if _, err := audit.Append(ctx, tx, tenant, now, audit.Entry{Actor: actor(r), Action: action, Target: "rule/" + r.Name,
			Result: result, Detail: detail}); err != nil {
			return err
		}
		// The firing is recorded even when nothing started, so the same
		// time is not tried again; runs older than the rate limit's
		// window are not needed (the latest always stays).
		if err := tx.AddRuleRun(ctx, store.RuleRun{TenantID: tenant, Rule: r.Name, At: at, Action: ScheduledAction, ExecutionID: execID}); err != nil {
			return err
		}
		_, err := tx.PruneRuleRuns(ctx, tenant, r.Name, at.Add(-r.RateLimit.Per))
		return err
	}
	count, err := tx.CountRuleRuns(ctx, tenant, r.Name, now.Add(-r.RateLimit.Per+time.Microsecond))
	if err != nil {
		return false, err
	}
	switch {
	case count >= int64(r.RateLimit.Max):
		return false, record("rule."+string(DecisionRateLimited), fmt.Sprintf("skipped: ran %d times in the last %s", count, r.RateLimit.Per), "")
	case r.Mode == runbook.ModeAuto && state.BreakerOpen():
		return false, record("rule."+string(DecisionBreakerOpen), "skipped: its circuit breaker is open", "")
	}
	m := r.match(newActivation(nil, nil), nil)
	if len(m.Errors) > 0 {
		return false, record("rule."+string(DecisionFailed), "failed: "+errors.Join(m.Errors...).Error(), "")
	}
	if en.Starter == nil {
		return false, record("rule."+string(DecisionFailed), "failed: no runbook starter is configured", "")
	}
	id, err := en.Starter.Start(ctx, tx, runbook.StartRequest{TenantID: tenant, Runbook: r.Runbook, Parameters: m.Parameters,
		Targets: m.Targets, Mode: r.Mode, StartedBy: actor(r), Rule: r.Name})
	if err != nil {
		if err := record("rule."+string(DecisionFailed), "failed: "+err.Error(), ""); err != nil {
			return false, err
		}
		return false, en.countResult(ctx, tx, tenant, r, "", state, false, now)
	}
	return true, record("rule."+string(DecisionRan), "ok", id)
}
