package audit_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/flywheel-ops/flywheel/internal/store"
	"github.com/flywheel-ops/flywheel/internal/store/postgres"
	"github.com/flywheel-ops/flywheel/internal/store/sqlite"
)

// backend opens a fresh store and a second, independent connection to the
// same database, through which tests tamper with the log the way someone
// with database access could — behind the store's back.
type backend struct {
	name string
	open func(t *testing.T) (store.Store, execFunc)
}

// execFunc runs one statement ($1-style placeholders) on the tamper connection.
type execFunc func(t *testing.T, query string, args ...any)

var backends = []backend{
	{"sqlite", openSQLite},
	{"postgres", openPostgres},
}

func openSQLite(t *testing.T) (store.Store, execFunc) {
	path := filepath.Join(t.TempDir(), "flywheel.db")
	st, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	// The modernc driver is registered by the sqlite store package.
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return st, func(t *testing.T, q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(context.Background(), q, args...); err != nil {
			t.Fatalf("tamper %q: %v", q, err)
		}
	}
}

func openPostgres(t *testing.T) (store.Store, execFunc) {
	st := postgres.OpenTest(t)
	cfg, err := pgx.ParseConfig(postgres.TestURL())
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["search_path"] = st.Schema()
	conn, err := pgx.ConnectConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Registered after OpenTest's cleanup, so it runs first: the schema is
	// dropped with no connection of ours left in it.
	t.Cleanup(func() { conn.Close(context.Background()) })
	return st, func(t *testing.T, q string, args ...any) {
		t.Helper()
		if _, err := conn.Exec(context.Background(), q, args...); err != nil {
			t.Fatalf("tamper %q: %v", q, err)
		}
	}
}

// forEachBackend runs fn on each driver, in parallel.
func forEachBackend(t *testing.T, fn func(t *testing.T, st store.Store, exec execFunc)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			st, exec := b.open(t)
			fn(t, st, exec)
		})
	}
}
