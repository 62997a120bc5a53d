package packs_test

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/flywheel-ops/flywheel/internal/execution"
	"github.com/flywheel-ops/flywheel/internal/runbook"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// Connections near max: sessions of one role idle in a transaction hold
// connections; the report counts them against max_connections and lists
// them; the policy runbook terminates those idle past the limit, and only
// those (idle sessions and other roles' stay).
func TestPostgresConnectionsNearMax(t *testing.T) {
	t.Parallel()
	pg := startPostgres(t, "max_connections = 20\n")
	h := newHarness(t)
	admin := pg.connect(t, "postgres")
	mustExec(t, admin, "CREATE ROLE app LOGIN")
	var held []*pgx.Conn
	var heldPIDs []string
	for range 4 {
		c := pg.connect(t, "app")
		mustExec(t, c, "BEGIN")
		mustExec(t, c, "SELECT 1")
		held = append(held, c)
		heldPIDs = append(heldPIDs, strconv.FormatInt(backendPID(t, c), 10))
	}
	idle := pg.connect(t, "app")
	idlePID := backendPID(t, idle)
	other := pg.connect(t, "postgres")
	mustExec(t, other, "BEGIN")
	mustExec(t, other, "SELECT 1")
	otherPID := backendPID(t, other)
	time.Sleep(2 * time.Second) // older than min_idle below

	e, out := h.run(t, "postgres-connection-report", pg.params(nil))
	mustSucceed(t, e, out)
	report := out["report"]
	conns := section(report, "connections")
	if r := row(conns, "20"); r == nil {
		t.Errorf("the report does not give max_connections 20:\n%s", conns)
	}
	if r := row(section(report, "by state"), "idle in transaction", "5"); r == nil {
		t.Errorf("the report does not count 5 sessions idle in a transaction:\n%s", report)
	}
	iit := section(report, "idle in transaction, longest first")
	for _, pid := range heldPIDs {
		if row(iit, pid, "app") == nil {
			t.Errorf("session %s (app, idle in transaction) is not listed:\n%s", pid, iit)
		}
	}

	e, out = h.run(t, "postgres-terminate-idle-in-transaction", pg.params(map[string]any{"min_idle": "1s", "role": "app"}))
	mustSucceed(t, e, out)
	if !strings.HasPrefix(out["check"], "remaining 0") {
		t.Errorf("check: %q", out["check"])
	}
	for _, pid := range heldPIDs {
		if row(section(out["terminate"], "terminated"), pid, "app", "t") == nil {
			t.Errorf("session %s is not listed as terminated:\n%s", pid, out["terminate"])
		}
	}
	ctx := context.Background()
	for i, c := range held {
		if _, err := c.Exec(ctx, "SELECT 1"); err == nil {
			t.Errorf("session %s still answers after it was terminated", heldPIDs[i])
		}
	}
	if n := queryInt(t, admin, "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1)", []int64{idlePID, otherPID}); n != 2 {
		t.Errorf("%d of the idle session and the other role's session are left; want both", n)
	}
	if _, err := other.Exec(ctx, "COMMIT"); err != nil {
		t.Errorf("the other role's transaction: %v", err)
	}
}

// Lock waits: a transaction holds a row lock and another session waits on
// it. The lock report names the waiter and its blocker on one row;
// terminating the blocker (after approval) lets the waiter finish.
func TestPostgresLockWait(t *testing.T) {
	t.Parallel()
	pg := startPostgres(t, "")
	h := newHarness(t)
	ctx := context.Background()
	admin := pg.connect(t, "postgres")
	mustExec(t, admin, "CREATE TABLE accounts (id int PRIMARY KEY, balance int)")
	mustExec(t, admin, "INSERT INTO accounts VALUES (1, 100)")
	blocker := pg.connect(t, "postgres")
	mustExec(t, blocker, "BEGIN")
	mustExec(t, blocker, "UPDATE accounts SET balance = balance - 10 WHERE id = 1")
	waiter := pg.connect(t, "postgres")
	blockerPID, waiterPID := backendPID(t, blocker), backendPID(t, waiter)
	done := make(chan error, 1)
	go func() {
		_, err := waiter.Exec(ctx, "UPDATE accounts SET balance = balance + 10 WHERE id = 1")
		done <- err
	}()
	deadline := time.Now().Add(30 * time.Second)
	for queryInt(t, admin, "SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY (pg_blocking_pids(pid))", blockerPID) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the second update never waited on the first")
		}
		time.Sleep(50 * time.Millisecond)
	}

	e, out := h.run(t, "postgres-lock-report", pg.params(nil))
	mustSucceed(t, e, out)
	waits := section(out["report"], "lock waits: each waiting session and the session blocking it")
	r := row(waits, strconv.FormatInt(waiterPID, 10), strconv.FormatInt(blockerPID, 10))
	if r == nil || r[0] != strconv.FormatInt(waiterPID, 10) || r[3] != strconv.FormatInt(blockerPID, 10) || r[5] != "idle in transaction" {
		t.Fatalf("the report does not name waiter %d blocked by %d (idle in transaction):\n%s", waiterPID, blockerPID, out["report"])
	}
	if row(section(out["report"], "longest-running transactions"), strconv.FormatInt(blockerPID, 10)) == nil {
		t.Errorf("the blocker's transaction is not among the longest-running:\n%s", out["report"])
	}

	id, _ := h.start(t, "postgres-terminate-backend", pg.params(map[string]any{"pid": blockerPID, "reason": "blocks account 1"}))
	e = h.wait(t, id, func(s string) bool { return s == runbook.StatusWaitingApproval || runbook.IsTerminal(s) })
	if e.Status != runbook.StatusWaitingApproval {
		t.Fatalf("terminate-backend: %s (%s), want it waiting for approval", e.Status, e.Error)
	}
	select {
	case err := <-done:
		t.Fatalf("the waiter finished before the blocker was terminated: %v", err)
	default:
	}
	if _, err := h.x.Approve(ctx, tenant, id, execution.Approver{Actor: "token:tok_op", Name: "op", Role: store.RoleOperator}, "ok"); err != nil {
		t.Fatal(err)
	}
	e = h.wait(t, id, runbook.IsTerminal)
	out = h.stdout(t, e)
	mustSucceed(t, e, out)
	if r := row(out["show"], strconv.FormatInt(blockerPID, 10)); r == nil || r[len(r)-1] != "1" {
		t.Errorf("show does not count the one session blocked:\n%s", out["show"])
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("the waiter's update: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the waiter still waits after the blocker was terminated")
	}
	if b := queryInt(t, admin, "SELECT balance FROM accounts WHERE id = 1"); b != 110 {
		t.Errorf("balance %d, want 110: the blocker's update rolled back, the waiter's applied", b)
	}
}

// Bloat: a table with autovacuum off piles up dead tuples. The report
// lists it with its dead tuples and among the tables with autovacuum off;
// vacuuming it while an old snapshot holds back cleanup is ineffective
// (and the report names the holder), and once that ends the vacuum clears
// them.
func TestPostgresVacuum(t *testing.T) {
	t.Parallel()
	pg := startPostgres(t, "")
	h := newHarness(t)
	admin := pg.connect(t, "postgres")
	mustExec(t, admin, "CREATE TABLE events (id int PRIMARY KEY, body text) WITH (autovacuum_enabled = false)")
	holder := pg.connect(t, "postgres")
	mustExec(t, holder, "BEGIN ISOLATION LEVEL REPEATABLE READ")
	mustExec(t, holder, "SELECT count(*) FROM pg_class")
	holderPID := backendPID(t, holder)
	mustExec(t, admin, "INSERT INTO events SELECT g, 'x' FROM generate_series(1, 10000) g")
	mustExec(t, admin, "DELETE FROM events WHERE id % 2 = 0")
	deadline := time.Now().Add(30 * time.Second)
	for queryInt(t, admin, "SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'events'") < 5000 {
		if time.Now().After(deadline) {
			t.Fatal("the deleted rows never showed as dead tuples")
		}
		mustExec(t, admin, "SELECT pg_stat_force_next_flush()")
		time.Sleep(100 * time.Millisecond)
	}

	e, out := h.run(t, "postgres-vacuum-report", pg.params(nil))
	mustSucceed(t, e, out)
	report := out["report"]
	if r := row(section(report, "tables by dead tuples"), "public.events", "5000", "5000"); r == nil || r[3] != "50.0" {
		t.Errorf("public.events with 5000 live and 5000 dead tuples (50%%) is not listed:\n%s", report)
	}
	if row(section(report, "tables with autovacuum turned off"), "events", "autovacuum_enabled=false") == nil {
		t.Errorf("events is not listed with autovacuum off:\n%s", report)
	}
	if row(section(report, "what holds back cleanup: oldest snapshots"), strconv.FormatInt(holderPID, 10)) == nil {
		t.Errorf("the snapshot holder %d is not named:\n%s", holderPID, report)
	}

	e, out = h.run(t, "postgres-vacuum-table", pg.params(map[string]any{"table": "public.events"}))
	if e.Status != runbook.StatusIneffective || !strings.Contains(out["vacuum"], "dead tuples after: 5000") {
		t.Fatalf("vacuum while a snapshot holds back cleanup: %s (%s)\n%v", e.Status, e.Error, out)
	}
	mustExec(t, holder, "COMMIT")
	e, out = h.run(t, "postgres-vacuum-table", pg.params(map[string]any{"table": "public.events"}))
	mustSucceed(t, e, out)
	if !strings.Contains(out["vacuum"], "dead tuples before: 5000") || !strings.Contains(out["vacuum"], "dead tuples after: 0") {
		t.Errorf("vacuum output:\n%s", out["vacuum"])
	}
	if n := queryInt(t, admin, "SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'events'"); n != 0 {
		t.Errorf("n_dead_tup = %d after the vacuum", n)
	}
	e, out = h.run(t, "postgres-vacuum-table", pg.params(map[string]any{"table": "public.no_such_table"}))
	if e.Status != runbook.StatusFailed || !strings.Contains(out["vacuum.stderr"], `relation "public.no_such_table" does not exist`) {
		t.Errorf("a table that does not exist: %s\n%v", e.Status, out)
	}
}

// WAL archiving stuck: archive_command fails, so completed segments wait
// in pg_wal. The report says archiving is failing, with the failures and
// the segments waiting.
func TestPostgresWALArchiving(t *testing.T) {
	t.Parallel()
	pg := startPostgres(t, "archive_mode = on\narchive_command = '/bin/false'\n")
	h := newHarness(t)
	admin := pg.connect(t, "postgres")
	mustExec(t, admin, "CREATE TABLE t AS SELECT g FROM generate_series(1, 1000) g")
	mustExec(t, admin, "SELECT pg_switch_wal()")
	deadline := time.Now().Add(60 * time.Second)
	for queryInt(t, admin, "SELECT failed_count FROM pg_stat_archiver") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("archiving never failed")
		}
		time.Sleep(200 * time.Millisecond)
	}
	e, out := h.run(t, "postgres-wal-report", pg.params(nil))
	mustSucceed(t, e, out)
	m := regexp.MustCompile(`(?m)^archiving: FAILING - (\d+) failures, last at .* on ([0-9A-F]{24})$`).FindStringSubmatch(out["report"])
	if m == nil {
		t.Fatalf("the report does not say archiving fails:\n%s", out["report"])
	}
	var failedWAL string
	if err := admin.QueryRow(context.Background(), "SELECT last_failed_wal FROM pg_stat_archiver").Scan(&failedWAL); err != nil || failedWAL != m[2] {
		t.Errorf("last failed WAL %s in the report, %s in pg_stat_archiver (%v)", m[2], failedWAL, err)
	}
	w := regexp.MustCompile(`(?m)^segments waiting to be archived: (\d+)$`).FindStringSubmatch(out["report"])
	if n, _ := strconv.Atoi(w[1]); w == nil || n < 1 {
		t.Errorf("segments waiting: %v\n%s", w, out["report"])
	}
	if row(section(out["report"], "archiver"), "on", "/bin/false") == nil {
		t.Errorf("the archiver section does not show archive_mode and archive_command:\n%s", out["report"])
	}

	// A server whose archiving works says so.
	ok := startPostgres(t, "archive_mode = on\narchive_command = '/bin/true'\n")
	c := ok.connect(t, "postgres")
	mustExec(t, c, "SELECT pg_switch_wal()")
	e, out = h.run(t, "postgres-wal-report", ok.params(nil))
	mustSucceed(t, e, out)
	if !strings.Contains(out["report"], "\narchiving: ok\n") && !strings.HasPrefix(out["report"], "archiving: ok\n") {
		t.Errorf("working archiving:\n%s", out["report"])
	}
}

// Checkpoint tuning: with a small max_wal_size, a bulk load makes WAL
// volume request checkpoints before checkpoint_timeout; the report counts
// them from pg_stat_bgwriter and suggests raising max_wal_size.
func TestPostgresCheckpointTuning(t *testing.T) {
	t.Parallel()
	pg := startPostgres(t, "max_wal_size = 32MB\nmin_wal_size = 32MB\ncheckpoint_timeout = 1h\n")
	h := newHarness(t)
	admin := pg.connect(t, "postgres")
	e, out := h.run(t, "postgres-checkpoint-report", pg.params(nil))
	mustSucceed(t, e, out)
	if !strings.Contains(out["report"], "suggestions: none") {
		t.Errorf("a new server gets suggestions:\n%s", out["report"])
	}
	before := queryInt(t, admin, "SELECT checkpoints_req FROM pg_stat_bgwriter")
	mustExec(t, admin, "CREATE TABLE load (id int, body text)")
	mustExec(t, admin, "INSERT INTO load SELECT g, repeat('x', 400) FROM generate_series(1, 200000) g")
	deadline := time.Now().Add(60 * time.Second)
	for queryInt(t, admin, "SELECT checkpoints_req FROM pg_stat_bgwriter") < before+2 {
		if time.Now().After(deadline) {
			t.Fatal("the load requested fewer than two checkpoints")
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Checkpoints the load requested may still be finishing, so the
	// counters are read before and after the report and the run is taken
	// only when they did not move in between.
	var req, timed int64
	for attempt := 0; ; attempt++ {
		req = queryInt(t, admin, "SELECT checkpoints_req FROM pg_stat_bgwriter")
		timed = queryInt(t, admin, "SELECT checkpoints_timed FROM pg_stat_bgwriter")
		e, out = h.run(t, "postgres-checkpoint-report", pg.params(nil))
		mustSucceed(t, e, out)
		if queryInt(t, admin, "SELECT checkpoints_req FROM pg_stat_bgwriter") == req &&
			queryInt(t, admin, "SELECT checkpoints_timed FROM pg_stat_bgwriter") == timed {
			break
		}
		if attempt == 20 {
			t.Fatal("checkpoints kept being counted during every report")
		}
		time.Sleep(500 * time.Millisecond)
	}
	want := fmt.Sprintf("suggestion: %d of %d checkpoints were requested, not timed: WAL reaches max_wal_size (32MB) before checkpoint_timeout (1h); raise max_wal_size", req, req+timed)
	if !strings.Contains(out["report"], want) {
		t.Errorf("the report lacks %q:\n%s", want, out["report"])
	}
	if r := row(section(out["report"], "checkpoints"), strconv.FormatInt(timed, 10), strconv.FormatInt(req, 10)); r == nil {
		t.Errorf("the checkpoints section does not give %d timed and %d requested:\n%s", timed, req, out["report"])
	}
}

// Replication lag: a streaming replica made with pg_basebackup. On the
// primary the report lists it streaming with its lag; on the replica it
// says so and shows what it has received and replayed.
func TestPostgresReplication(t *testing.T) {
	t.Parallel()
	primary := startPostgres(t, "")
	h := newHarness(t)
	e, out := h.run(t, "postgres-replication-report", primary.params(nil))
	mustSucceed(t, e, out)
	if !strings.Contains(out["report"], "replicas streaming: 0 of 0") {
		t.Errorf("a primary without replicas:\n%s", out["report"])
	}
	replica := primary.basebackup(t)
	admin := primary.connect(t, "postgres")
	deadline := time.Now().Add(60 * time.Second)
	for queryInt(t, admin, "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the replica never streamed")
		}
		time.Sleep(200 * time.Millisecond)
	}
	mustExec(t, admin, "CREATE TABLE r AS SELECT g FROM generate_series(1, 1000) g")
	e, out = h.run(t, "postgres-replication-report", primary.params(nil))
	mustSucceed(t, e, out)
	if !strings.Contains(out["report"], "replicas streaming: 1 of 1") || row(section(out["report"], "replicas"), "replica-1", "streaming", "async") == nil {
		t.Errorf("the primary's report does not list replica-1 streaming:\n%s", out["report"])
	}
	e, out = h.run(t, "postgres-replication-report", replica.params(nil))
	mustSucceed(t, e, out)
	if row(section(out["report"], "WAL receiver"), "streaming", "127.0.0.1", strconv.Itoa(primary.port)) == nil {
		t.Errorf("the replica's report does not show its WAL receiver streaming from the primary:\n%s", out["report"])
	}
	if !strings.Contains(out["report"], "== this server is a replica ==") {
		t.Errorf("the replica's report:\n%s", out["report"])
	}
}

// basebackup makes a streaming replica of in and starts it.
func (in *instance) basebackup(t *testing.T) *instance {
	t.Helper()
	r := &instance{bin: in.bin, dir: dataDir(t), port: freePort(t)}
	conn := fmt.Sprintf("host=127.0.0.1 port=%d user=postgres application_name=replica-1", in.port)
	if out, err := asPostgres(in.bin+"/pg_basebackup", "-d", conn, "-D", r.dir, "-R", "-X", "stream", "--no-sync").CombinedOutput(); err != nil {
		t.Fatalf("pg_basebackup: %v\n%s", err, out)
	}
	appendConf(t, r.dir, fmt.Sprintf("port = %d\n", r.port))
	r.start(t)
	return r
}
