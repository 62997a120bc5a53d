package servercmd

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/flywheel-ops/flywheel/internal/content"
	"github.com/flywheel-ops/flywheel/internal/content/kinds"
)

// newContentValidateCmd is `flywheel content validate`: it loads content
// with the action registry's schemas, a server package.
func newContentValidateCmd() *cobra.Command {
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
	return validate
}
