package cli

import (
	"net/url"

	"github.com/spf13/cobra"

	"github.com/flywheel-ops/flywheel/apiv1"
)

func newTenantCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "tenant", Short: "Manage tenants (customers)"}
	var in apiv1.TenantInput
	create := &cobra.Command{
		Use:   "create ID",
		Short: "Create a tenant (platform admin)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in.ID = args[0]
			t, err := g.client().Tenants().Create(cmd.Context(), in)
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), t)
			}
			return printTenant(cmd.OutOrStdout(), t)
		},
	}
	create.Flags().StringVar(&in.Name, "name", "", "display name")
	create.Flags().StringVar(&in.Description, "description", "", "description")
	list := &cobra.Command{
		Use:   "list",
		Short: "List tenants",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			items, err := listAll[apiv1.Tenant](cmd, g, "/api/v1/tenants", url.Values{})
			if err != nil || g.json {
				return orJSON(cmd, items, err)
			}
			rows := make([][]string, len(items))
			for i, t := range items {
				rows[i] = []string{t.ID, t.Name, fmtTime(t.CreatedAt)}
			}
			return printTable(cmd.OutOrStdout(), []string{"ID", "NAME", "CREATED"}, rows)
		},
	}
	cmd.AddCommand(create, list)
	return cmd
}

// listAll follows next_cursor until the end.
func listAll[T any](cmd *cobra.Command, g *globals, path string, q url.Values) ([]T, error) {
	var all []T
	c := g.client()
	for {
		var page apiv1.List[T]
		p := path
		if enc := q.Encode(); enc != "" {
			p += "?" + enc
		}
		if err := c.Do(cmd.Context(), "GET", p, nil, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Items...)
		if page.NextCursor == "" {
			return all, nil
		}
		q.Set("cursor", page.NextCursor)
	}
}

func orJSON(cmd *cobra.Command, v any, err error) error {
	if err != nil {
		return err
	}
	return printJSON(cmd.OutOrStdout(), v)
}
