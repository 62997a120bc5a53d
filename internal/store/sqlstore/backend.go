// Package sqlstore implements store.Store once, in SQL that both SQLite and
// PostgreSQL accept ($N placeholders, integer timestamps, RETURNING, ON
// CONFLICT). A driver package supplies a Backend: its connections, its
// transaction type and how it spells errors. Keeping one copy of every query
// means the two drivers cannot drift apart; the conformance suite proves it.
package sqlstore

import "context"

// Querier runs SQL; implemented over database/sql and over pgx.
type Querier interface {
	Exec(ctx context.Context, q string, args ...any) (int64, error)
	Query(ctx context.Context, q string, args ...any) (Rows, error)
	QueryRow(ctx context.Context, q string, args ...any) Row
}

// Rows is a result cursor.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// Row is a single-row result; Scan returns an error matching IsNoRows when
// there was none.
type Row interface {
	Scan(dest ...any) error
}

// TxHandle is a driver transaction.
type TxHandle interface {
	Querier
	Commit(ctx context.Context) error
	Rollback(ctx context.Context) error
	// Raw returns the driver's own transaction value (*sql.Tx or pgx.Tx).
	Raw() any
}

// Backend is what a driver provides.
type Backend interface {
	Name() string
	// Read returns the querier for reads outside transactions.
	Read() Querier
	// Begin starts a read-write transaction on the writer connection(s).
	Begin(ctx context.Context) (TxHandle, error)
	IsNoRows(err error) bool
	IsUniqueViolation(err error) bool
	// MigrationLock is a statement run first in the migration transaction to
	// serialise concurrent migrators ("" when the writer is already single).
	MigrationLock() string
	// GroupLock is a statement, with a correlation group's name as its one
	// parameter, that a transaction runs before it looks the group's open
	// OpsItem up; held to the transaction's end, it makes writers sharing
	// the database open one OpsItem per group ("" when the writer is
	// already single).
	GroupLock() string
	// AlertLock is a statement, with a tenant ($1) and a list of alert
	// fingerprints ($2), that a transaction runs before it reads those
	// alerts' state; held to the transaction's end, it makes writers
	// sharing the database process deliveries of one alert one after the
	// other, so a repeat processed on another replica at the same moment
	// is counted as a repeat, not stored as a second event ("" when the
	// writer is already single).
	AlertLock() string
	Ping(ctx context.Context) error
	Close() error
}
