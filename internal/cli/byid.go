package cli

import (
	"errors"
	"fmt"
	"net/url"

	"github.com/spf13/cobra"
)

// getByIDCmd is "get ID" for one of a tenant's resources, at base/ID:
// the answer, read as a T, printed as JSON.
func getByIDCmd[T any](g *globals, tenant *string, short, base string) *cobra.Command {
	return &cobra.Command{
		Use:   "get ID",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var v T
			if err := g.client().Do(cmd.Context(), "GET", tenantPath(base+"/"+url.PathEscape(args[0]), *tenant, nil), nil, &v); err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), v)
		},
	}
}

// deleteEachCmd DELETEs base/ID for each ID given and says "<what> ID
// <done>" for each that went; the others' errors are joined.
func deleteEachCmd(g *globals, tenant *string, use, short, base, what, done string) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var errs []error
			for _, id := range args {
				if err := g.client().Do(cmd.Context(), "DELETE", tenantPath(base+"/"+url.PathEscape(id), *tenant, nil), nil, nil); err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", id, err))
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s %s %s\n", what, id, done)
			}
			return errors.Join(errs...)
		},
	}
}
