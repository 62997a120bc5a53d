package servercmd

import (
	"context"
	"io"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/config"
	"github.com/flywheel-ops/flywheel/internal/servercmd/servertest"
)

// appServer starts a whole Flywheel server in-process and returns a
// function running a flywheel command against it as the platform admin
// (stdout, stderr, exit code), and the server's URL.
func appServer(t *testing.T) (run func(args ...string) (string, string, int), url string) {
	t.Helper()
	return servertest.AppServer(t, config.Config{}, execute)
}

// appServerWith is appServer with cfg's settings.
func appServerWith(t *testing.T, cfg config.Config) (run func(args ...string) (string, string, int), url string) {
	t.Helper()
	return servertest.AppServer(t, cfg, execute)
}

func shellWords(t *testing.T, s string) []string { return servertest.ShellWords(t, s) }

// execute runs a command line as Execute does, for servertest.
func execute(ctx context.Context, args []string, stdout, stderr io.Writer, lookup func(string) (string, bool)) int {
	return Execute(ctx, args, Env{Stdout: stdout, Stderr: stderr, Lookup: lookup})
}
