// Package postgres is the scale-out store driver: PostgreSQL through pgx,
// shared by every `flywheel serve` replica. The pgx pool is also handed to
// the job queue (River's pgx driver), so jobs can be enqueued in the same
// transaction as the state change that causes them.
package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/flywheel-ops/flywheel/internal/store/sqlstore"
)

// Options configure Open.
type Options struct {
	// Schema, when set, is created if missing and used as the search_path
	// (tests isolate themselves this way).
	Schema string
	// SkipMigrate opens without applying migrations.
	SkipMigrate bool
}

// Store is the PostgreSQL store.
type Store struct {
	*sqlstore.Store
	pool   *pgxpool.Pool
	schema string
}

// Open connects to url and applies migrations.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("database url: %w", err)
	}
	if opts.Schema != "" {
		if err := createSchema(ctx, cfg.ConnConfig, opts.Schema); err != nil {
			return nil, err
		}
		cfg.ConnConfig.RuntimeParams["search_path"] = opts.Schema
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	s := &Store{Store: sqlstore.New(&backend{pool: pool}), pool: pool, schema: opts.Schema}
	if !opts.SkipMigrate {
		if _, err := s.Migrate(ctx); err != nil {
			pool.Close()
			return nil, fmt.Errorf("migrate: %w", err)
		}
	}
	return s, nil
}

// Pool returns the pgx pool, for River.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Schema returns the schema the store was opened in ("" for the
// search_path default), so River's tables can live beside the store's.
func (s *Store) Schema() string { return s.schema }

func createSchema(ctx context.Context, cc *pgx.ConnConfig, schema string) error {
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return fmt.Errorf("connect to postgres: %w", err)
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{schema}.Sanitize())
	return err
}

// DropSchema removes a schema and everything in it (test cleanup).
func DropSchema(ctx context.Context, url, schema string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
	return err
}

type backend struct{ pool *pgxpool.Pool }

var _ sqlstore.Backend = (*backend)(nil)

func (b *backend) Name() string           { return "postgres" }
func (b *backend) Read() sqlstore.Querier { return querier{b.pool} }

// MigrationLock serialises replicas starting at once.
func (b *backend) MigrationLock() string { return "SELECT pg_advisory_xact_lock(7243001)" }

// GroupLock serialises replicas correlating into the same group: a
// transaction-scoped advisory lock on the group's hashed name, so the
// second replica's look-up waits for the first one's OpsItem to commit
// and then finds it. Two groups whose names hash alike only wait for each
// other.
func (b *backend) GroupLock() string {
	return "SELECT pg_advisory_xact_lock(hashtextextended($1, 7243002))"
}

// AlertLock serialises replicas processing deliveries of the same alerts:
// transaction-scoped advisory locks on the hashed fingerprints, taken in
// one statement in hash order, so two transactions locking overlapping
// sets this way wait for each other instead of deadlocking.
func (b *backend) AlertLock() string {
	return `SELECT count(pg_advisory_xact_lock(h)) FROM (
		SELECT DISTINCT hashtextextended($1 || chr(31) || fp, 7243003) AS h FROM unnest($2::text[]) AS fp ORDER BY h) AS s`
}

func (b *backend) Begin(ctx context.Context) (sqlstore.TxHandle, error) {
	tx, err := b.pool.Begin(ctx)
	if err != nil {
		return nil, unavailable(err)
	}
	return txHandle{querier{tx}, tx}, nil
}

func (b *backend) IsNoRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }

func (b *backend) IsUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

func (b *backend) Ping(ctx context.Context) error { return unavailable(b.pool.Ping(ctx)) }
func (b *backend) Close() error                   { b.pool.Close(); return nil }

// pgxQuerier is what *pgxpool.Pool and pgx.Tx have in common.
type pgxQuerier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

type querier struct{ q pgxQuerier }

func (q querier) Exec(ctx context.Context, sql string, args ...any) (int64, error) {
	tag, err := q.q.Exec(ctx, sql, args...)
	return tag.RowsAffected(), unavailable(err)
}

func (q querier) Query(ctx context.Context, sql string, args ...any) (sqlstore.Rows, error) {
	rows, err := q.q.Query(ctx, sql, args...)
	if err != nil {
		return nil, unavailable(err)
	}
	return unavailableRows{rows}, nil
}

func (q querier) QueryRow(ctx context.Context, sql string, args ...any) sqlstore.Row {
	return unavailableRow{q.q.QueryRow(ctx, sql, args...)}
}

type txHandle struct {
	querier
	tx pgx.Tx
}

func (t txHandle) Commit(ctx context.Context) error   { return unavailable(t.tx.Commit(ctx)) }
func (t txHandle) Rollback(ctx context.Context) error { return t.tx.Rollback(ctx) }
func (t txHandle) Raw() any                           { return t.tx }
