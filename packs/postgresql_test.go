package packs_test

// The PostgreSQL pack's runbooks run for real here: the durable executor on
// SQLite, the exec action on the local target, psql against a private
// PostgreSQL started for the test (initdb into a temporary directory,
// pg_ctl on a free port), with each failure induced by the test.

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/flywheel-ops/flywheel/internal/execution"
	"github.com/flywheel-ops/flywheel/internal/jobs"
	"github.com/flywheel-ops/flywheel/internal/pack"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	actexec "github.com/flywheel-ops/flywheel/internal/runbook/action/exec"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/registry"
	"github.com/flywheel-ops/flywheel/internal/store"
	"github.com/flywheel-ops/flywheel/internal/store/sqlite/sqlitetest"
	"github.com/flywheel-ops/flywheel/internal/testenv"
	"github.com/flywheel-ops/flywheel/packs"
)

const tenant = "acme"

// pgBin finds PostgreSQL's server programs (Debian keeps them out of PATH).
func pgBin(t *testing.T) string {
	t.Helper()
	testenv.Program(t, "postgresql-client", "psql")
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(matches) == 0 {
		initdb := testenv.Program(t, "postgresql", "initdb")
		return filepath.Dir(initdb)
	}
	return filepath.Dir(matches[len(matches)-1])
}

// instance is a private PostgreSQL server.
type instance struct {
	bin, dir string
	port     int
}

// asPostgres runs a server program; PostgreSQL refuses to run as root,
// so as root it runs as the postgres system user.
func asPostgres(name string, args ...string) *exec.Cmd {
	if os.Geteuid() == 0 {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", name}, args...)...)
	}
	return exec.Command(name, args...)
}

func chownPostgres(t *testing.T, paths ...string) {
	t.Helper()
	if os.Geteuid() != 0 {
		return
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		testenv.Absent(t, "running as root and there is no postgres user to run PostgreSQL as: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	for _, p := range paths {
		if err := os.Chown(p, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startPostgres initdbs a new cluster with conf appended to its
// postgresql.conf and starts it on a free port; it is stopped when the
// test ends.
func startPostgres(t *testing.T, conf string) *instance {
	t.Helper()
	bin := pgBin(t)
	dir := dataDir(t)
	if out, err := asPostgres(filepath.Join(bin, "initdb"), "-D", dir, "-U", "postgres", "--auth=trust", "--no-sync").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	in := &instance{bin: bin, dir: dir, port: freePort(t)}
	base := fmt.Sprintf("listen_addresses = '127.0.0.1'\nport = %d\nunix_socket_directories = ''\nfsync = off\n", in.port)
	appendConf(t, dir, base+conf)
	in.start(t)
	return in
}

// dataDir makes an empty data directory the server's user owns.
func dataDir(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	// The server's user reaches the directory through the test's own.
	for _, d := range []string{filepath.Dir(root), root} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	dir := filepath.Join(root, "data")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	chownPostgres(t, dir)
	return dir
}

func appendConf(t *testing.T, dir, conf string) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(dir, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(conf); err != nil {
		t.Fatal(err)
	}
}

func (in *instance) start(t *testing.T) {
	t.Helper()
	log := filepath.Join(filepath.Dir(in.dir), "log-"+strconv.Itoa(in.port))
	if err := os.WriteFile(log, nil, 0o666); err != nil {
		t.Fatal(err)
	}
	chownPostgres(t, log)
	if out, err := asPostgres(filepath.Join(in.bin, "pg_ctl"), "-D", in.dir, "-l", log, "-w", "-t", "120", "start").CombinedOutput(); err != nil {
		b, _ := os.ReadFile(log)
		t.Fatalf("pg_ctl start: %v\n%s\n%s", err, out, b)
	}
	t.Cleanup(func() {
		if out, err := asPostgres(filepath.Join(in.bin, "pg_ctl"), "-D", in.dir, "-m", "immediate", "-w", "stop").CombinedOutput(); err != nil {
			t.Logf("pg_ctl stop: %v\n%s", err, out)
		}
	})
}

func (in *instance) connect(t *testing.T, role string) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(context.Background(), fmt.Sprintf("postgres://%s@127.0.0.1:%d/postgres?sslmode=disable", role, in.port))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

func (in *instance) params(extra map[string]any) map[string]any {
	p := map[string]any{"host": "127.0.0.1", "port": in.port, "user": "postgres", "database": "postgres"}
	for k, v := range extra {
		p[k] = v
	}
	return p
}

func mustExec(t *testing.T, c *pgx.Conn, sql string, args ...any) {
	t.Helper()
	if _, err := c.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func queryInt(t *testing.T, c *pgx.Conn, sql string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := c.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func backendPID(t *testing.T, c *pgx.Conn) int64 {
	return queryInt(t, c, "SELECT pg_backend_pid()")
}

// harness runs the pack's runbooks through the executor.
type harness struct {
	st store.Store
	x  *execution.Executor
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	ctx := context.Background()
	p, ok := pack.Find("postgresql")
	if !ok {
		all, err := pack.ReadCatalogue(packs.FS)
		t.Fatalf("no postgresql pack in the catalogue (%d packs): %v", len(all), err)
	}
	set, err := p.Load(tenant)
	if err != nil {
		t.Fatal(err)
	}
	st := sqlitetest.Open(t)
	if err := st.InTx(ctx, func(tx store.Tx) error {
		return tx.CreateTenant(ctx, store.Tenant{ID: tenant, Name: "ACME", CreatedAt: time.Now().UTC()})
	}); err != nil {
		t.Fatal(err)
	}
	reg := registry.New(registry.Options{Exec: actexec.Options{AllowLocal: true}})
	lib, err := runbook.NewLibrary(set, reg.Get)
	if err != nil {
		t.Fatal(err)
	}
	q, err := jobs.New(ctx, st, jobs.Options{Logger: slog.New(slog.DiscardHandler), PollInterval: 20 * time.Millisecond, HardStopTimeout: 2 * time.Second, Workers: 4})
	if err != nil {
		t.Fatal(err)
	}
	x, err := execution.New(execution.Options{Store: st, Queue: q, Runbooks: lib, Actions: reg.Get, LeaseTTL: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := x.Register(q); err != nil {
		t.Fatal(err)
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = q.Stop(ctx)
	})
	return &harness{st: st, x: x}
}

// start starts runbook name on the local target for a new OpsItem.
func (h *harness) start(t *testing.T, name string, params map[string]any) (string, string) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	o := store.OpsItem{ID: store.NewID("oi", now), TenantID: tenant, Title: "PostgreSQL: " + name, Category: "availability", Severity: "high",
		Status: "open", Source: "prometheus", CreatedAt: now, UpdatedAt: now}
	var id string
	err := h.st.InTx(ctx, func(tx store.Tx) error {
		if err := tx.CreateOpsItem(ctx, o); err != nil {
			return err
		}
		var err error
		id, err = h.x.Start(ctx, tx, runbook.StartRequest{TenantID: tenant, Runbook: name, Parameters: params, Targets: []string{actexec.LocalTarget},
			Mode: runbook.ModeAuto, StartedBy: "rule:test", Rule: "test", OpsItemID: o.ID})
		return err
	})
	if err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	return id, o.ID
}

// wait waits until execution id is in one of statuses.
func (h *harness) wait(t *testing.T, id string, done func(status string) bool) store.Execution {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		e, err := h.st.GetExecution(context.Background(), tenant, id)
		if err != nil {
			t.Fatal(err)
		}
		if done(e.Status) {
			return e
		}
		if time.Now().After(deadline) {
			t.Fatalf("execution %s still %s", id, e.Status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// run runs name to its end; it returns the execution and the stdout of
// each exec step on the local target, by step name.
func (h *harness) run(t *testing.T, name string, params map[string]any) (store.Execution, map[string]string) {
	t.Helper()
	id, _ := h.start(t, name, params)
	e := h.wait(t, id, runbook.IsTerminal)
	return e, h.stdout(t, e)
}

func (h *harness) stdout(t *testing.T, e store.Execution) map[string]string {
	t.Helper()
	rows, err := h.st.ListExecutionSteps(context.Background(), tenant, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range rows {
		if r.TargetID != actexec.LocalTarget {
			continue
		}
		var o struct {
			Stdout string `json:"stdout"`
			Stderr string `json:"stderr"`
		}
		_ = json.Unmarshal(r.Outputs, &o)
		out[r.Name] = o.Stdout
		if o.Stderr != "" {
			out[r.Name+".stderr"] = o.Stderr
		}
		if r.Error != "" {
			out[r.Name+".error"] = r.Error
		}
	}
	return out
}

func mustSucceed(t *testing.T, e store.Execution, out map[string]string) {
	t.Helper()
	if e.Status != runbook.StatusSucceeded {
		t.Fatalf("%s: %s (%s)\n%v", e.Runbook, e.Status, e.Error, out)
	}
}

// section returns the lines of report under "== title ==" up to the next
// section.
func section(report, title string) string {
	_, after, ok := strings.Cut(report, "== "+title+" ==\n")
	if !ok {
		return ""
	}
	s, _, _ := strings.Cut(after, "\n==")
	return s
}

// row finds the line of an aligned psql table whose cells include every
// one of cells, trimmed, in order of columns; it returns the line's cells.
func row(table string, cells ...string) []string {
	for _, line := range strings.Split(table, "\n") {
		parts := strings.Split(line, "|")
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		have := map[string]bool{}
		for _, p := range parts {
			have[p] = true
		}
		all := true
		for _, c := range cells {
			all = all && have[c]
		}
		if all {
			return parts
		}
	}
	return nil
}
