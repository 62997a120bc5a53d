package cli

import "github.com/spf13/cobra"

func newComplianceCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "compliance",
		Short: "Config rules and conformance packs: scan a recorded account, results, exceptions (see docs/compliance.md)",
		Args:  cobra.NoArgs,
	}
	addComplianceAPICmds(cmd, g)
	return cmd
}
