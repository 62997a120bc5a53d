package app

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/client"
	"github.com/flywheel-ops/flywheel/internal/config"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/store"
	"github.com/flywheel-ops/flywheel/internal/testenv"
)

const e2ePG = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// TestBackupOnRealAgent is the backup flywheel end to end on this machine:
// a BackupPlan in the content directory, a real agent process, the CLI.
// `flywheel backup run` opens the plan's windows now; the agent dumps a
// PostgreSQL database (pre/post hooks around it) and snapshots files
// with restic; the restore test and a restore into a new database
// match the point; then the DR drill runbook restores the point to a new
// PostgreSQL instance, switches the application's connection to it and
// back, and reports its RTO. The repository password is in nothing the
// API answers.
func TestBackupOnRealAgent(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs an agent process")
	}
	testenv.Program(t, "restic", "restic")
	testenv.Program(t, "postgresql-client", "pg_dump")
	initdb := testenv.Program(t, "postgresql", "/usr/lib/postgresql/15/bin/initdb", "initdb")
	ctx := context.Background()
	db := e2eDatabase(t)
	bin := flywheelBinary(t)

	const password = "e2e restic password 7f3a"
	t.Setenv("FW_E2E_RESTIC_PASSWORD", password)
	work := t.TempDir()
	src, hooks, dumps := filepath.Join(work, "src"), filepath.Join(work, "hooks"), filepath.Join(work, "dumps")
	for _, d := range []string{src, hooks} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(src, "site.conf"), []byte("listen 80;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	plan := fmt.Sprintf(`apiVersion: flywheel/v1
kind: BackupPlan
metadata: {name: nightly}
spec:
  repository: {url: %s, password_env: FW_E2E_RESTIC_PASSWORD}
  rules:
    - {name: daily, schedule: "cron(0 2 * * ? *)", start_window: 1h, completion_window: 2h, retention: 7d, immutable_for: 1d}
  selections:
    - name: db
      method: postgres
      tags: {fleet: bk}
      postgres: {database: %s, host: 127.0.0.1, port: 5432, user: postgres, dump_dir: %s}
      pre_hook: echo "CHECKPOINT before the dump" > %s/pre
      post_hook: echo done > %s/post
    - {name: files, method: restic, tags: {fleet: bk}, paths: [%s]}
`, filepath.Join(work, "repo"), db, dumps, hooks, hooks, src)
	contentDir, dataDir := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(contentDir, "nightly.yaml"), []byte(plan), 0o600); err != nil {
		t.Fatal(err)
	}
	a := startApp(t, config.Config{DataDir: dataDir, ContentDir: contentDir, MaintenanceTick: 200 * time.Millisecond}, &bytes.Buffer{})
	server := "http://" + a.Addr()
	adminB, err := os.ReadFile(filepath.Join(dataDir, AdminTokenFile))
	if err != nil {
		t.Fatal(err)
	}
	admin := strings.TrimSpace(string(adminB))
	c := client.New(server, admin)
	host := enrollAgents(t, bin, server, admin, "bk", 1)["1"]
	cli := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(bin, append(args, "--server", server, "--token", admin)...).CombinedOutput()
		if err != nil {
			t.Fatalf("flywheel %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}

	out := cli("backup", "run", "nightly", "--rule", "daily")
	if strings.Count(out, "started") != 2 {
		t.Fatalf("backup run started %q, want the db and files windows", out)
	}
	points := map[string]store.RecoveryPoint{}
	waitFor(t, 90*time.Second, "a point of each selection", func() bool {
		var l api.List[store.RecoveryPoint]
		if err := c.Do(ctx, "GET", "/api/v1/backup/points?plan=nightly", nil, &l); err != nil {
			t.Fatal(err)
		}
		for _, p := range l.Items {
			if p.Status == store.PointFailed {
				t.Fatalf("point failed: %+v", p)
			}
			points[p.Method] = p
		}
		return len(points) == 2
	})
	pg, files := points["postgres"], points["restic"]
	if pg.ResourceID != host || files.ResourceID != host || pg.SizeBytes == 0 || files.Manifest["files"] != float64(1) {
		t.Errorf("points = %+v", points)
	}
	for _, f := range []string{"pre", "post"} {
		if _, err := os.Stat(filepath.Join(hooks, f)); err != nil {
			t.Errorf("the %s-hook did not run on the host: %v", f, err)
		}
	}

	out = cli("backup", "test", "nightly", "--point", pg.ID)
	if !strings.Contains(out, "passed") || !strings.Contains(out, "row counts and checksums equal the point's") {
		t.Errorf("backup test: %s", out)
	}
	out = cli("backup", "test", "nightly", "--point", files.ID)
	if !strings.Contains(out, "passed") {
		t.Errorf("backup test of the files: %s", out)
	}
	restored := db + "_restored"
	out = cli("backup", "restore", pg.ID, "--to", restored)
	if !strings.Contains(out, "passed") {
		t.Errorf("backup restore: %s", out)
	}
	if n := e2eCount(t, restored); n != 250 {
		t.Errorf("the restored database has %d orders, want 250", n)
	}
	out = cli("backup", "plan", "nightly")
	if !strings.Contains(out, host) || !strings.Contains(out, "passed") {
		t.Errorf("backup plan nightly:\n%s", out)
	}

	// The DR drill: restore to a new instance, switch the application
	// there and back.
	conf := filepath.Join(work, "app.env")
	original := fmt.Sprintf("APP_NAME=shop\nDATABASE_URL=postgres://postgres@127.0.0.1:5432/%s?sslmode=disable\n", db)
	if err := os.WriteFile(conf, []byte(original), 0o644); err != nil {
		t.Fatal(err)
	}
	port := e2eFreePort(t)
	var ex store.Execution
	if err := c.Do(ctx, "POST", "/api/v1/runbooks/backup-dr-drill-postgres/executions", api.RunInput{Targets: []string{host},
		Parameters: map[string]any{"dump": pg.Location, "sha256": pg.Checksum, "database": db, "port": port, "app_config": conf,
			"health_query": "SELECT count(*) FROM orders", "bin_dir": filepath.Dir(initdb)}}, &ex); err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	var view api.ExecutionView
	waitFor(t, 3*time.Minute, "the DR drill", func() bool {
		if err := c.Do(ctx, "GET", "/api/v1/executions/"+ex.ID, nil, &view); err != nil {
			t.Fatal(err)
		}
		return runbook.IsTerminal(view.Status)
	})
	wall := time.Since(started)
	var outputs struct {
		RTO string `json:"rto_seconds"`
	}
	_ = json.Unmarshal(view.Outputs, &outputs)
	rto, err := strconv.ParseFloat(outputs.RTO, 64)
	if view.Status != runbook.StatusSucceeded || err != nil || rto <= 0 || rto > wall.Seconds() {
		var logs json.RawMessage
		_ = c.Do(ctx, "GET", "/api/v1/executions/"+ex.ID+"/logs", nil, &logs)
		t.Fatalf("DR drill %s, rto %q (wall %s): %v\n%s", view.Status, outputs.RTO, wall, err, logs)
	}
	t.Logf("DR drill: RTO %.3f s (restore to a new instance until the application's health check passed there); drill %s in all", rto, wall.Round(time.Millisecond))
	if b, _ := os.ReadFile(conf); string(b) != original {
		t.Errorf("the application's connection after the drill:\n%s", b)
	}
	if _, err := os.Stat(fmt.Sprintf("/var/tmp/flywheel-dr-%d", port)); !os.IsNotExist(err) {
		t.Errorf("the drill's instance was not removed: %v", err)
	}

	// The repository password is in no answer of the API.
	for _, path := range []string{"/api/v1/audit?limit=500", "/api/v1/commands?limit=500", "/api/v1/executions?limit=500",
		"/api/v1/backup/points", "/api/v1/backup/restore-tests", "/api/v1/opsitems"} {
		var raw json.RawMessage
		if err := c.Do(ctx, "GET", path, nil, &raw); err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(raw, []byte(password)) {
			t.Errorf("%s shows the repository password", path)
		}
	}
}

// e2eDatabase creates a database of 250 orders for the test and drops it
// and its restored copy at cleanup.
func e2eDatabase(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, e2ePG)
	if err != nil {
		testenv.Absent(t, "no PostgreSQL at 127.0.0.1:5432: %v", err)
	}
	defer conn.Close(ctx)
	var b [5]byte
	_, _ = rand.Read(b[:])
	db := "fwe2e_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+db); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, e2ePG)
		if err != nil {
			return
		}
		defer conn.Close(ctx)
		for _, d := range []string{db, db + "_restored"} {
			_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+d+" WITH (FORCE)")
		}
	})
	app, err := pgx.Connect(ctx, strings.Replace(e2ePG, "/test?", "/"+db+"?", 1))
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close(ctx)
	if _, err := app.Exec(ctx, `CREATE TABLE orders (id serial PRIMARY KEY, item text NOT NULL);
		INSERT INTO orders (item) SELECT 'item ' || i FROM generate_series(1, 250) i`); err != nil {
		t.Fatal(err)
	}
	return db
}

func e2eCount(t *testing.T, db string) int64 {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, strings.Replace(e2ePG, "/test?", "/"+db+"?", 1))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int64
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM orders").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func e2eFreePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
