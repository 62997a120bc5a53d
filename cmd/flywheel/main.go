// Command flywheel is the Flywheel server, agent and command-line client.
// It only wires the process (signals, exit code) to the command line:
// internal/cli's client commands with internal/servercmd's server commands.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/flywheel-ops/flywheel/internal/servercmd"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := servercmd.Execute(ctx, os.Args[1:], servercmd.Env{Stdout: os.Stdout, Stderr: os.Stderr, Stdin: os.Stdin})
	stop()
	os.Exit(code)
}
