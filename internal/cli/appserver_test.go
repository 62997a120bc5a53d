package cli

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/app"
	"github.com/flywheel-ops/flywheel/internal/config"
)

// appServer starts a whole Flywheel server in-process on a loopback port
// with a fresh data directory and returns a function running a flywheel
// command against it as the platform admin (stdout, stderr, exit code),
// and the server's URL.
func appServer(t *testing.T) (run func(args ...string) (string, string, int), url string) {
	t.Helper()
	return appServerWith(t, config.Config{})
}

// appServerWith is appServer with cfg's settings (its data directory and
// address are the harness's).
func appServerWith(t *testing.T, cfg config.Config) (run func(args ...string) (string, string, int), url string) {
	t.Helper()
	dir := t.TempDir()
	cfg.DataDir, cfg.Addr = dir, "127.0.0.1:0"
	a, err := app.New(context.Background(), app.Options{Config: cfg, Out: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Stop(context.Background()) })
	b, err := os.ReadFile(filepath.Join(dir, app.AdminTokenFile))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"FLYWHEEL_SERVER": "http://" + a.Addr(), "FLYWHEEL_TOKEN": strings.TrimSpace(string(b))}
	return func(args ...string) (string, string, int) {
		var out, errOut bytes.Buffer
		code := Execute(context.Background(), args, Env{Stdout: &out, Stderr: &errOut,
			Lookup: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
		return out.String(), errOut.String(), code
	}, env["FLYWHEEL_SERVER"]
}
