package store

import (
	"context"
	"time"
)

// AuditChain is the one writer of the audit hash chain: it links records
// onto their tenant's chain head — Seq, PrevHash, the stored time
// resolution and Hash are set here and nowhere else — and stores them.
// A store's AppendAudit links and stores one record at once; the
// pipeline's processing links many in memory and flushes them together.
//
// The first Append for a tenant takes its head (TakeAuditHead holds it to
// the end of the transaction), so two transactions never chain onto the
// same record. An AuditChain belongs to one transaction.
type AuditChain struct {
	w       AuditBatchWriter
	heads   map[string]*chainHead
	pending []AuditRecord
}

type chainHead struct {
	seq   int64
	hash  string
	moved bool
}

// NewAuditChain writes through w, a transaction.
func NewAuditChain(w AuditBatchWriter) *AuditChain {
	return &AuditChain{w: w, heads: map[string]*chainHead{}}
}

// Append links r onto its tenant's chain with hash (the audit package's)
// and holds it until Flush.
func (c *AuditChain) Append(ctx context.Context, r *AuditRecord, hash func(AuditRecord) string) error {
	h := c.heads[r.TenantID]
	if h == nil {
		seq, head, err := c.w.TakeAuditHead(ctx, r.TenantID)
		if err != nil {
			return err
		}
		h = &chainHead{seq: seq, hash: head}
		c.heads[r.TenantID] = h
	}
	r.Seq, r.PrevHash = h.seq+1, h.hash
	r.Time = r.Time.UTC().Truncate(time.Microsecond)
	r.Hash = hash(*r)
	h.seq, h.hash, h.moved = r.Seq, r.Hash, true
	c.pending = append(c.pending, *r)
	return nil
}

// Flush stores the linked records and moves the heads past them.
func (c *AuditChain) Flush(ctx context.Context) error {
	if len(c.pending) == 0 {
		return nil
	}
	if err := c.w.InsertAuditRecords(ctx, c.pending); err != nil {
		return err
	}
	c.pending = c.pending[:0]
	for tenant, h := range c.heads {
		if h.moved {
			if err := c.w.SetAuditHead(ctx, tenant, h.seq, h.hash); err != nil {
				return err
			}
			h.moved = false
		}
	}
	return nil
}
