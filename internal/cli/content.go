package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/content/kinds"
)

func newContentCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "content", Short: "Work with operational content (YAML)"}
	validate := &cobra.Command{
		Use:   "validate DIR",
		Short: "Check a content directory (loaded over the built-in library) offline",
		Long: "Loads the built-in library and DIR exactly as `serve --content DIR` would and reports\n" +
			"every problem with its file, line and field. Exits 1 when there is any.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sum, err := content.Validate(kinds.NewRegistry(), args[0])
			out := cmd.OutOrStdout()
			errs := content.Errors(err)
			for _, e := range errs {
				fmt.Fprintln(out, e)
			}
			if len(errs) > 0 {
				fmt.Fprintln(out)
			}
			fmt.Fprint(out, sum.String())
			if len(errs) > 0 {
				return &ExitError{Code: 1, Err: fmt.Errorf("%d problem(s) in %s", len(errs), args[0])}
			}
			return nil
		},
	}
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
			var st api.ContentStatus
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
	cmd.AddCommand(validate, reload, newContentTestCmd())
	return cmd
}
