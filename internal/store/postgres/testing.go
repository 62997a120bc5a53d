package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/flywheel-ops/flywheel/internal/testenv"
)

// DefaultTestURL is the local server CI provides.
const DefaultTestURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// TestURL returns TEST_DATABASE_URL or the local default.
func TestURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultTestURL
}

// TestStore is a Store in a schema of its own, dropped at test cleanup.
type TestStore struct {
	*Store
	schema string
}

// Schema returns the test's schema name.
func (s *TestStore) Schema() string { return s.schema }

// OpenTest opens a store in a fresh schema for t. It skips the test only
// when no PostgreSQL server answers at TestURL, and fails then in CI
// (internal/testenv).
func OpenTest(t testing.TB) *TestStore {
	t.Helper()
	url := TestURL()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		testenv.Absent(t, "no PostgreSQL at %s (set TEST_DATABASE_URL): %v", url, err)
	}
	conn.Close(ctx)
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "fwtest_" + hex.EncodeToString(b[:])
	s, err := Open(context.Background(), url, Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close()
		if err := DropSchema(context.Background(), url, schema); err != nil {
			t.Logf("drop schema %s: %v", schema, err)
		}
	})
	return &TestStore{Store: s, schema: schema}
}

// TestDatabase creates a database of t's own on the server at TestURL and
// returns its URL; it is dropped at test cleanup (with whatever is still
// connected to it). For tests that run whole servers, which take a
// database rather than a schema. It skips (fails in CI) as OpenTest does.
func TestDatabase(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	base := TestURL()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		testenv.Absent(t, "no PostgreSQL at %s (set TEST_DATABASE_URL): %v", base, err)
	}
	defer conn.Close(ctx)
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "fwtest_db_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop database %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}
