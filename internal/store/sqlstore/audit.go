package sqlstore

import (
	"context"
	"errors"
	"time"

	"github.com/flywheel-ops/flywheel/internal/store"
)

const auditCols = "tenant_id, seq, at, actor, action, target, result, detail, prev_hash, hash"

func scanAudit(r Row) (store.AuditRecord, error) {
	var a store.AuditRecord
	var at int64
	var detail string
	err := r.Scan(&a.TenantID, &a.Seq, &at, &a.Actor, &a.Action, &a.Target, &a.Result, &detail, &a.PrevHash, &a.Hash)
	a.Time = fromTS(at)
	if detail != "" {
		a.Detail = []byte(detail)
	}
	return a, err
}

func (r reader) ListAudit(ctx context.Context, tenantID string, page store.Page) ([]store.AuditRecord, string, error) {
	return r.SearchAudit(ctx, tenantID, store.AuditFilter{}, page)
}

func (r reader) ScanAudit(ctx context.Context, tenantID string, after int64, fn func(store.AuditRecord) error) error {
	const batch = 1000
	for {
		rows, err := r.q.Query(ctx, "SELECT "+auditCols+" FROM audit_records WHERE tenant_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
			tenantID, after, batch)
		if err != nil {
			return err
		}
		n := 0
		for rows.Next() {
			a, err := scanAudit(rows)
			if err == nil {
				err = fn(a)
			}
			if err != nil {
				rows.Close()
				if errors.Is(err, errStop) {
					return nil
				}
				return err
			}
			after = a.Seq
			n++
		}
		err = rows.Err()
		rows.Close()
		if err != nil || n < batch {
			return err
		}
	}
}

func (r reader) AuditHead(ctx context.Context, tenantID string) (int64, string, error) {
	var seq int64
	var hash string
	err := r.q.QueryRow(ctx, "SELECT seq, hash FROM audit_heads WHERE tenant_id = $1", tenantID).Scan(&seq, &hash)
	if err != nil && r.b.IsNoRows(err) {
		return 0, "", nil
	}
	return seq, hash, err
}

func (r reader) ListAuditCheckpoints(ctx context.Context, tenantID string) ([]store.AuditCheckpoint, error) {
	rows, err := r.q.Query(ctx, "SELECT tenant_id, seq, hash, at FROM audit_checkpoints WHERE tenant_id = $1 ORDER BY seq", tenantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.AuditCheckpoint
	for rows.Next() {
		var c store.AuditCheckpoint
		var at int64
		if err := rows.Scan(&c.TenantID, &c.Seq, &c.Hash, &at); err != nil {
			return nil, err
		}
		c.Time = fromTS(at)
		out = append(out, c)
	}
	return out, rows.Err()
}

func (r reader) AuditTenants(ctx context.Context) ([]string, error) {
	rows, err := r.q.Query(ctx, "SELECT tenant_id FROM audit_heads ORDER BY tenant_id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// AppendAudit links and stores one record with the one chain writer
// (store.AuditChain): taking the tenant's head takes its row lock
// (PostgreSQL) or the write lock (SQLite) before the previous hash is
// read, so two writers can never chain onto the same record.
func (t *tx) AppendAudit(ctx context.Context, a *store.AuditRecord, hash func(store.AuditRecord) string) error {
	c := store.NewAuditChain(t)
	if err := c.Append(ctx, a, hash); err != nil {
		return err
	}
	return c.Flush(ctx)
}

func (t *tx) AddAuditCheckpoint(ctx context.Context, c store.AuditCheckpoint) error {
	_, err := t.h.Exec(ctx, "INSERT INTO audit_checkpoints (tenant_id, seq, hash, at) VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id, seq) DO NOTHING",
		c.TenantID, c.Seq, c.Hash, ts(c.Time))
	return err
}

func (t *tx) PruneAuditCheckpoints(ctx context.Context, before time.Time) (int64, error) {
	return t.h.Exec(ctx, `DELETE FROM audit_checkpoints WHERE at < $1 AND seq < (
		SELECT MAX(c2.seq) FROM audit_checkpoints c2 WHERE c2.tenant_id = audit_checkpoints.tenant_id)`, ts(before))
}
