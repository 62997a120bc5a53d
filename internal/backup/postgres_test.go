package backup_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/flywheel-ops/flywheel/internal/backup"
	"github.com/flywheel-ops/flywheel/internal/store"
	"github.com/flywheel-ops/flywheel/internal/testenv"
)

const pgAdmin = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// scratchDB creates a database of its own for the test and drops it (and
// any database named with it as a prefix) at cleanup.
func scratchDB(t *testing.T) string {
	t.Helper()
	testenv.Program(t, "postgresql-client", "pg_dump")
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pgAdmin)
	if err != nil {
		testenv.Absent(t, "no PostgreSQL at 127.0.0.1:5432: %v", err)
	}
	name := randomName("fwbk_")
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, pgAdmin)
		if err != nil {
			return
		}
		defer conn.Close(ctx)
		rows, _ := conn.Query(ctx, "SELECT datname FROM pg_database WHERE datname LIKE $1", name+"%")
		dbs, _ := pgx.CollectRows(rows, pgx.RowTo[string])
		for _, db := range dbs {
			if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)"); err != nil {
				t.Logf("drop %s: %v", db, err)
			}
		}
	})
	return name
}

func dbURL(db string) string { return strings.Replace(pgAdmin, "/test?", "/"+db+"?", 1) }

func pgPlan(db, dumpDir string) backup.Spec {
	return backup.Spec{
		Rules: []backup.Rule{{Name: "daily", Schedule: "cron(0 2 * * ? *)", Retention: "7d", ImmutableFor: "1d"}},
		Selections: []backup.Selection{{Name: "db", Method: backup.MethodPostgres, Resources: []string{"local"},
			Postgres: &backup.PostgresTarget{Database: db, Host: "127.0.0.1", Port: 5432, User: "postgres", DumpDir: dumpDir}}},
	}
}

// tableSum is an independent reading of a table: its row count and the
// SHA-256 of its rows in COPY text form, sorted, one per line.
func tableSum(t *testing.T, conn *pgx.Conn, table, columns string) backup.Table {
	t.Helper()
	var buf bytes.Buffer
	if _, err := conn.PgConn().CopyTo(context.Background(), &buf, fmt.Sprintf("COPY %s (%s) TO STDOUT", table, columns)); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if buf.Len() == 0 {
		lines = nil
	}
	slices.Sort(lines)
	h := sha256.New()
	for _, l := range lines {
		h.Write([]byte(l + "\n"))
	}
	return backup.Table{Rows: int64(len(lines)), SHA256: hex.EncodeToString(h.Sum(nil))}
}

// TestPostgresUnderWriteLoad backs a database up while writers commit
// pairs of rows (one in each table, in one transaction), restores the
// point into a new database, and reads the restored tables independently:
// counts and checksums equal the point's manifest exactly, and every pair
// is whole (the dump is one snapshot).
func TestPostgresUnderWriteLoad(t *testing.T) {
	db := scratchDB(t)
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, dbURL(db))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, `CREATE TABLE orders (id bigserial PRIMARY KEY, customer text NOT NULL, note text);
		CREATE TABLE order_lines (id bigserial PRIMARY KEY, order_id bigint NOT NULL REFERENCES orders, qty int NOT NULL);
		INSERT INTO orders (customer, note) SELECT 'c' || i, E'line\twith tab\nand newline ' || i FROM generate_series(1, 2000) i;
		INSERT INTO order_lines (order_id, qty) SELECT id, id % 7 FROM orders;`); err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	var commits atomic.Int64
	for w := 0; w < 3; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
					var id int64
					if err := tx.QueryRow(ctx, "INSERT INTO orders (customer) VALUES ($1) RETURNING id", fmt.Sprintf("w%d-%d", w, i)).Scan(&id); err != nil {
						return err
					}
					_, err := tx.Exec(ctx, "INSERT INTO order_lines (order_id, qty) VALUES ($1, $2)", id, i)
					return err
				})
				if err != nil {
					t.Errorf("writer: %v", err)
					return
				}
				commits.Add(1)
			}
		}()
	}
	// Let the writers run before and during the backup.
	for commits.Load() < 100 {
		time.Sleep(5 * time.Millisecond)
	}
	e := newEnv(t, time.Now)
	e.addPlan(t, "prod-db", pgPlan(db, t.TempDir()))
	before := commits.Load()
	pt, err := e.svc.Backup(ctx, tenant, "prod-db", "daily", "db", "local", "test")
	during := commits.Load() - before
	stop.Store(true)
	wg.Wait()
	if err != nil {
		t.Fatalf("backup: %v", err)
	}
	t.Logf("point %s: %d bytes in %s; %d transactions committed during the backup", pt.ID, pt.SizeBytes, pt.Duration, during)
	if during == 0 {
		t.Errorf("no writes committed during the backup; the test did not put it under load")
	}
	if pt.Status != store.PointAvailable || pt.SizeBytes == 0 || pt.Checksum == "" {
		t.Fatalf("point = %+v", pt)
	}
	stored, err := e.st.GetRecoveryPoint(ctx, tenant, pt.ID)
	if err != nil {
		t.Fatal(err)
	}
	manifest := tables(t, stored)
	if len(manifest) != 2 {
		t.Fatalf("manifest tables = %v, want orders and order_lines", manifest)
	}

	restored := db + "_restored"
	res, err := e.svc.Restore(ctx, tenant, pt.ID, restored, "test")
	if err != nil {
		t.Fatalf("restore: %v (%+v)", err, res)
	}
	t.Logf("restored in %s: %s", res.Duration, res.Detail)
	conn, err := pgx.Connect(ctx, dbURL(restored))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for table, cols := range map[string]string{"public.orders": "id, customer, note", "public.order_lines": "id, order_id, qty"} {
		got, want := tableSum(t, conn, table, cols), manifest[table]
		if got.Rows != want.Rows || got.SHA256 != want.SHA256 {
			t.Errorf("%s restored: %d rows %s; the point has %d rows %s", table, got.Rows, got.SHA256, want.Rows, want.SHA256)
		}
		var count int64
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&count); err != nil || count != want.Rows {
			t.Errorf("SELECT count(*) FROM %s = %d, %v; the point has %d", table, count, err, want.Rows)
		}
	}
	var orphans, lonely int64
	if err := conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM orders o WHERE NOT EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = o.id)),
		(SELECT count(*) FROM order_lines l WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = l.order_id))`).Scan(&orphans, &lonely); err != nil {
		t.Fatal(err)
	}
	if orphans != 0 || lonely != 0 {
		t.Errorf("restored database has %d orders without lines and %d lines without orders: not one snapshot", orphans, lonely)
	}
	var live int64
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM orders").Scan(&live); err != nil {
		t.Fatal(err)
	}
	if live <= manifest["public.orders"].Rows {
		t.Errorf("the live table has %d orders, the point %d: the writes after the snapshot should not be in it", live, manifest["public.orders"].Rows)
	}

	// A restore test of the point passes and marks it verified; once its
	// dump is altered, the next one fails and opens an OpsItem.
	rt, err := e.svc.TestRestore(ctx, tenant, "prod-db", "", "", "test")
	if err != nil || rt.Status != "passed" {
		t.Fatalf("restore test: %+v, %v", rt, err)
	}
	if p, _ := e.st.GetRecoveryPoint(ctx, tenant, pt.ID); p.Verification != store.VerifyPassed {
		t.Errorf("verification after a passed test = %s", p.Verification)
	}
	dump, err := os.ReadFile(pt.Location)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pt.Location, bytes.Replace(dump, []byte("\tc17\t"), []byte("\tc71\t"), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	rt, err = e.svc.TestRestore(ctx, tenant, "prod-db", pt.ID, "", "test")
	if err == nil || rt.Status != "failed" || rt.OpsItemID == "" {
		t.Fatalf("restore test of an altered dump: %+v, %v; want failed with an OpsItem", rt, err)
	}
	if p, _ := e.st.GetRecoveryPoint(ctx, tenant, pt.ID); p.Verification != store.VerifyFailed {
		t.Errorf("verification after a failed test = %s", p.Verification)
	}
	if items := e.opsItems(t); len(items) != 1 || items[0].Category != "backup" || items[0].ID != rt.OpsItemID {
		t.Errorf("OpsItems = %+v, want the restore test's", items)
	}
}

func tables(t *testing.T, p store.RecoveryPoint) map[string]backup.Table {
	t.Helper()
	out := map[string]backup.Table{}
	m, _ := p.Manifest["tables"].(map[string]any)
	for name, v := range m {
		f, _ := v.(map[string]any)
		rows, _ := f["rows"].(float64)
		sum, _ := f["sha256"].(string)
		out[name] = backup.Table{Rows: int64(rows), SHA256: sum}
	}
	return out
}
