// Package servertest helps the command line's tests: a whole server
// started in-process to run commands against, and the shell splitting of
// the command lines the docs show. Tests of internal/cli (client commands)
// and internal/servercmd (the whole command line) share it.
package servertest

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

// Execute runs a command line with the given output and environment and
// returns its exit code (cli.Execute, or servercmd.Execute for the whole
// tree). It is not cli.Env: internal/cli's own tests use this package.
type Execute func(ctx context.Context, args []string, stdout, stderr io.Writer, lookup func(string) (string, bool)) int

// AppServer starts a whole Flywheel server in-process on a loopback port
// with a fresh data directory and cfg's settings (its data directory and
// address are the harness's), and returns a function running a flywheel
// command line through exec against it as the platform admin (stdout,
// stderr, exit code), and the server's URL.
func AppServer(t testing.TB, cfg config.Config, exec Execute) (run func(args ...string) (string, string, int), url string) {
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
		code := exec(context.Background(), args, &out, &errOut, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
		return out.String(), errOut.String(), code
	}, env["FLYWHEEL_SERVER"]
}

// ShellWords splits a command line as a POSIX shell would for the simple
// quoting the docs use: single quotes, double quotes, spaces.
func ShellWords(t testing.TB, s string) []string {
	t.Helper()
	var (
		out   []string
		cur   strings.Builder
		quote rune
		word  bool
	)
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote, word = r, true
		case r == ' ':
			if word {
				out = append(out, cur.String())
				cur.Reset()
				word = false
			}
		default:
			cur.WriteRune(r)
			word = true
		}
	}
	if quote != 0 {
		t.Fatalf("unterminated quote in %q", s)
	}
	if word {
		out = append(out, cur.String())
	}
	return out
}
