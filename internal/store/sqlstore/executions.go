package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

const executionCols = "id, tenant_id, runbook, runbook_version, status, parameters, targets, opsitem_id, rule, started_by, mode, dry_run, " +
	"parent_id, parent_seq, depth, step_cursor, seq, next_seq, cancel_requested, lease_owner, lease_until, due_at, outputs, error, " +
	"created_at, started_at, ended_at, updated_at"

func scanExecution(r Row) (store.Execution, error) {
	var e store.Execution
	var version, parentSeq, depth, cursor, seq, nextSeq, leaseUntil, due, created, started, ended, updated int64
	var dryRun, cancel int
	var params, targets, outputs string
	err := r.Scan(&e.ID, &e.TenantID, &e.Runbook, &version, &e.Status, &params, &targets, &e.OpsItemID, &e.Rule, &e.StartedBy, &e.Mode, &dryRun,
		&e.ParentID, &parentSeq, &depth, &cursor, &seq, &nextSeq, &cancel, &e.LeaseOwner, &leaseUntil, &due, &outputs, &e.Error,
		&created, &started, &ended, &updated)
	if err != nil {
		return e, err
	}
	e.RunbookVersion, e.ParentSeq, e.Depth = int(version), int(parentSeq), int(depth)
	e.Cursor, e.Seq, e.NextSeq = int(cursor), int(seq), int(nextSeq)
	e.DryRun, e.CancelRequested = dryRun != 0, cancel != 0
	e.Parameters, e.Targets = []byte(params), []byte(targets)
	if outputs != "" {
		e.Outputs = []byte(outputs)
	}
	e.LeaseUntil, e.DueAt = fromTS(leaseUntil), fromTS(due)
	e.CreatedAt, e.StartedAt, e.EndedAt, e.UpdatedAt = fromTS(created), fromTS(started), fromTS(ended), fromTS(updated)
	return e, nil
}

func jsonText(b []byte, empty string) string {
	if len(b) == 0 {
		return empty
	}
	return string(b)
}

func executionArgs(e store.Execution) []any {
	return []any{e.ID, e.TenantID, e.Runbook, e.RunbookVersion, e.Status, jsonText(e.Parameters, "{}"), jsonText(e.Targets, "[]"),
		e.OpsItemID, e.Rule, e.StartedBy, e.Mode, boolInt(e.DryRun),
		e.ParentID, e.ParentSeq, e.Depth, e.Cursor, e.Seq, e.NextSeq, boolInt(e.CancelRequested), e.LeaseOwner, ts(e.LeaseUntil), ts(e.DueAt),
		string(e.Outputs), e.Error, ts(e.CreatedAt), ts(e.StartedAt), ts(e.EndedAt), ts(e.UpdatedAt)}
}

func (r reader) GetExecution(ctx context.Context, tenantID, id string) (store.Execution, error) {
	e, err := scanExecution(r.q.QueryRow(ctx, "SELECT "+executionCols+" FROM executions WHERE tenant_id = $1 AND id = $2", tenantID, id))
	return e, r.notFound(err, "execution "+id)
}

func (r reader) ListExecutions(ctx context.Context, tenantID string, f store.ExecutionFilter, page store.Page) ([]store.Execution, string, error) {
	var w where
	w.add("tenant_id = ?", tenantID)
	if f.Status != "" {
		w.add("status = ?", f.Status)
	}
	if f.Runbook != "" {
		w.add("runbook = ?", f.Runbook)
	}
	if f.OpsItemID != "" {
		w.add("opsitem_id = ?", f.OpsItemID)
	}
	if f.ParentID != "" {
		w.add("parent_id = ?", f.ParentID)
	}
	return listPage(ctx, r.q, executionCols, "executions", "id", w, page,
		func(rows Rows) (store.Execution, error) { return scanExecution(rows) },
		func(e store.Execution) string { return e.ID })
}

const stepCols = "tenant_id, execution_id, seq, step_index, name, action, target_id, status, attempt, started_at, ended_at, wake_at, inputs, outputs, log, error"

func scanStep(r Row) (store.ExecutionStep, error) {
	var s store.ExecutionStep
	var seq, index, attempt, started, ended, wake int64
	var inputs, outputs string
	err := r.Scan(&s.TenantID, &s.ExecutionID, &seq, &index, &s.Name, &s.Action, &s.TargetID, &s.Status, &attempt,
		&started, &ended, &wake, &inputs, &outputs, &s.Log, &s.Error)
	s.Seq, s.Index, s.Attempt = int(seq), int(index), int(attempt)
	s.StartedAt, s.EndedAt, s.WakeAt = fromTS(started), fromTS(ended), fromTS(wake)
	if inputs != "" {
		s.Inputs = []byte(inputs)
	}
	if outputs != "" {
		s.Outputs = []byte(outputs)
	}
	return s, err
}

func (r reader) ListExecutionSteps(ctx context.Context, tenantID, executionID string) ([]store.ExecutionStep, error) {
	return deflectionRows(ctx, r.q, "SELECT "+stepCols+" FROM execution_steps WHERE tenant_id = $1 AND execution_id = $2 ORDER BY seq, target_id",
		func(rows Rows) (store.ExecutionStep, error) { return scanStep(rows) }, tenantID, executionID)
}

const approvalCols = "tenant_id, execution_id, seq, step, approver, decision, comment, at"

func (r reader) ListApprovals(ctx context.Context, tenantID, executionID string) ([]store.Approval, error) {
	return deflectionRows(ctx, r.q, "SELECT "+approvalCols+" FROM execution_approvals WHERE tenant_id = $1 AND execution_id = $2 ORDER BY at, approver",
		func(rows Rows) (store.Approval, error) {
			var a store.Approval
			var seq, at int64
			err := rows.Scan(&a.TenantID, &a.ExecutionID, &seq, &a.Step, &a.Approver, &a.Decision, &a.Comment, &at)
			a.Seq, a.At = int(seq), fromTS(at)
			return a, err
		}, tenantID, executionID)
}

func (r reader) OverdueExecutions(ctx context.Context, now, dueBefore time.Time, limit int) ([]store.Execution, error) {
	if limit <= 0 {
		limit = store.DefaultPageLimit
	}
	return deflectionRows(ctx, r.q, "SELECT "+executionCols+` FROM executions
		WHERE status IN ('pending', 'running') AND due_at < $1 AND lease_until < $2 ORDER BY due_at LIMIT `+fmt.Sprint(limit),
		func(rows Rows) (store.Execution, error) { return scanExecution(rows) }, ts(dueBefore), ts(now))
}

func (t *tx) CreateExecution(ctx context.Context, e store.Execution) error {
	_, err := t.h.Exec(ctx, "INSERT INTO executions ("+executionCols+") VALUES "+placeholders(1, 28, 1), executionArgs(e)...)
	return conflict(t.b, err, "execution "+e.ID)
}

func (t *tx) LockExecution(ctx context.Context, tenantID, id string) (store.Execution, error) {
	// The UPDATE takes the row lock on PostgreSQL (SQLite has one writer
	// already) and returns the latest committed row.
	e, err := scanExecution(t.h.QueryRow(ctx, "UPDATE executions SET lock_count = lock_count + 1 WHERE tenant_id = $1 AND id = $2 RETURNING "+executionCols,
		tenantID, id))
	return e, t.notFound(err, "execution "+id)
}

func (t *tx) UpdateExecution(ctx context.Context, e store.Execution) error {
	n, err := t.h.Exec(ctx, `UPDATE executions SET runbook = $3, runbook_version = $4, status = $5, parameters = $6, targets = $7,
		opsitem_id = $8, rule = $9, started_by = $10, mode = $11, dry_run = $12, parent_id = $13, parent_seq = $14, depth = $15,
		step_cursor = $16, seq = $17, next_seq = $18, cancel_requested = $19, lease_owner = $20, lease_until = $21, due_at = $22,
		outputs = $23, error = $24, created_at = $25, started_at = $26, ended_at = $27, updated_at = $28
		WHERE id = $1 AND tenant_id = $2`, executionArgs(e)...)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("execution %s: %w", e.ID, store.ErrNotFound)
	}
	return nil
}

func (t *tx) LeaseExecution(ctx context.Context, tenantID, id, owner string, now, until time.Time) (bool, error) {
	n, err := t.h.Exec(ctx, `UPDATE executions SET lease_owner = $3, lease_until = $4
		WHERE tenant_id = $1 AND id = $2 AND (lease_owner = '' OR lease_owner = $3 OR lease_until < $5)`,
		tenantID, id, owner, ts(until), ts(now))
	return n > 0, err
}

func (t *tx) ReleaseExecution(ctx context.Context, tenantID, id, owner string) error {
	_, err := t.h.Exec(ctx, `UPDATE executions SET lease_owner = '', lease_until = 0 WHERE tenant_id = $1 AND id = $2 AND lease_owner = $3`,
		tenantID, id, owner)
	return err
}

// stepBatch bounds the rows of one INSERT (16 parameters each).
const stepBatch = 100

func (t *tx) PutExecutionSteps(ctx context.Context, steps []store.ExecutionStep) error {
	for len(steps) > 0 {
		n := min(len(steps), stepBatch)
		var sb strings.Builder
		sb.WriteString("INSERT INTO execution_steps (" + stepCols + ") VALUES " + placeholders(n, 16, 1))
		args := make([]any, 0, n*16)
		for _, s := range steps[:n] {
			args = append(args, s.TenantID, s.ExecutionID, s.Seq, s.Index, s.Name, s.Action, s.TargetID, s.Status, s.Attempt,
				ts(s.StartedAt), ts(s.EndedAt), ts(s.WakeAt), string(s.Inputs), string(s.Outputs), s.Log, s.Error)
		}
		sb.WriteString(` ON CONFLICT (execution_id, seq, target_id) DO UPDATE SET step_index = excluded.step_index, name = excluded.name,
			action = excluded.action, status = excluded.status, attempt = excluded.attempt, started_at = excluded.started_at,
			ended_at = excluded.ended_at, wake_at = excluded.wake_at, inputs = excluded.inputs, outputs = excluded.outputs,
			log = excluded.log, error = excluded.error`)
		if _, err := t.h.Exec(ctx, sb.String(), args...); err != nil {
			return err
		}
		steps = steps[n:]
	}
	return nil
}

func (t *tx) AddApproval(ctx context.Context, a store.Approval) error {
	_, err := t.h.Exec(ctx, "INSERT INTO execution_approvals ("+approvalCols+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
		a.TenantID, a.ExecutionID, a.Seq, a.Step, a.Approver, a.Decision, a.Comment, ts(a.At))
	return conflict(t.b, err, fmt.Sprintf("approval of execution %s by %s", a.ExecutionID, a.Approver))
}
