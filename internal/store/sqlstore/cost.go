package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

const scheduleStateCols = "tenant_id, schedule, resource_id, state, reason, retained, execution_id, error, changed_at"

func (r reader) ListScheduleStates(ctx context.Context, tenantID, schedule string) ([]store.ScheduleState, error) {
	q, args := "SELECT "+scheduleStateCols+" FROM schedule_states WHERE tenant_id = $1", []any{tenantID}
	if schedule != "" {
		q, args = q+" AND schedule = $2", append(args, schedule)
	}
	return deflectionRows(ctx, r.q, q+" ORDER BY schedule, resource_id", func(rows Rows) (store.ScheduleState, error) {
		var s store.ScheduleState
		var retained, changed int64
		err := rows.Scan(&s.TenantID, &s.Schedule, &s.ResourceID, &s.State, &s.Reason, &retained, &s.ExecutionID, &s.Error, &changed)
		s.Retained, s.ChangedAt = retained != 0, fromTS(changed)
		return s, err
	}, args...)
}

func (t *tx) PutScheduleState(ctx context.Context, s store.ScheduleState) error {
	_, err := t.h.Exec(ctx, "INSERT INTO schedule_states ("+scheduleStateCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (tenant_id, schedule, resource_id) DO UPDATE SET state = $4, reason = $5, retained = $6, execution_id = $7, error = $8, changed_at = $9`,
		s.TenantID, s.Schedule, s.ResourceID, s.State, s.Reason, boolInt(s.Retained), s.ExecutionID, s.Error, ts(s.ChangedAt))
	return err
}

func (r reader) ListMetricSamples(ctx context.Context, tenantID, resourceID, metric string, since time.Time, limit int) ([]store.MetricSample, error) {
	return deflectionRows(ctx, r.q, `SELECT tenant_id, resource_id, metric, at, value FROM metric_samples
		WHERE tenant_id = $1 AND resource_id = $2 AND metric = $3 AND at >= $4 ORDER BY at LIMIT `+fmt.Sprint(limit),
		func(rows Rows) (store.MetricSample, error) {
			var s store.MetricSample
			var at int64
			err := rows.Scan(&s.TenantID, &s.ResourceID, &s.Metric, &at, &s.Value)
			s.At = fromTS(at)
			return s, err
		}, tenantID, resourceID, metric, ts(since))
}

func (r reader) ListMetricSeries(ctx context.Context, tenantID string) ([]store.MetricSeries, error) {
	return deflectionRows(ctx, r.q, `SELECT DISTINCT resource_id, metric FROM metric_samples WHERE tenant_id = $1 ORDER BY resource_id, metric`,
		func(rows Rows) (store.MetricSeries, error) {
			var s store.MetricSeries
			return s, rows.Scan(&s.ResourceID, &s.Metric)
		}, tenantID)
}

func (t *tx) AddMetricSamples(ctx context.Context, ss []store.MetricSample) error {
	for _, s := range ss {
		if _, err := t.h.Exec(ctx, `INSERT INTO metric_samples (tenant_id, resource_id, metric, at, value) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (tenant_id, resource_id, metric, at) DO NOTHING`, s.TenantID, s.ResourceID, s.Metric, ts(s.At), s.Value); err != nil {
			return err
		}
	}
	return nil
}

func (t *tx) PruneMetricSamples(ctx context.Context, before time.Time) (int64, error) {
	return t.h.Exec(ctx, "DELETE FROM metric_samples WHERE at < $1", ts(before))
}

const costFindingCols = "tenant_id, finding_key, kind, resource_id, opsitem_id, monthly_savings, created_at"

func (r reader) ListCostFindings(ctx context.Context, tenantID string) ([]store.CostFinding, error) {
	return deflectionRows(ctx, r.q, "SELECT "+costFindingCols+" FROM cost_findings WHERE tenant_id = $1 ORDER BY finding_key",
		func(rows Rows) (store.CostFinding, error) {
			var f store.CostFinding
			var created int64
			err := rows.Scan(&f.TenantID, &f.Key, &f.Kind, &f.ResourceID, &f.OpsItemID, &f.MonthlySavings, &created)
			f.CreatedAt = fromTS(created)
			return f, err
		}, tenantID)
}

func (t *tx) PutCostFinding(ctx context.Context, f store.CostFinding) error {
	_, err := t.h.Exec(ctx, "INSERT INTO cost_findings ("+costFindingCols+") VALUES ($1, $2, $3, $4, $5, $6, $7)",
		f.TenantID, f.Key, f.Kind, f.ResourceID, f.OpsItemID, f.MonthlySavings, ts(f.CreatedAt))
	return conflict(t.b, err, "cost finding "+f.Key)
}

func (t *tx) DeleteCostFinding(ctx context.Context, tenantID, key string) error {
	_, err := t.h.Exec(ctx, "DELETE FROM cost_findings WHERE tenant_id = $1 AND finding_key = $2", tenantID, key)
	return err
}
