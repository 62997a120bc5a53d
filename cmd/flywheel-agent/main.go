// Command flywheel-agent is the Flywheel host agent alone: the same agent as
// `flywheel agent run`, in a binary without the server, UI, store or cloud
// code (a test keeps its dependencies so). It only wires the process
// (signals, exit code) to internal/agent/agentcmd.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/flywheel-ops/flywheel/internal/agent/agentcmd"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	root := agentcmd.NewRoot(os.LookupEnv)
	root.SetArgs(os.Args[1:])
	err := root.ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
	}
	os.Exit(agentcmd.ExitCode(err))
}
