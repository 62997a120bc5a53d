package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
)

func openCached(t *testing.T) *sql.DB {
	t.Helper()
	db := openDB("file:" + filepath.Join(t.TempDir(), "cache.db"))
	db.SetMaxOpenConns(1) // one connection, so every query meets the same cache
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec("CREATE TABLE kv (k INTEGER PRIMARY KEY, v TEXT NOT NULL); CREATE TABLE other (x INTEGER)"); err != nil {
		t.Fatal(err)
	}
	return db
}

// A statement whose rows are still open is in use: running the same query
// again, nested, must not reset the outer cursor.
func TestStmtCacheNestedSameQuery(t *testing.T) {
	db := openCached(t)
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	for i := range 5 {
		if _, err := tx.Exec("INSERT INTO kv (k, v) VALUES ($1, $2)", i, fmt.Sprint("v", i)); err != nil {
			t.Fatal(err)
		}
	}
	const q = "SELECT k, v FROM kv WHERE k >= $1 ORDER BY k"
	outer, err := tx.Query(q, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for outer.Next() {
		var k int
		var v string
		if err := outer.Scan(&k, &v); err != nil {
			t.Fatal(err)
		}
		got = append(got, k)
		var n int
		if err := tx.QueryRow("SELECT COUNT(*) FROM kv WHERE k >= $1", k).Scan(&n); err != nil {
			t.Fatal(err)
		}
		inner, err := tx.Query(q, k) // the same text as the open outer query
		if err != nil {
			t.Fatal(err)
		}
		m := 0
		for inner.Next() {
			m++
		}
		inner.Close()
		if m != n || n != 5-k {
			t.Fatalf("inner query at k=%d saw %d rows, count %d", k, m, n)
		}
	}
	if err := outer.Err(); err != nil {
		t.Fatal(err)
	}
	outer.Close()
	if fmt.Sprint(got) != "[0 1 2 3 4]" {
		t.Fatalf("outer rows = %v", got)
	}
}

// More distinct queries than the cache holds still run correctly, before
// and after eviction, including one evicted while its rows are open.
func TestStmtCacheEviction(t *testing.T) {
	db := openCached(t)
	if _, err := db.Exec("INSERT INTO kv (k, v) VALUES (1, 'one'), (2, 'two')"); err != nil {
		t.Fatal(err)
	}
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	open, err := tx.Query("SELECT v FROM kv ORDER BY k")
	if err != nil {
		t.Fatal(err)
	}
	var first, second string
	if !open.Next() {
		t.Fatal("no rows")
	}
	if err := open.Scan(&first); err != nil {
		t.Fatal(err)
	}
	for round := range 2 {
		for i := range stmtCacheSize * 2 {
			var v string
			err := tx.QueryRow(fmt.Sprintf("SELECT v FROM kv WHERE k = $1 AND %d = %d", i, i), 1+i%2).Scan(&v)
			if err != nil {
				t.Fatalf("round %d query %d: %v", round, i, err)
			}
			if want := []string{"one", "two"}[i%2]; v != want {
				t.Fatalf("round %d query %d = %q, want %q", round, i, v, want)
			}
		}
	}
	// The open query's statement was evicted meanwhile; its rows still read.
	if !open.Next() {
		t.Fatalf("second row missing: %v", open.Err())
	}
	if err := open.Scan(&second); err != nil {
		t.Fatal(err)
	}
	if open.Next() {
		t.Fatal("a third row")
	}
	open.Close()
	if first != "one" || second != "two" {
		t.Fatalf("rows = %q, %q", first, second)
	}
	var n int
	if err := tx.QueryRow("SELECT COUNT(*) FROM kv").Scan(&n); err != nil || n != 2 {
		t.Fatalf("count = %d, %v", n, err)
	}
}

// Errors come back from a cached statement as from the driver, and the
// statement stays usable.
func TestStmtCacheErrors(t *testing.T) {
	db := openCached(t)
	const ins = "INSERT INTO kv (k, v) VALUES ($1, $2)"
	if _, err := db.Exec(ins, 1, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ins, 1, "b"); err == nil {
		t.Fatal("duplicate key: no error")
	}
	if _, err := db.Exec(ins, 2, "b"); err != nil {
		t.Fatalf("after an error: %v", err)
	}
	if _, err := db.Exec("INSERT INTO nosuch VALUES (1)"); err == nil {
		t.Fatal("no such table: no error")
	}
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM kv").Scan(&n); err != nil || n != 2 {
		t.Fatalf("count = %d, %v", n, err)
	}
}
