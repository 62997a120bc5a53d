package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/flywheel-ops/flywheel/apiv1"
)

func newContentCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "content", Short: "Work with operational content (YAML)"}
	reload := &cobra.Command{
		Use:   "reload",
		Short: "Reload the server's content on every replica, without a restart (platform admin)",
		Long: `POST /api/v1/content/reload: the server loads the built-in library and its
content directory again, checks them and swaps them in; every other replica
on the database loads them within content_poll (default 5s). Invalid content
is refused with every problem listed, and the content in force stays.
It prints the new content generation and digest; each replica's /healthz
shows the ones it runs.`,
		Example: `  flywheel content reload
  flywheel content reload --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var st apiv1.ContentStatus
			if err := g.client().Do(cmd.Context(), "POST", "/api/v1/content/reload", nil, &st); err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), st)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "content generation %d: %d documents, digest %s\n", st.Generation, st.Documents, st.Digest)
			return nil
		},
	}
	cmd.AddCommand(reload)
	return cmd
}
