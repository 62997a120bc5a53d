package cli

import "github.com/spf13/cobra"

// addComplianceAPICmds adds the commands that talk to the server's
// compliance API.
func addComplianceAPICmds(cmd *cobra.Command, g *globals) {}
