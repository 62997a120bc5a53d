package sqlstore

import (
	"context"
	"fmt"

	"github.com/flywheel-ops/flywheel/internal/store"
)

const windowRunCols = "id, tenant_id, window_id, window_name, run_trigger, started_by, scheduled_at, cutoff_at, ends_at, status, error, opsitem_id, created_at, updated_at, ended_at"

func scanWindowRun(r Row) (store.WindowRun, error) {
	var w store.WindowRun
	var scheduled, cutoff, ends, created, updated, ended int64
	err := r.Scan(&w.ID, &w.TenantID, &w.WindowID, &w.WindowName, &w.Trigger, &w.StartedBy, &scheduled, &cutoff, &ends,
		&w.Status, &w.Error, &w.OpsItemID, &created, &updated, &ended)
	if err != nil {
		return w, err
	}
	w.ScheduledAt, w.CutoffAt, w.EndsAt = fromTS(scheduled), fromTS(cutoff), fromTS(ends)
	w.CreatedAt, w.UpdatedAt, w.EndedAt = fromTS(created), fromTS(updated), fromTSPtr(ended)
	return w, nil
}

func (r reader) GetWindowRun(ctx context.Context, tenantID, id string) (store.WindowRun, error) {
	w, err := scanWindowRun(r.q.QueryRow(ctx, "SELECT "+windowRunCols+" FROM window_runs WHERE tenant_id = $1 AND id = $2", tenantID, id))
	return w, r.notFound(err, "window run "+id)
}

func (r reader) ListWindowRuns(ctx context.Context, tenantID, windowID string, page store.Page) ([]store.WindowRun, string, error) {
	var w where
	w.add("tenant_id = ?", tenantID)
	if windowID != "" {
		w.add("window_id = ?", windowID)
	}
	return listPage(ctx, r.q, windowRunCols, "window_runs", "id", w, page,
		func(rows Rows) (store.WindowRun, error) { return scanWindowRun(rows) },
		func(w store.WindowRun) string { return w.ID })
}

func (r reader) LatestWindowRun(ctx context.Context, tenantID, windowID string) (store.WindowRun, error) {
	w, err := scanWindowRun(r.q.QueryRow(ctx, "SELECT "+windowRunCols+` FROM window_runs
		WHERE tenant_id = $1 AND window_id = $2 AND run_trigger = $3 ORDER BY scheduled_at DESC LIMIT 1`, tenantID, windowID, store.TriggerSchedule))
	return w, r.notFound(err, "window run of "+windowID)
}

func (r reader) ActiveWindowRuns(ctx context.Context, limit int) ([]store.WindowRun, error) {
	return deflectionRows(ctx, r.q, "SELECT "+windowRunCols+" FROM window_runs WHERE status IN ($1, $2) ORDER BY id LIMIT "+fmt.Sprint(limit),
		func(rows Rows) (store.WindowRun, error) { return scanWindowRun(rows) }, store.WindowRunPending, store.WindowRunRunning)
}

const windowRunTargetCols = "tenant_id, run_id, task_index, position, task, priority, target_id, status, execution_id, error, started_at, ended_at"

func scanWindowRunTarget(r Row) (store.WindowRunTarget, error) {
	var t store.WindowRunTarget
	var taskIndex, position, priority, started, ended int64
	err := r.Scan(&t.TenantID, &t.RunID, &taskIndex, &position, &t.Task, &priority, &t.TargetID, &t.Status, &t.ExecutionID, &t.Error, &started, &ended)
	t.TaskIndex, t.Position, t.Priority = int(taskIndex), int(position), int(priority)
	t.StartedAt, t.EndedAt = fromTSPtr(started), fromTSPtr(ended)
	return t, err
}

func (r reader) ListWindowRunTargets(ctx context.Context, tenantID, runID string) ([]store.WindowRunTarget, error) {
	return deflectionRows(ctx, r.q, "SELECT "+windowRunTargetCols+` FROM window_run_targets WHERE tenant_id = $1 AND run_id = $2
		ORDER BY priority, task_index, position`, func(rows Rows) (store.WindowRunTarget, error) { return scanWindowRunTarget(rows) }, tenantID, runID)
}

func windowRunArgs(w store.WindowRun) []any {
	return []any{w.ID, w.TenantID, w.WindowID, w.WindowName, w.Trigger, w.StartedBy, ts(w.ScheduledAt), ts(w.CutoffAt), ts(w.EndsAt),
		w.Status, w.Error, w.OpsItemID, ts(w.CreatedAt), ts(w.UpdatedAt), tsPtr(w.EndedAt)}
}

func (t *tx) CreateWindowRun(ctx context.Context, w store.WindowRun, targets []store.WindowRunTarget) error {
	_, err := t.h.Exec(ctx, "INSERT INTO window_runs ("+windowRunCols+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
		windowRunArgs(w)...)
	if err := conflict(t.b, err, fmt.Sprintf("run of window %s at %s", w.WindowName, w.ScheduledAt)); err != nil {
		return err
	}
	for _, r := range targets {
		_, err := t.h.Exec(ctx, "INSERT INTO window_run_targets ("+windowRunTargetCols+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
			w.TenantID, w.ID, r.TaskIndex, r.Position, r.Task, r.Priority, r.TargetID, r.Status, r.ExecutionID, r.Error, tsPtr(r.StartedAt), tsPtr(r.EndedAt))
		if err := conflict(t.b, err, fmt.Sprintf("window run %s task %d target %d", w.ID, r.TaskIndex, r.Position)); err != nil {
			return err
		}
	}
	return nil
}

func (t *tx) LockWindowRun(ctx context.Context, tenantID, id string) (store.WindowRun, error) {
	// As LockExecution: the UPDATE takes the row lock on PostgreSQL.
	w, err := scanWindowRun(t.h.QueryRow(ctx, "UPDATE window_runs SET lock_count = lock_count + 1 WHERE tenant_id = $1 AND id = $2 RETURNING "+windowRunCols,
		tenantID, id))
	return w, t.notFound(err, "window run "+id)
}

func (t *tx) UpdateWindowRun(ctx context.Context, w store.WindowRun) error {
	n, err := t.h.Exec(ctx, `UPDATE window_runs SET window_id = $3, window_name = $4, run_trigger = $5, started_by = $6, scheduled_at = $7,
		cutoff_at = $8, ends_at = $9, status = $10, error = $11, opsitem_id = $12, created_at = $13, updated_at = $14, ended_at = $15
		WHERE id = $1 AND tenant_id = $2`, windowRunArgs(w)...)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("window run %s: %w", w.ID, store.ErrNotFound)
	}
	return nil
}

func (t *tx) UpdateWindowRunTarget(ctx context.Context, r store.WindowRunTarget) error {
	n, err := t.h.Exec(ctx, `UPDATE window_run_targets SET status = $5, execution_id = $6, error = $7, started_at = $8, ended_at = $9
		WHERE tenant_id = $1 AND run_id = $2 AND task_index = $3 AND position = $4`,
		r.TenantID, r.RunID, r.TaskIndex, r.Position, r.Status, r.ExecutionID, r.Error, tsPtr(r.StartedAt), tsPtr(r.EndedAt))
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("window run %s task %d target %d: %w", r.RunID, r.TaskIndex, r.Position, store.ErrNotFound)
	}
	return nil
}
