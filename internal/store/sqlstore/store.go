package sqlstore

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/flywheel-ops/flywheel/internal/store"
)

// migrationsFS holds the schema, numbered NNNN_description.sql. Both
// databases accept the same text, so there is one set, not one per driver.
//
//go:embed migrations/*.sql
var embeddedMigrations embed.FS

var migrationsFS, _ = fs.Sub(embeddedMigrations, "migrations")

// Store implements store.Store over a Backend.
type Store struct {
	b Backend
	reader
}

var _ store.Store = (*Store)(nil)

// New returns a Store over b. Call Migrate before use.
func New(b Backend) *Store {
	return &Store{b: b, reader: reader{q: b.Read(), b: b}}
}

func (s *Store) Driver() string                 { return s.b.Name() }
func (s *Store) Ping(ctx context.Context) error { return s.b.Ping(ctx) }
func (s *Store) Close() error                   { return s.b.Close() }

// Backend exposes the driver backend (the job queue needs its pools).
func (s *Store) Backend() Backend { return s.b }

// InTx runs fn in a transaction, committing when it returns nil.
func (s *Store) InTx(ctx context.Context, fn func(tx store.Tx) error) (err error) {
	h, err := s.b.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			_ = h.Rollback(context.WithoutCancel(ctx))
			panic(p)
		}
		if err != nil {
			_ = h.Rollback(context.WithoutCancel(ctx))
		}
	}()
	if err := fn(&tx{reader: reader{q: h, b: s.b}, h: h}); err != nil {
		return err
	}
	if err := h.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// Migrate applies the backend's numbered migrations that are not yet applied,
// each in its own transaction, and returns how many it applied.
func (s *Store) Migrate(ctx context.Context) (int, error) {
	files, err := migrationFiles(migrationsFS)
	if err != nil {
		return 0, err
	}
	applied := 0
	for _, m := range files {
		did, err := s.applyMigration(ctx, m)
		if err != nil {
			return applied, fmt.Errorf("migration %s: %w", m.name, err)
		}
		if did {
			applied++
		}
	}
	return applied, nil
}

type migration struct {
	version int
	name    string
	sql     string
}

func migrationFiles(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, n := range names {
		num, _, ok := strings.Cut(n, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration file %q: name must be NNNN_description.sql", n)
		}
		body, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: n, sql: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i := 1; i < len(out); i++ {
		if out[i].version == out[i-1].version {
			return nil, fmt.Errorf("migrations %s and %s share version %d", out[i-1].name, out[i].name, out[i].version)
		}
	}
	return out, nil
}

func (s *Store) applyMigration(ctx context.Context, m migration) (bool, error) {
	h, err := s.b.Begin(ctx)
	if err != nil {
		return false, err
	}
	defer h.Rollback(context.WithoutCancel(ctx))
	if lock := s.b.MigrationLock(); lock != "" {
		if _, err := h.Exec(ctx, lock); err != nil {
			return false, err
		}
	}
	if _, err := h.Exec(ctx, `CREATE TABLE IF NOT EXISTS flywheel_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL)`); err != nil {
		return false, err
	}
	var one int
	err = h.QueryRow(ctx, `SELECT 1 FROM flywheel_migrations WHERE version = $1`, m.version).Scan(&one)
	if err == nil {
		return false, nil
	}
	if !s.b.IsNoRows(err) {
		return false, err
	}
	for _, stmt := range splitStatements(m.sql) {
		if _, err := h.Exec(ctx, stmt); err != nil {
			return false, fmt.Errorf("%w\nin statement:\n%s", err, stmt)
		}
	}
	if _, err := h.Exec(ctx, `INSERT INTO flywheel_migrations (version, name) VALUES ($1, $2)`, m.version, m.name); err != nil {
		return false, err
	}
	return true, h.Commit(ctx)
}

// splitStatements splits a migration on lines that end with ";". Migrations
// are our own files; they keep one statement per ";"-terminated block.
func splitStatements(sql string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(sql, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "--") {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(strings.TrimSpace(line), ";") {
			if s := strings.TrimSpace(cur.String()); s != ";" {
				out = append(out, s)
			}
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		out = append(out, s)
	}
	return out
}

// notFound maps a driver's no-rows error to store.ErrNotFound.
func (r reader) notFound(err error, what string) error {
	if err == nil {
		return nil
	}
	if r.b.IsNoRows(err) {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return err
}

func conflict(b Backend, err error, what string) error {
	if err != nil && b.IsUniqueViolation(err) {
		return fmt.Errorf("%s: %w", what, store.ErrConflict)
	}
	return err
}

type reader struct {
	q Querier
	b Backend
}

type tx struct {
	reader
	h TxHandle
}

var _ store.Tx = (*tx)(nil)

func (t *tx) Raw() any { return t.h.Raw() }

// errStop ends a scan early without error.
var errStop = errors.New("stop")
