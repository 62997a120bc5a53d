package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

const complianceResultCols = "tenant_id, result_key, rule, resource_id, resource_type, account, status, annotation, since, evaluated_at, " +
	"remediation_attempts, remediated_at, execution_id"

func scanComplianceResult(r Row) (store.ComplianceResult, error) {
	var c store.ComplianceResult
	var key string
	var since, evaluated, attempts, remediated int64
	err := r.Scan(&c.TenantID, &key, &c.Rule, &c.ResourceID, &c.ResourceType, &c.Account, &c.Status, &c.Annotation, &since, &evaluated,
		&attempts, &remediated, &c.ExecutionID)
	c.Since, c.EvaluatedAt, c.RemediationAttempts = fromTS(since), fromTS(evaluated), int(attempts)
	if remediated != 0 {
		c.RemediatedAt = fromTS(remediated)
	}
	return c, err
}

func resultKey(c store.ComplianceResult) string { return c.Rule + "/" + c.ResourceID }

func (w *where) complianceFilter(tenantID string, f store.ComplianceResultFilter, statusCol string) {
	w.add("tenant_id = ?", tenantID)
	if f.Rule != "" {
		w.add("rule = ?", f.Rule)
	}
	if f.ResourceID != "" {
		w.add("resource_id = ?", f.ResourceID)
	}
	if f.Status != "" {
		w.add(statusCol+" = ?", f.Status)
	}
}

func (r reader) ListComplianceResults(ctx context.Context, tenantID string, f store.ComplianceResultFilter, page store.Page) ([]store.ComplianceResult, string, error) {
	var w where
	w.complianceFilter(tenantID, f, "status")
	return listPage(ctx, r.q, complianceResultCols, "compliance_results", "result_key", w, page,
		func(rows Rows) (store.ComplianceResult, error) { return scanComplianceResult(rows) }, resultKey)
}

const complianceChangeCols = "id, tenant_id, rule, resource_id, from_status, to_status, annotation, at"

type complianceChange struct {
	id string
	store.ComplianceChange
}

func (r reader) ListComplianceChanges(ctx context.Context, tenantID string, f store.ComplianceResultFilter, page store.Page) ([]store.ComplianceChange, string, error) {
	var w where
	w.complianceFilter(tenantID, f, "to_status")
	rows, next, err := listPage(ctx, r.q, complianceChangeCols, "compliance_changes", "id", w, page,
		func(rows Rows) (complianceChange, error) {
			var c complianceChange
			var at int64
			err := rows.Scan(&c.id, &c.TenantID, &c.Rule, &c.ResourceID, &c.From, &c.To, &c.Annotation, &at)
			c.At = fromTS(at)
			return c, err
		}, func(c complianceChange) string { return c.id })
	out := make([]store.ComplianceChange, len(rows))
	for i, c := range rows {
		out[i] = c.ComplianceChange
	}
	return out, next, err
}

func (r reader) ListComplianceScores(ctx context.Context, tenantID, scope, name string, since time.Time, limit int) ([]store.ComplianceScore, error) {
	var w where
	w.add("tenant_id = ?", tenantID)
	w.add("scope = ?", scope)
	if name != "" {
		w.add("name = ?", name)
	}
	w.add("at >= ?", ts(since))
	return deflectionRows(ctx, r.q, "SELECT tenant_id, at, scope, name, compliant, non_compliant, percent FROM compliance_scores"+w.String()+
		fmt.Sprintf(" ORDER BY at, name LIMIT %d", max(1, min(limit, 10000))),
		func(rows Rows) (store.ComplianceScore, error) {
			var s store.ComplianceScore
			var at, c, nc int64
			err := rows.Scan(&s.TenantID, &at, &s.Scope, &s.Name, &c, &nc, &s.Percent)
			s.At, s.Compliant, s.NonCompliant = fromTS(at), int(c), int(nc)
			return s, err
		}, w.args...)
}

const complianceExceptionCols = "id, tenant_id, rule, resource_id, tag_key, tag_value, reason, owner, expires_at, created_by, created_at"

func scanComplianceException(r Row) (store.ComplianceException, error) {
	var e store.ComplianceException
	var expires, created int64
	err := r.Scan(&e.ID, &e.TenantID, &e.Rule, &e.ResourceID, &e.TagKey, &e.TagValue, &e.Reason, &e.Owner, &expires, &e.CreatedBy, &created)
	e.ExpiresAt, e.CreatedAt = fromTS(expires), fromTS(created)
	return e, err
}

func (r reader) GetComplianceException(ctx context.Context, tenantID, id string) (store.ComplianceException, error) {
	e, err := scanComplianceException(r.q.QueryRow(ctx, "SELECT "+complianceExceptionCols+" FROM compliance_exceptions WHERE tenant_id = $1 AND id = $2", tenantID, id))
	return e, r.notFound(err, "compliance exception "+id)
}

func (r reader) ListComplianceExceptions(ctx context.Context, tenantID string, page store.Page) ([]store.ComplianceException, string, error) {
	var w where
	w.add("tenant_id = ?", tenantID)
	return listPage(ctx, r.q, complianceExceptionCols, "compliance_exceptions", "id", w, page,
		func(rows Rows) (store.ComplianceException, error) { return scanComplianceException(rows) },
		func(e store.ComplianceException) string { return e.ID })
}

func (t *tx) PutComplianceResults(ctx context.Context, rs []store.ComplianceResult) error {
	return t.execRows(ctx, "compliance-results-put", "INSERT INTO compliance_results ("+complianceResultCols+") VALUES ",
		" ON CONFLICT (tenant_id, result_key) DO UPDATE SET "+excluded("resource_type, account, status, annotation, since, evaluated_at, remediation_attempts, remediated_at, execution_id"),
		13, 64, len(rs), func(i int, args []any) ([]any, error) {
			c := rs[i]
			return append(args, c.TenantID, resultKey(c), c.Rule, c.ResourceID, c.ResourceType, c.Account, c.Status, c.Annotation,
				ts(c.Since), ts(c.EvaluatedAt), c.RemediationAttempts, ts(c.RemediatedAt), c.ExecutionID), nil
		})
}

func (t *tx) DeleteComplianceResults(ctx context.Context, tenantID string, before time.Time, resourceIDs []string) (int64, error) {
	if len(resourceIDs) == 0 {
		return t.h.Exec(ctx, "DELETE FROM compliance_results WHERE tenant_id = $1 AND evaluated_at < $2", tenantID, ts(before))
	}
	var n int64
	for _, id := range resourceIDs {
		m, err := t.h.Exec(ctx, "DELETE FROM compliance_results WHERE tenant_id = $1 AND evaluated_at < $2 AND resource_id = $3", tenantID, ts(before), id)
		if err != nil {
			return n, err
		}
		n += m
	}
	return n, nil
}

func (t *tx) AddComplianceChanges(ctx context.Context, cs []store.ComplianceChange) error {
	return t.execRows(ctx, "compliance-changes-add", "INSERT INTO compliance_changes ("+complianceChangeCols+") VALUES ", "",
		8, 64, len(cs), func(i int, args []any) ([]any, error) {
			c := cs[i]
			return append(args, store.NewID("cc", c.At), c.TenantID, c.Rule, c.ResourceID, c.From, c.To, c.Annotation, ts(c.At)), nil
		})
}

func (t *tx) AddComplianceScores(ctx context.Context, ss []store.ComplianceScore) error {
	return t.execRows(ctx, "compliance-scores-add", "INSERT INTO compliance_scores (tenant_id, at, scope, name, compliant, non_compliant, percent) VALUES ",
		" ON CONFLICT (tenant_id, scope, name, at) DO UPDATE SET "+excluded("compliant, non_compliant, percent"),
		7, 64, len(ss), func(i int, args []any) ([]any, error) {
			s := ss[i]
			return append(args, s.TenantID, ts(s.At), s.Scope, s.Name, s.Compliant, s.NonCompliant, s.Percent), nil
		})
}

func (t *tx) PruneComplianceHistory(ctx context.Context, before time.Time) (int64, error) {
	n, err := t.h.Exec(ctx, "DELETE FROM compliance_changes WHERE at < $1", ts(before))
	if err != nil {
		return n, err
	}
	m, err := t.h.Exec(ctx, "DELETE FROM compliance_scores WHERE at < $1", ts(before))
	return n + m, err
}

func (t *tx) CreateComplianceException(ctx context.Context, e store.ComplianceException) error {
	_, err := t.h.Exec(ctx, "INSERT INTO compliance_exceptions ("+complianceExceptionCols+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
		e.ID, e.TenantID, e.Rule, e.ResourceID, e.TagKey, e.TagValue, e.Reason, e.Owner, ts(e.ExpiresAt), e.CreatedBy, ts(e.CreatedAt))
	return conflict(t.b, err, "compliance exception "+e.ID)
}

func (t *tx) DeleteComplianceException(ctx context.Context, tenantID, id string) error {
	n, err := t.h.Exec(ctx, "DELETE FROM compliance_exceptions WHERE tenant_id = $1 AND id = $2", tenantID, id)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("compliance exception %s: %w", id, store.ErrNotFound)
	}
	return nil
}
