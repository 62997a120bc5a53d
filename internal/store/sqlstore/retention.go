package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

// Each class's batch is chosen by a subquery with LIMIT over the class's
// index (migration 0055), which both SQLite and PostgreSQL accept inside
// DELETE … WHERE key IN (…). Only final rows are chosen: a running
// execution, queued command or open window run is never removed, however
// old.
var pruneSQL = map[store.RetentionClass]string{
	store.RetainEvents: `DELETE FROM events WHERE id IN (
		SELECT id FROM events WHERE tenant_id = $1 AND received_at < $2 ORDER BY received_at LIMIT $3)`,
	store.RetainRawBodies: `UPDATE events SET raw = '' WHERE id IN (
		SELECT id FROM events WHERE tenant_id = $1 AND received_at < $2 AND raw <> '' ORDER BY received_at LIMIT $3)`,
	store.RetainTimeline: `DELETE FROM opsitem_timeline WHERE id IN (
		SELECT id FROM opsitem_timeline WHERE tenant_id = $1 AND at < $2 ORDER BY at LIMIT $3)`,
	store.RetainAgentCommands: `DELETE FROM agent_commands WHERE id IN (
		SELECT id FROM agent_commands WHERE tenant_id = $1 AND ended_at > 0 AND ended_at < $2
		AND status NOT IN ('` + store.CommandQueued + `', '` + store.CommandRunning + `') ORDER BY ended_at LIMIT $3)`,
	store.RetainIntake: `DELETE FROM intake_batches WHERE id IN (
		SELECT id FROM intake_batches WHERE tenant_id = $1 AND processed = 1 AND received_at < $2 ORDER BY received_at LIMIT $3)`,
	store.RetainSessions: `DELETE FROM ui_sessions WHERE id_hash IN (
		SELECT id_hash FROM ui_sessions WHERE tenant_id = $1 AND last_seen_at < $2 ORDER BY last_seen_at LIMIT $3)`,
}

// Executions and window runs have child rows; their batch is read first so
// the children and the parents removed are the same rows.
var (
	// finishedExecutions excludes the statuses an execution can still
	// leave (runbook.TerminalStatuses are the others).
	finishedExecutions = `SELECT id FROM executions WHERE tenant_id = $1 AND ended_at > 0 AND ended_at < $2
		AND status NOT IN ('pending', 'waiting_approval', 'running') ORDER BY ended_at LIMIT $3`
	finishedWindowRuns = `SELECT id FROM window_runs WHERE tenant_id = $1 AND ended_at > 0 AND ended_at < $2
		AND status NOT IN ('` + store.WindowRunPending + `', '` + store.WindowRunRunning + `') ORDER BY ended_at LIMIT $3`
	childTables = map[store.RetentionClass]struct {
		pick     string
		children []string // "table.column" naming the parent id
		parent   string
	}{
		store.RetainExecutions: {finishedExecutions, []string{"execution_steps.execution_id", "execution_approvals.execution_id"}, "executions"},
		store.RetainWindowRuns: {finishedWindowRuns, []string{"window_run_targets.run_id"}, "window_runs"},
	}
)

func (t *tx) PruneExpired(ctx context.Context, tenantID string, class store.RetentionClass, before time.Time, limit int) (int64, error) {
	if limit <= 0 {
		return 0, nil
	}
	if q, ok := pruneSQL[class]; ok {
		return t.h.Exec(ctx, q, tenantID, ts(before), limit)
	}
	c, ok := childTables[class]
	if !ok {
		return 0, fmt.Errorf("prune: unknown retention class %q", class)
	}
	ids, err := t.queryIDs(ctx, c.pick, tenantID, ts(before), limit)
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	anon := anonParams(t.b)
	in := inListIn(anon, len(ids), 1)
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	for _, ch := range c.children {
		table, col, _ := strings.Cut(ch, ".")
		if _, err := t.h.Exec(ctx, "DELETE FROM "+table+" WHERE "+col+" IN ("+in+")", args...); err != nil {
			return 0, err
		}
	}
	return t.h.Exec(ctx, "DELETE FROM "+c.parent+" WHERE id IN ("+in+")", args...)
}

func (t *tx) TrimEvents(ctx context.Context, tenantID string, keep int64, limit int) (int64, error) {
	if limit <= 0 || keep < 0 {
		return 0, nil
	}
	var n int64
	if err := t.h.QueryRow(ctx, "SELECT COUNT(*) FROM events WHERE tenant_id = $1", tenantID).Scan(&n); err != nil {
		return 0, err
	}
	excess := min(n-keep, int64(limit))
	if excess <= 0 {
		return 0, nil
	}
	return t.h.Exec(ctx, `DELETE FROM events WHERE id IN (
		SELECT id FROM events WHERE tenant_id = $1 ORDER BY received_at, id LIMIT $2)`, tenantID, excess)
}

func (t *tx) queryIDs(ctx context.Context, q string, args ...any) ([]string, error) {
	rows, err := t.h.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
