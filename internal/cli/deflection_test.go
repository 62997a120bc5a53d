package cli

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/store"
)

// deflectionServer serves the API on a fresh SQLite store with one tenant
// and an operator token; run executes a flywheel command against it.
func deflectionServer(t *testing.T) func(args ...string) (string, error) {
	t.Helper()
	st, secret := tenantStore(t, store.RoleOperator)
	srv := httptest.NewServer(api.New(api.Options{Store: st}))
	t.Cleanup(srv.Close)
	return func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		root := NewRoot(Env{Stdout: &out, Stderr: &errOut, Lookup: func(string) (string, bool) { return "", false }})
		root.SetArgs(append([]string{"--server", srv.URL, "--token", secret}, args...))
		err := root.ExecuteContext(context.Background())
		return out.String(), err
	}
}

func TestSilenceCommands(t *testing.T) {
	t.Parallel()
	run := deflectionServer(t)
	id, err := run("silence", "create", "--matcher", `alertname="Disk full"`, "-m", `instance=~"db-.*"`, "--duration", "2h", "--comment", "resizing")
	if err != nil {
		t.Fatal(err)
	}
	id = strings.TrimSpace(id)
	if !strings.HasPrefix(id, "sil_") {
		t.Fatalf("create printed %q, want the ID", id)
	}
	end := time.Now().Add(72 * time.Hour).UTC().Format(time.RFC3339)
	if _, err := run("silence", "create", `job="backup"`, "--weekly", "sat,sun 02:00 4h", "--timezone", "Europe/Berlin", "--ends-at", end, "-c", "weekend"); err != nil {
		t.Fatal(err)
	}
	out, err := run("silence", "list")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{id, `alertname="Disk full", instance=~"db-.*"`, "resizing", "active", "sun,sat 02:00 4h Europe/Berlin", "STATE"} {
		if !strings.Contains(out, want) {
			t.Errorf("silence list lacks %q:\n%s", want, out)
		}
	}
	if out, err := run("silence", "expire", id); err != nil || !strings.Contains(out, "silence "+id+" expired") {
		t.Errorf("expire: %q, %v", out, err)
	}
	if out, _ := run("silence", "list"); strings.Contains(out, id) {
		t.Errorf("an expired silence is listed without --expired:\n%s", out)
	}
	if out, _ := run("silence", "list", "--expired"); !strings.Contains(out, id) || !strings.Contains(out, "expired") {
		t.Errorf("list --expired:\n%s", out)
	}
	if out, _ := run("--json", "silence", "get", id); !strings.Contains(out, `"state": "expired"`) {
		t.Errorf("get --json:\n%s", out)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"silence", "create", "-m", `instance=~"db-(.*"`, "--duration", "1h", "-c", "x"}, "matchers[0]: bad matcher `instance=~\"db-(.*\"`"},
		{[]string{"silence", "create", "-m", `a="b"`, "-c", "x"}, "give --duration"},
		{[]string{"silence", "create", "-m", `a="b"`, "-c", "x", "--duration", "1h", "--ends-at", end}, "not both"},
		{[]string{"silence", "create", "-m", `a="b"`, "-c", "x", "--ends-at", "tomorrow"}, `--ends-at "tomorrow" is not an RFC 3339 time`},
		{[]string{"silence", "create", "-m", `a="b"`, "-c", "x", "--duration", "1h", "--weekly", "sat 02:00"}, "--weekly: weekly schedule"},
		{[]string{"silence", "create", "-m", `a="b"`, "-c", "x", "--duration", "1h", "--weekly", "sat 02:00 1h", "--timezone", "Nowhere"}, "--timezone: unknown time zone"},
		{[]string{"silence", "expire", id}, "already expired"},
	} {
		if _, err := run(tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
}

func TestMaintenanceCommands(t *testing.T) {
	t.Parallel()
	run := deflectionServer(t)
	id, err := run("maintenance", "create", "--name", "db-patching", "--weekly", "sat,sun 02:00 4h", "--timezone", "Europe/Berlin",
		"--matcher", `alertname=~"Postgres.*"`, "--resource", "i-123", "--tag", "patch-group=db", "--comment", "monthly")
	if err != nil {
		t.Fatal(err)
	}
	id = strings.TrimSpace(id)
	start := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	if _, err := run("maintenance", "create", "--name", "deploy", "--start", start, "--duration", "1h", "--resource", "web-1"); err != nil {
		t.Fatal(err)
	}
	out, err := run("maintenance", "list")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{id, "db-patching", "sun,sat 02:00 4h Europe/Berlin", `alertname=~"Postgres.*", resource in (i-123), tag patch-group=db`, "deploy", "yes"} {
		if !strings.Contains(out, want) {
			t.Errorf("maintenance list lacks %q:\n%s", want, out)
		}
	}
	if out, err := run("maintenance", "delete", id); err != nil || !strings.Contains(out, "deleted") {
		t.Errorf("delete: %q %v", out, err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"maintenance", "create", "--name", "deploy", "--weekly", "sun 01:00 1h", "--resource", "x"}, `"deploy" already exists`},
		{[]string{"maintenance", "create", "--name", "x", "--weekly", "sun 01:00 1h", "--start", start, "--resource", "x"}, "not both"},
		{[]string{"maintenance", "create", "--name", "x", "--resource", "x"}, "give --weekly"},
		{[]string{"maintenance", "create", "--name", "x", "--start", start, "--resource", "x"}, "needs --end or --duration"},
		{[]string{"maintenance", "create", "--name", "x", "--weekly", "sun 01:00 1h", "--tag", "novalue"}, `--tag "novalue": want KEY=VALUE`},
		{[]string{"maintenance", "create", "--name", "x", "--weekly", "sun 01:00 1h"}, "targets: set at least one"},
		{[]string{"maintenance", "delete", id}, "not found"},
	} {
		if _, err := run(tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
}

// TestDeflectionDocErrors runs the failing commands shown in
// docs/deflection.md ("$ flywheel …" followed by "error: …") and compares
// the error the page shows.
func TestDeflectionDocErrors(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../docs/deflection.md")
	if err != nil {
		t.Fatal(err)
	}
	run := deflectionServer(t)
	lines := strings.Split(string(data), "\n")
	n := 0
	for i := 0; i+1 < len(lines); i++ {
		cmdLine, ok := strings.CutPrefix(lines[i], "$ flywheel ")
		if !ok || !strings.HasPrefix(lines[i+1], "error: ") {
			continue
		}
		n++
		_, err := run(shellWords(t, cmdLine)...)
		if got := "error: " + fmt.Sprint(err); got != lines[i+1] {
			t.Errorf("$ flywheel %s\n got: %s\nwant: %s", cmdLine, got, lines[i+1])
		}
	}
	if n == 0 {
		t.Error("no failing command found in the page")
	}
}
