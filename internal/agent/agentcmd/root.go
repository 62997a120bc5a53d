package agentcmd

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/flywheel-ops/flywheel/internal/version"
)

// NewRoot is the standalone agent's command line (cmd/flywheel-agent): the
// run flags on the root, so a bare `flywheel-agent --bundle FILE` runs the
// agent, the same as `flywheel-agent run` and `flywheel agent run`; and
// `version`. lookup reads the environment.
func NewRoot(lookup func(string) (string, bool)) *cobra.Command {
	var (
		f      Flags
		server string
	)
	root := &cobra.Command{
		Use:   "flywheel-agent",
		Short: "The Flywheel host agent: runs the server's commands on this host and reports its inventory",
		Long: `The Flywheel host agent, without the server:

  flywheel-agent --server https://flywheel.example.com --enroll-token fwe_…
  flywheel-agent --bundle agent.bundle

enrolls once with a one-time token (flywheel agent token create, on the
server) and keeps its credential in --state; later starts reuse it.`,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE:          f.RunE(&server, lookup),
	}
	root.PersistentFlags().StringVar(&server, "server", "", "the Flywheel server's URL (env FLYWHEEL_SERVER)")
	f.Bind(root.Flags())
	run := &cobra.Command{
		Use:   "run",
		Short: "Run the host agent (enrolls first when the state directory has no credential)",
		Args:  cobra.NoArgs,
		RunE:  f.RunE(&server, lookup),
	}
	f.Bind(run.Flags())
	// "flywheel-agent agent run …" is "flywheel agent run …": a self-update
	// re-executes the new binary with the old arguments, so either binary
	// can replace the other in the agent_binaries a server offers.
	compat := &cobra.Command{
		Use:    "agent",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE:   f.RunE(&server, lookup),
	}
	f.Bind(compat.Flags())
	compatRun := &cobra.Command{Use: "run", Args: cobra.NoArgs, RunE: f.RunE(&server, lookup)}
	f.Bind(compatRun.Flags())
	compat.AddCommand(compatRun)
	root.AddCommand(run, compat, &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintln(cmd.OutOrStdout(), "flywheel-agent", version.String())
		},
	})
	return root
}
