package sqlstore

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

// activeOpsItems selects the OpsItems created or resolved in [$2, $3) of
// tenant $1; resolved_at is 0 when unset, which no range starts at.
const activeOpsItems = `o.tenant_id = $1 AND ((o.created_at >= $2 AND o.created_at < $3) OR (o.resolved_at >= $2 AND o.resolved_at < $3))`

func (r reader) NoiseSeries(ctx context.Context, tenantID string, from, to time.Time, step time.Duration) ([]store.NoiseBucket, error) {
	stepUS := step.Microseconds()
	if stepUS <= 0 {
		return nil, fmt.Errorf("noise series: step %s is not positive", step)
	}
	rows, err := r.q.Query(ctx, `SELECT (minute - $2) / $4 AS b, SUM(received), SUM(deduplicated), SUM(opened),
		SUM(silence), SUM(maintenance), SUM(transient), SUM(flapping), SUM(inhibited)
		FROM noise_minutes WHERE tenant_id = $1 AND minute >= $2 AND minute < $3 GROUP BY b ORDER BY b`,
		tenantID, ts(from), ts(to), stepUS)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.NoiseBucket
	for rows.Next() {
		var n int64
		var vals [5]int64
		b := store.NoiseBucket{TenantID: tenantID, Suppressed: map[string]int64{}}
		if err := rows.Scan(&n, &b.Received, &b.Deduplicated, &b.Opened, &vals[0], &vals[1], &vals[2], &vals[3], &vals[4]); err != nil {
			return nil, err
		}
		b.Minute = from.Add(time.Duration(n) * step)
		for i, reason := range noiseReasons {
			b.Suppressed[reason] = vals[i]
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// outcomeCols are the OpsItem columns the figures read.
const outcomeCols = "o.id, o.tenant_id, o.title, o.category, o.severity, o.status, o.created_at, o.resolved_at, o.resolved_by, o.human_seconds, o.human_since"

func (r reader) ScanOpsItemsActive(ctx context.Context, tenantID string, from, to time.Time, fn func(store.OpsItem) error) error {
	rows, err := r.q.Query(ctx, "SELECT "+outcomeCols+" FROM opsitems o WHERE "+activeOpsItems+" ORDER BY o.created_at, o.id",
		tenantID, ts(from), ts(to))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var o store.OpsItem
		var created, resolved, since int64
		if err := rows.Scan(&o.ID, &o.TenantID, &o.Title, &o.Category, &o.Severity, &o.Status, &created, &resolved, &o.ResolvedBy,
			&o.HumanSeconds, &since); err != nil {
			return err
		}
		o.CreatedAt, o.ResolvedAt, o.HumanSince = fromTS(created), fromTSPtr(resolved), fromTSPtr(since)
		if err := fn(o); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (r reader) CountOpenOpsItems(ctx context.Context, tenantID string, at time.Time) (map[string]int64, error) {
	rows, err := r.q.Query(ctx, `SELECT category, COUNT(*) FROM opsitems
		WHERE tenant_id = $1 AND created_at < $2 AND status <> 'suppressed' AND (resolved_at = 0 OR resolved_at >= $2)
		GROUP BY category`, tenantID, ts(at))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var c string
		var n int64
		if err := rows.Scan(&c, &n); err != nil {
			return nil, err
		}
		out[c] = n
	}
	return out, rows.Err()
}

func (r reader) ListOpsItemRunbooks(ctx context.Context, tenantID string, from, to time.Time) ([]store.OpsItemRunbook, error) {
	rows, err := r.q.Query(ctx, `SELECT e.opsitem_id, e.runbook, e.rule, e.started_by, e.status, e.dry_run
		FROM executions e JOIN opsitems o ON o.tenant_id = e.tenant_id AND o.id = e.opsitem_id
		WHERE e.tenant_id = $1 AND e.parent_id = '' AND `+activeOpsItems+` ORDER BY e.opsitem_id, e.id`,
		tenantID, ts(from), ts(to))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.OpsItemRunbook
	for rows.Next() {
		var x store.OpsItemRunbook
		var dry int
		if err := rows.Scan(&x.OpsItemID, &x.Runbook, &x.Rule, &x.StartedBy, &x.Status, &dry); err != nil {
			return nil, err
		}
		x.DryRun = dry != 0
		out = append(out, x)
	}
	return out, rows.Err()
}

func (r reader) ListOpsItemResourceTypes(ctx context.Context, tenantID string, from, to time.Time) (map[string][]string, error) {
	rows, err := r.q.Query(ctx, `SELECT DISTINCT res.opsitem_id, res.type
		FROM opsitem_resources res JOIN opsitems o ON o.tenant_id = res.tenant_id AND o.id = res.opsitem_id
		WHERE res.tenant_id = $1 AND `+activeOpsItems+` ORDER BY res.opsitem_id, res.type`,
		tenantID, ts(from), ts(to))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var id, typ string
		if err := rows.Scan(&id, &typ); err != nil {
			return nil, err
		}
		out[id] = append(out[id], typ)
	}
	return out, rows.Err()
}

func (r reader) SearchAudit(ctx context.Context, tenantID string, f store.AuditFilter, page store.Page) ([]store.AuditRecord, string, error) {
	var w where
	w.add("tenant_id = ?", tenantID)
	if f.Actor != "" {
		w.add("actor = ?", f.Actor)
	}
	if f.Action != "" {
		w.add(`action LIKE ? ESCAPE '\'`, likeEscaper.Replace(f.Action)+"%")
	}
	if f.Target != "" {
		w.add(`target LIKE ? ESCAPE '\'`, likeEscaper.Replace(f.Target)+"%")
	}
	if page.Cursor != "" {
		n, err := strconv.ParseInt(page.Cursor, 10, 64)
		if err != nil {
			return nil, "", fmt.Errorf("invalid cursor %q", page.Cursor)
		}
		w.add("seq < ?", n)
		page.Cursor = ""
	}
	return listPage(ctx, r.q, auditCols, "audit_records", "seq", w, page,
		func(rows Rows) (store.AuditRecord, error) { return scanAudit(rows) },
		store.AuditCursor)
}
