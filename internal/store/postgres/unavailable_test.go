package postgres

import (
	"context"
	"errors"
	"net"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/flywheel-ops/flywheel/internal/store"
	"github.com/flywheel-ops/flywheel/internal/testenv"
)

// TestUnavailable: the errors a server restart produces — a connection
// refused, the server terminating the session (57P01), a closed
// connection used again — are store.ErrUnavailable (503 at the API);
// errors in the statement are not.
func TestUnavailable(t *testing.T) {
	ctx := context.Background()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	_, err = pgx.Connect(ctx, "postgres://postgres@"+addr+"/x?sslmode=disable&connect_timeout=5")
	if !errors.Is(unavailable(err), store.ErrUnavailable) {
		t.Errorf("connection refused: %v is not ErrUnavailable", err)
	}

	conn, err := pgx.Connect(ctx, TestURL())
	if err != nil {
		testenv.Absent(t, "PostgreSQL not reachable at %s: %v", TestURL(), err)
	}
	defer conn.Close(ctx)
	q := querier{conn}
	if _, err := q.Exec(ctx, "SELEC 1"); err == nil || errors.Is(err, store.ErrUnavailable) {
		t.Errorf("syntax error: %v; want an error that is not ErrUnavailable", err)
	}
	var n int
	if err := q.QueryRow(ctx, "SELECT 1/0").Scan(&n); err == nil || errors.Is(err, store.ErrUnavailable) {
		t.Errorf("division by zero: %v; want an error that is not ErrUnavailable", err)
	}
	if err := q.QueryRow(ctx, "SELECT pg_terminate_backend(pg_backend_pid())::int").Scan(&n); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("session terminated by the server: %v is not ErrUnavailable", err)
	}
	if _, err := q.Query(ctx, "SELECT 1"); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("query on the closed connection: %v is not ErrUnavailable", err)
	}
}
