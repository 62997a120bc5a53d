package store

import (
	"context"
	"time"
)

// AuditReader holds the queries over the audit log and its checkpoints.
type AuditReader interface {
	// ListAudit lists a tenant's audit records newest first.
	ListAudit(ctx context.Context, tenantID string, page Page) ([]AuditRecord, string, error)
	// ScanAudit calls fn for each of a tenant's audit records in chain order,
	// starting after sequence number after.
	ScanAudit(ctx context.Context, tenantID string, after int64, fn func(AuditRecord) error) error
	// AuditHead returns the tenant's last sequence number and hash as recorded
	// at append time ("", 0 when the chain is empty).
	AuditHead(ctx context.Context, tenantID string) (seq int64, hash string, err error)
	ListAuditCheckpoints(ctx context.Context, tenantID string) ([]AuditCheckpoint, error)
	// AuditTenants lists tenants that have audit records.
	AuditTenants(ctx context.Context) ([]string, error)
}

// AuditWriter appends to the audit log.
type AuditWriter interface {
	// AppendAudit fills in Seq, PrevHash and Hash (with the hash function the
	// audit package supplies) and stores the record, serialised per tenant.
	AppendAudit(ctx context.Context, r *AuditRecord, hash func(AuditRecord) string) error
	AddAuditCheckpoint(ctx context.Context, c AuditCheckpoint) error
	// PruneAuditCheckpoints deletes checkpoints older than before, keeping
	// the newest per tenant.
	PruneAuditCheckpoints(ctx context.Context, before time.Time) (int64, error)
}

// AuditBatchWriter writes audit records a transaction chained itself
// (AuditChain): the first append for a tenant takes its chain head, which
// the transaction holds from then on, the following records link in
// memory, and they are written together.
type AuditBatchWriter interface {
	// TakeAuditHead returns the tenant's chain head (0 and "" before its
	// first record, creating the head) and holds it to the end of the
	// transaction (PostgreSQL: its row lock), without appending: the
	// caller links its records from there.
	TakeAuditHead(ctx context.Context, tenantID string) (seq int64, hash string, err error)
	// InsertAuditRecords stores records whose Seq, PrevHash and Hash are set.
	InsertAuditRecords(ctx context.Context, rs []AuditRecord) error
	// SetAuditHead moves a tenant's chain head to its last record.
	SetAuditHead(ctx context.Context, tenantID string, seq int64, hash string) error
}
