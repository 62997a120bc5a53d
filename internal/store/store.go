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
)

// Errors drivers return; callers test with errors.Is.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("already exists")
	// ErrUnavailable wraps errors that say the database cannot be reached
	// now (connection refused or cut, the server shutting down or
	// starting): the request may succeed if tried again shortly, so the
	// API answers 503 with Retry-After, not 500.
	ErrUnavailable = errors.New("database unavailable")
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

// Reader holds the read-only queries; they run on read connections. Each
// concept's queries are an interface in its own file (tenants.go,
// opsitems.go, audit.go, …), embedded here with one line each.
type Reader interface {
	TenantReader
	TokenReader
	OpsItemReader
	AuditReader
	AlertReader
	EventReader
	IntakeReader
	DeflectionReader
	ExecutionReader
	FleetReader
	RuleReader
	StatsReader
	WindowRunReader
	SessionReader
	PatchReader
	BackupReader
	CostReader
	AWSAccountReader
	PrometheusReader
	OnCallReader
	ComplianceReader
	ContentReader
}

// Tx is a transaction: all reads see its writes. Each concept's writes
// are an interface in its own file, embedded here with one line each;
// code that needs only some takes the narrow interfaces.
type Tx interface {
	Reader
	TenantWriter
	TokenWriter
	OpsItemWriter
	AuditWriter
	AuditBatchWriter
	AlertWriter
	EventWriter
	IntakeWriter
	RowsWriter
	DeflectionWriter
	ExecutionWriter
	FleetWriter
	RuleWriter
	WindowRunWriter
	SessionWriter
	PatchWriter
	BackupWriter
	RetentionWriter
	CostWriter
	AWSAccountWriter
	PrometheusWriter
	OnCallWriter
	ComplianceWriter
	ContentWriter

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
