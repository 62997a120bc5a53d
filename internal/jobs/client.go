package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/flywheel-ops/flywheel/internal/store"
)

// client is a River client with its transaction type hidden: River is
// generic over the driver's tx (*sql.Tx for SQLite, pgx.Tx for PostgreSQL),
// the rest of Flywheel only sees store.Tx.
type client interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	StopAndCancel(ctx context.Context) error
	ID() string
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) error
	// InsertTx enqueues in raw, the driver transaction from store.Tx.Raw.
	InsertTx(ctx context.Context, raw any, args river.JobArgs, opts *river.InsertOpts) error
	// leader returns the elected leader's client ID ("" if none).
	leader(ctx context.Context) (string, error)
}

type riverClient[TTx any] struct {
	c      *river.Client[TTx]
	schema string
}

var (
	_ client = riverClient[*sql.Tx]{}
	_ client = riverClient[pgx.Tx]{}
)

func (r riverClient[TTx]) Start(ctx context.Context) error         { return r.c.Start(ctx) }
func (r riverClient[TTx]) Stop(ctx context.Context) error          { return r.c.Stop(ctx) }
func (r riverClient[TTx]) StopAndCancel(ctx context.Context) error { return r.c.StopAndCancel(ctx) }
func (r riverClient[TTx]) ID() string                              { return r.c.ID() }

func (r riverClient[TTx]) Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) error {
	_, err := r.c.Insert(ctx, args, opts)
	return err
}

func (r riverClient[TTx]) InsertTx(ctx context.Context, raw any, args river.JobArgs, opts *river.InsertOpts) error {
	tx, ok := raw.(TTx)
	if !ok {
		var want TTx
		return fmt.Errorf("store transaction is %T, the job queue needs %T (queue and store on different drivers?)", raw, want)
	}
	_, err := r.c.InsertTx(ctx, tx, args, opts)
	return err
}

// leader reads River's leader row. River has no public accessor for it, so
// this goes through the driver executor, pinned with River's version.
func (r riverClient[TTx]) leader(ctx context.Context) (string, error) {
	l, err := r.c.Driver().GetExecutor().LeaderGetElectedLeader(ctx, &riverdriver.LeaderGetElectedLeaderParams{Schema: r.schema})
	if errors.Is(err, rivertype.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return l.LeaderID, nil
}

// driverSetup is what New needs from a store's driver.
type driverSetup struct {
	schema    string
	migrate   func(ctx context.Context, log *slog.Logger) error
	newClient func(cfg *river.Config) (client, error)
}

// sqliteStore and postgresStore match sqlite.Store and postgres.Store (and
// types embedding them, like postgres.TestStore) without importing their
// packages' test helpers.
type (
	sqliteStore   interface{ Writer() *sql.DB }
	postgresStore interface {
		Pool() *pgxpool.Pool
		Schema() string
	}
)

func detect(st store.Store) (driverSetup, error) {
	switch s := st.(type) {
	case sqliteStore:
		db := s.Writer()
		if db == nil {
			return driverSetup{}, errors.New("jobs: sqlite store opened read-only")
		}
		// River shares the store's single write connection: a second pool
		// would fight it for SQLite's one write lock.
		drv := riversqlite.New(db)
		return driverSetup{
			migrate: func(ctx context.Context, log *slog.Logger) error { return migrate(ctx, drv, "", log) },
			newClient: func(cfg *river.Config) (client, error) {
				cfg.PollOnly = true // SQLite has no LISTEN/NOTIFY
				c, err := river.NewClient(drv, cfg)
				return riverClient[*sql.Tx]{c: c}, err
			},
		}, nil
	case postgresStore:
		pool, schema := s.Pool(), s.Schema()
		drv := riverpgxv5.New(pool)
		return driverSetup{
			schema: schema,
			migrate: func(ctx context.Context, log *slog.Logger) error {
				return migratePostgres(ctx, pool, schema, func(ctx context.Context) error { return migrate(ctx, drv, schema, log) })
			},
			newClient: func(cfg *river.Config) (client, error) {
				c, err := river.NewClient(drv, cfg)
				return riverClient[pgx.Tx]{c: c, schema: schema}, err
			},
		}, nil
	}
	return driverSetup{}, fmt.Errorf("jobs: unsupported store %T (want the sqlite or postgres driver)", st)
}

func migrate[TTx any](ctx context.Context, drv riverdriver.Driver[TTx], schema string, log *slog.Logger) error {
	m, err := rivermigrate.New(drv, &rivermigrate.Config{Schema: schema, Logger: riverLogger(log)})
	if err != nil {
		return err
	}
	res, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return err
	}
	if n := len(res.Versions); n > 0 {
		log.InfoContext(ctx, "applied river migrations", "count", n, "version", res.Versions[n-1].Version)
	}
	return nil
}

// migratePostgres runs fn holding a session advisory lock, so replicas
// starting together do not apply River's migrations twice (rivermigrate
// takes no lock of its own). The lock is per schema.
func migratePostgres(ctx context.Context, pool *pgxpool.Pool, schema string, fn func(context.Context) error) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	const lockClass = 7243002 // beside the store's 7243001
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1, hashtext($2))", lockClass, schema); err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	defer func() {
		_, _ = conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1, hashtext($2))", lockClass, schema)
	}()
	return fn(ctx)
}
