// Package store is Flywheel's storage contract: the records every other
// package persists (tenants, tokens, OpsItems, audit records, …) and the one
// narrow interface that the SQLite and PostgreSQL drivers implement.
//
// Every method that touches tenant data takes the tenant ID explicitly, so a
// query cannot forget to scope itself: there is no "list all OpsItems".
// Drivers live in store/sqlite and store/postgres; both share the SQL in
// store/sqlstore and pass the conformance suite in store/storetest.
package store

import (
	"context"
	"errors"
	"time"
)

// Errors drivers return; callers test with errors.Is.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("already exists")
)

// Store is what the application needs from a database.
type Store interface {
	Reader
	// InTx runs fn in one transaction: everything fn writes commits together
	// or not at all (e.g. an OpsItem change and its audit record). fn must not
	// retain tx after it returns.
	InTx(ctx context.Context, fn func(tx Tx) error) error
	// Driver names the driver: "sqlite" or "postgres".
	Driver() string
	// Ping checks the database answers (readiness).
	Ping(ctx context.Context) error
	Close() error
}

// Reader holds the read-only queries; they run on read connections.
// Capability-specific queries live in their own files (events.go,
// deflection.go) as interfaces embedded here.
type Reader interface {
	EventReader
	DeflectionReader
	ExecutionReader
	FleetReader
	RuleReader
	StatsReader
	WindowRunReader
	SessionReader
	CostReader
	AWSAccountReader
	ComplianceReader

	GetTenant(ctx context.Context, id string) (Tenant, error)
	ListTenants(ctx context.Context, page Page) ([]Tenant, string, error)

	// TokenByHash finds a token by the SHA-256 of its secret.
	TokenByHash(ctx context.Context, hash string) (Token, error)
	ListTokens(ctx context.Context, tenantID string, page Page) ([]Token, string, error)

	GetOpsItem(ctx context.Context, tenantID, id string) (OpsItem, error)
	ListOpsItems(ctx context.Context, tenantID string, f OpsItemFilter, page Page) ([]OpsItem, string, error)

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

// Tx is a transaction: all reads see its writes.
type Tx interface {
	Reader
	EventWriter
	DeflectionWriter
	ExecutionWriter
	FleetWriter
	RuleWriter
	WindowRunWriter
	SessionWriter
	CostWriter
	AWSAccountWriter
	ComplianceWriter

	CreateTenant(ctx context.Context, t Tenant) error

	CreateToken(ctx context.Context, t Token, hash string) error
	// RevokeToken marks a token revoked and deletes its UI sessions;
	// ErrNotFound when the tenant has no such live token.
	RevokeToken(ctx context.Context, tenantID, id string, at time.Time) error
	TouchToken(ctx context.Context, id string, at time.Time) error

	CreateOpsItem(ctx context.Context, o OpsItem) error
	UpdateOpsItem(ctx context.Context, o OpsItem) error

	// AppendAudit fills in Seq, PrevHash and Hash (with the hash function the
	// audit package supplies) and stores the record, serialised per tenant.
	AppendAudit(ctx context.Context, r *AuditRecord, hash func(AuditRecord) string) error
	AddAuditCheckpoint(ctx context.Context, c AuditCheckpoint) error
	// PruneAuditCheckpoints deletes checkpoints older than before, keeping
	// the newest per tenant.
	PruneAuditCheckpoints(ctx context.Context, before time.Time) (int64, error)

	// Raw returns the driver's transaction (pgx.Tx or *sql.Tx) so the job
	// queue can enqueue in the same transaction.
	Raw() any
}

// Page is a cursor page request. Cursor is opaque: the next-cursor a previous
// call returned, or "" for the first page.
type Page struct {
	Limit  int
	Cursor string
}

// DefaultPageLimit and MaxPageLimit bound list sizes.
const (
	DefaultPageLimit = 50
	MaxPageLimit     = 500
)

// Normalize applies the default and maximum limit.
func (p Page) Normalize() Page {
	if p.Limit <= 0 {
		p.Limit = DefaultPageLimit
	}
	if p.Limit > MaxPageLimit {
		p.Limit = MaxPageLimit
	}
	return p
}
