package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/agent"
	"github.com/flywheel-ops/flywheel/internal/fleet/wire"
)

// TestAgentBundle: token create --bundle writes the bundle 0600 (and will
// not overwrite one); agent run --bundle - enrolls from stdin; once
// enrolled, a missing bundle file is fine, while before it is an error;
// a bad bundle or one for another server is refused.
func TestAgentBundle(t *testing.T) {
	srv, admin := agentTestAPI(t)
	run := func(ctx context.Context, stdin string, args ...string) (string, int) {
		var out bytes.Buffer
		code := Execute(ctx, append([]string{"--token", admin}, args...),
			Env{Stdout: &out, Stderr: &out, Stdin: strings.NewReader(stdin), Lookup: func(string) (string, bool) { return "", false }})
		return out.String(), code
	}
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "web.bundle")
	out, code := run(ctx, "", "--server", srv.URL, "agent", "token", "create", "--tags", "role=web", "--bundle", file)
	if code != 0 || !strings.Contains(out, "flywheel agent run --bundle web.bundle") {
		t.Fatalf("token create --bundle: %d %s", code, out)
	}
	fi, err := os.Stat(file)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("bundle file: %v %v", err, fi)
	}
	raw, _ := os.ReadFile(file)
	b, err := wire.ParseBundle(raw)
	if err != nil || b.Server != srv.URL || b.Tags["role"] != "web" || b.CACert != "" {
		t.Fatalf("bundle %+v: %v", b, err)
	}
	if out, code := run(ctx, "", "--server", srv.URL, "agent", "token", "create", "--bundle", file); code == 0 || !strings.Contains(out, "exists") {
		t.Errorf("overwrote a bundle: %d %s", code, out)
	}

	state := t.TempDir()
	missing := filepath.Join(t.TempDir(), "gone.bundle")
	if out, code := run(ctx, "", "agent", "run", "--bundle", missing, "--state", state); code != 2 || !strings.Contains(out, "--bundle") {
		t.Errorf("missing bundle before enrollment: %d %s", code, out)
	}
	if out, code := run(ctx, "{}", "agent", "run", "--bundle", "-", "--state", state); code != 2 || !strings.Contains(out, "format") {
		t.Errorf("bad bundle: %d %s", code, out)
	}
	if out, code := run(ctx, string(raw), "--server", "http://other:1", "agent", "run", "--bundle", "-", "--state", state); code != 2 ||
		!strings.Contains(out, "is for") {
		t.Errorf("bundle for another server: %d %s", code, out)
	}

	// --bundle - prints the bundle alone, ready to pipe to a host.
	out, code = run(ctx, "", "--server", srv.URL, "agent", "token", "create", "--bundle", "-")
	if piped, err := wire.ParseBundle([]byte(out)); code != 0 || err != nil || piped.Server != srv.URL || piped.Token == b.Token {
		t.Errorf("--bundle -: %d %v %s", code, err, out)
	}

	// Enrolled from stdin; the agent runs until cancelled.
	runFor := func(stdin string, args ...string) (string, int) {
		rctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go func() {
			for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
				if st, err := agent.LoadState(state); err == nil && st.AgentID != "" {
					time.Sleep(200 * time.Millisecond)
					break
				}
			}
			cancel()
		}()
		return run(rctx, stdin, args...)
	}
	out, code = runFor(string(raw), "agent", "run", "--bundle", "-", "--state", state, "--hostname", "bundled", "--no-inventory")
	st, err := agent.LoadState(state)
	if code != 0 || err != nil || st.Server != srv.URL || !strings.Contains(out, "enrolled") {
		t.Fatalf("run --bundle -: %d %v %s", code, err, out)
	}
	// The token is spent and the file gone: the state suffices.
	if out, code := runFor("", "agent", "run", "--bundle", missing, "--state", state, "--no-inventory"); code != 0 || strings.Contains(out, "--bundle") {
		t.Errorf("enrolled, bundle gone: %d %s", code, out)
	}
}
