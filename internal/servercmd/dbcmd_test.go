package servercmd

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/app"
	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/config"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// startServer starts an in-process server on dir and returns a command
// runner against it and a stop function.
func startServer(t *testing.T, dir string) (*app.App, func(args ...string) (string, string, int)) {
	t.Helper()
	a, err := app.New(context.Background(), app.Options{Config: config.Config{DataDir: dir, Addr: "127.0.0.1:0"}, Out: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, app.AdminTokenFile))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"FLYWHEEL_SERVER": "http://" + a.Addr(), "FLYWHEEL_TOKEN": strings.TrimSpace(string(b))}
	return a, func(args ...string) (string, string, int) {
		var out, errOut bytes.Buffer
		code := Execute(context.Background(), args, Env{Stdout: &out, Stderr: &errOut,
			Lookup: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
		return out.String(), errOut.String(), code
	}
}

func countEvents(t *testing.T, st store.Reader) int {
	t.Helper()
	n := 0
	page := store.Page{Limit: store.MaxPageLimit}
	for {
		list, next, err := st.ListEvents(context.Background(), app.DefaultTenant, store.EventFilter{}, page)
		if err != nil {
			t.Fatal(err)
		}
		n += len(list)
		if next == "" {
			return n
		}
		page.Cursor = next
	}
}

// A backup taken while the server accepts events and audited changes
// restores into a server whose audit chains verify and which holds every
// event acknowledged before the backup began, and none sent after it ended.
func TestDBBackupUnderWritesRestores(t *testing.T) {
	dir := t.TempDir()
	a, run := startServer(t, dir)

	var acked atomic.Int64 // events answered 2xx
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if w == 0 && i%5 == 0 {
					if _, errOut, code := run("token", "create", "--name", fmt.Sprintf("writer-%d", i)); code != 0 {
						t.Errorf("token create: %s", errOut)
						return
					}
				}
				_, errOut, code := run("event", "send", "--title", fmt.Sprintf("disk full %d-%d", w, i), "--resource", fmt.Sprintf("web-%d", i%7), "--source", "backup-test")
				if code != 0 {
					t.Errorf("event send: %s", errOut)
					return
				}
				acked.Add(1)
			}
		}()
	}
	waitUntil(t, func() bool { return acked.Load() >= 100 })

	out := filepath.Join(t.TempDir(), "flywheel-backup.db")
	before := acked.Load()
	stdout, errOut, code := run("db", "backup", "--data", dir, "--out", out)
	after := acked.Load()
	if code != 0 {
		t.Fatalf("db backup: exit %d: %s", code, errOut)
	}
	if !strings.Contains(stdout, "backed up") {
		t.Errorf("db backup said %q", stdout)
	}
	waitUntil(t, func() bool { return acked.Load() >= after+50 }) // writes go on after the backup
	close(stop)
	wg.Wait()
	if err := a.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}

	// Restore into a fresh data directory, as after losing the machine.
	restored := t.TempDir()
	if _, errOut, code := run("db", "restore", "--data", restored, "--from", out); code != 0 {
		t.Fatalf("db restore: exit %d: %s", code, errOut)
	}
	// And over the old one, which is moved aside, not deleted.
	stdout, errOut, code = run("db", "restore", "--data", dir, "--from", out)
	if code != 0 || !strings.Contains(stdout, "pre-restore-") {
		t.Fatalf("db restore over a database: exit %d: %s%s", code, stdout, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "flywheel.db")); err != nil {
		t.Fatalf("no database after restore: %v", err)
	}

	if err := os.WriteFile(filepath.Join(restored, app.AdminTokenFile), mustRead(t, filepath.Join(dir, app.AdminTokenFile)), 0o600); err != nil {
		t.Fatal(err)
	}
	b, _ := startServer(t, restored)
	defer b.Stop(context.Background())
	st := b.Store()
	// The deliveries acknowledged but not processed at the backup are
	// processed now, once.
	waitUntil(t, func() bool {
		n, err := st.CountUnprocessedIntake(context.Background())
		return err == nil && n == 0
	})
	got := countEvents(t, st)
	if int64(got) < before || int64(got) > after {
		t.Errorf("restored server holds %d events; %d were acknowledged before the backup began and %d when it ended", got, before, after)
	}
	reports, err := audit.VerifyAll(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	records := int64(0)
	for _, r := range reports {
		if !r.OK() {
			t.Errorf("restored audit chain of %s: %s", r.Tenant, r.Broken)
		}
		records += r.Records
	}
	if records < before/15 {
		t.Errorf("restored audit log has %d records; the writers created at least %d tokens before the backup", records, before/15)
	}
	t.Logf("acknowledged %d before the backup, %d after it; restored %d events, %d audit records", before, after, got, records)
}

func TestDBBackupPostgresPointsToItsTools(t *testing.T) {
	var out, errOut bytes.Buffer
	code := Execute(context.Background(), []string{"db", "backup", "--db", "postgres://u@127.0.0.1:1/flywheel", "--out", "x.db"},
		Env{Stdout: &out, Stderr: &errOut, Lookup: func(string) (string, bool) { return "", false }})
	if code != 2 {
		t.Errorf("exit %d, want 2 (nothing backed up)", code)
	}
	for _, want := range []string{"pg_dump --format=custom", "pg_restore", "pg_basebackup", "archive_command", "flywheel audit verify"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("PostgreSQL backup help lacks %q:\n%s", want, errOut.String())
		}
	}
}

func TestDBRestoreRefusesWhatIsNotABackup(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.db")
	if err := os.WriteFile(junk, []byte("not a database"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	code := Execute(context.Background(), []string{"db", "restore", "--data", filepath.Join(dir, "data"), "--from", junk},
		Env{Stdout: &out, Stderr: &errOut, Lookup: func(string) (string, bool) { return "", false }})
	if code == 0 || !strings.Contains(errOut.String(), "not an SQLite database") {
		t.Fatalf("restore of a file that is not a database: exit %d: %s%s", code, out.String(), errOut.String())
	}
	missing := filepath.Join(dir, "missing.db")
	out.Reset()
	errOut.Reset()
	code = Execute(context.Background(), []string{"db", "restore", "--data", filepath.Join(dir, "data"), "--from", missing},
		Env{Stdout: &out, Stderr: &errOut, Lookup: func(string) (string, bool) { return "", false }})
	if code == 0 || !strings.Contains(errOut.String(), "no such file") {
		t.Errorf("restore of a missing file: exit %d: %s", code, errOut.String())
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("restoring a missing backup created it")
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "flywheel.db")); err == nil {
		t.Error("a database was put in place anyway")
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 60s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
