package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

const ruleStateCols = "tenant_id, rule, failures, breaker_opened_at, breaker_opsitem_id, updated_at"

func scanRuleState(r Row) (store.RuleState, error) {
	var s store.RuleState
	var failures, opened, updated int64
	err := r.Scan(&s.TenantID, &s.Rule, &failures, &opened, &s.BreakerOpsItemID, &updated)
	s.Failures, s.BreakerOpenedAt, s.UpdatedAt = int(failures), fromTS(opened), fromTS(updated)
	return s, err
}

func (r reader) GetRuleState(ctx context.Context, tenantID, rule string) (store.RuleState, error) {
	s, err := scanRuleState(r.q.QueryRow(ctx, "SELECT "+ruleStateCols+" FROM rule_states WHERE tenant_id = $1 AND rule = $2", tenantID, rule))
	return s, r.notFound(err, "rule state "+rule)
}

func (r reader) ListRuleStates(ctx context.Context, tenantID string) ([]store.RuleState, error) {
	return deflectionRows(ctx, r.q, "SELECT "+ruleStateCols+" FROM rule_states WHERE tenant_id = $1 ORDER BY rule",
		func(rows Rows) (store.RuleState, error) { return scanRuleState(rows) }, tenantID)
}

func (r reader) CountRuleRuns(ctx context.Context, tenantID, rule string, since time.Time) (int64, error) {
	var n int64
	err := r.q.QueryRow(ctx, "SELECT COUNT(*) FROM rule_runs WHERE tenant_id = $1 AND rule = $2 AND at >= $3",
		tenantID, rule, ts(since)).Scan(&n)
	return n, err
}

func (r reader) LastRuleRun(ctx context.Context, tenantID, rule, opsItemID string) (store.RuleRun, error) {
	var run store.RuleRun
	var at int64
	err := r.q.QueryRow(ctx, `SELECT tenant_id, rule, opsitem_id, at, action, execution_id FROM rule_runs
		WHERE tenant_id = $1 AND rule = $2 AND opsitem_id = $3 ORDER BY at DESC LIMIT 1`, tenantID, rule, opsItemID).
		Scan(&run.TenantID, &run.Rule, &run.OpsItemID, &at, &run.Action, &run.ExecutionID)
	run.At = fromTS(at)
	return run, r.notFound(err, fmt.Sprintf("run of rule %s on opsitem %s", rule, opsItemID))
}

// LockRuleState upserts: on PostgreSQL the conflicting update takes the
// row lock that serialises transactions acting for one rule; SQLite has
// one writer, so the statement only creates the row.
//
// It first takes the tenant's audit head lock (see AppendAudit). A rule's
// transaction always appends audit records too, so taking that lock first
// fixes the order — audit head, then rule state — and two transactions
// can never hold one each while waiting for the other.
func (t *tx) LockRuleState(ctx context.Context, tenantID, rule string, at time.Time) (store.RuleState, error) {
	if _, err := t.h.Exec(ctx, "INSERT INTO audit_heads (tenant_id, seq, hash) VALUES ($1, 0, '') ON CONFLICT (tenant_id) DO NOTHING", tenantID); err != nil {
		return store.RuleState{}, err
	}
	if _, err := t.h.Exec(ctx, "UPDATE audit_heads SET seq = seq WHERE tenant_id = $1", tenantID); err != nil {
		return store.RuleState{}, err
	}
	return scanRuleState(t.h.QueryRow(ctx, `INSERT INTO rule_states (tenant_id, rule, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (tenant_id, rule) DO UPDATE SET rule = excluded.rule
		RETURNING `+ruleStateCols, tenantID, rule, ts(at)))
}

func (t *tx) PutRuleState(ctx context.Context, s store.RuleState) error {
	_, err := t.h.Exec(ctx, `INSERT INTO rule_states (`+ruleStateCols+`) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (tenant_id, rule) DO UPDATE SET failures = excluded.failures,
		breaker_opened_at = excluded.breaker_opened_at, breaker_opsitem_id = excluded.breaker_opsitem_id,
		updated_at = excluded.updated_at`,
		s.TenantID, s.Rule, int64(s.Failures), ts(s.BreakerOpenedAt), s.BreakerOpsItemID, ts(s.UpdatedAt))
	return err
}

func (t *tx) AddRuleRun(ctx context.Context, r store.RuleRun) error {
	_, err := t.h.Exec(ctx, "INSERT INTO rule_runs (tenant_id, rule, opsitem_id, at, action, execution_id) VALUES ($1, $2, $3, $4, $5, $6)",
		r.TenantID, r.Rule, r.OpsItemID, ts(r.At), r.Action, r.ExecutionID)
	return err
}

func (t *tx) PruneRuleRuns(ctx context.Context, tenantID, rule string, before time.Time) (int64, error) {
	return t.h.Exec(ctx, "DELETE FROM rule_runs WHERE tenant_id = $1 AND rule = $2 AND at < $3", tenantID, rule, ts(before))
}

func (r reader) ListRuleActivity(ctx context.Context, tenantID string) ([]store.RuleActivity, error) {
	by := map[string]*store.RuleActivity{}
	get := func(rule string) *store.RuleActivity {
		a := by[rule]
		if a == nil {
			a = &store.RuleActivity{Rule: rule}
			by[rule] = a
		}
		return a
	}
	runs, err := r.q.Query(ctx, "SELECT rule, MAX(at) FROM rule_runs WHERE tenant_id = $1 GROUP BY rule", tenantID)
	if err != nil {
		return nil, err
	}
	defer runs.Close()
	for runs.Next() {
		var rule string
		var at int64
		if err := runs.Scan(&rule, &at); err != nil {
			return nil, err
		}
		get(rule).LastActedAt = fromTS(at)
	}
	if err := runs.Err(); err != nil {
		return nil, err
	}
	execs, err := r.q.Query(ctx, "SELECT rule, COUNT(*), MAX(created_at) FROM executions WHERE tenant_id = $1 AND rule <> '' GROUP BY rule", tenantID)
	if err != nil {
		return nil, err
	}
	defer execs.Close()
	for execs.Next() {
		var rule string
		var n, at int64
		if err := execs.Scan(&rule, &n, &at); err != nil {
			return nil, err
		}
		a := get(rule)
		a.Executions, a.LastExecutionAt = n, fromTS(at)
	}
	if err := execs.Err(); err != nil {
		return nil, err
	}
	out := make([]store.RuleActivity, 0, len(by))
	for _, a := range by {
		out = append(out, *a)
	}
	slices.SortFunc(out, func(a, b store.RuleActivity) int { return strings.Compare(a.Rule, b.Rule) })
	return out, nil
}
