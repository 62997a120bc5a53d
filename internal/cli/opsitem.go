package cli

import (
	"net/url"

	"github.com/spf13/cobra"

	"github.com/flywheel-ops/flywheel/apiv1"
)

func newOpsItemCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "opsitem", Aliases: []string{"opsitems"}, Short: "Work with OpsItems"}
	var tenant string
	cmd.PersistentFlags().StringVar(&tenant, "tenant", "", "act on this tenant (platform admin)")
	withTenant := func(path string, q url.Values) string {
		if tenant != "" {
			q.Set("tenant", tenant)
		}
		if enc := q.Encode(); enc != "" {
			return path + "?" + enc
		}
		return path
	}
	var f opsItemFilter
	list := &cobra.Command{
		Use:   "list",
		Short: "List OpsItems, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{}
			for k, v := range map[string]string{"status": f.Status, "severity": f.Severity, "category": f.Category, "q": f.Text,
				"resource": f.Resource, "assignee": f.Assignee, "tenant": tenant} {
				if v != "" {
					q.Set(k, v)
				}
			}
			items, err := listAll[apiv1.OpsItem](cmd, g, "/api/v1/opsitems", q)
			if err != nil || g.json {
				return orJSON(cmd, items, err)
			}
			rows := make([][]string, len(items))
			for i, o := range items {
				rows[i] = []string{o.ID, o.Status, o.Severity, o.Category, o.Title, fmtTime(o.CreatedAt)}
			}
			return printTable(cmd.OutOrStdout(), []string{"ID", "STATUS", "SEVERITY", "CATEGORY", "TITLE", "CREATED"}, rows)
		},
	}
	list.Flags().StringVar(&f.Status, "status", "", "open, in-progress, resolved or suppressed")
	list.Flags().StringVar(&f.Severity, "severity", "", "critical, high, medium, low or info")
	list.Flags().StringVar(&f.Category, "category", "", "one of the nine areas, e.g. security, monitoring")
	list.Flags().StringVar(&f.Text, "q", "", "text in title or description")
	list.Flags().StringVar(&f.Resource, "resource", "", "ID of a related resource")
	list.Flags().StringVar(&f.Assignee, "assignee", "", "assignee")

	get := &cobra.Command{
		Use:   "get ID",
		Short: "Show one OpsItem",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o, err := g.client().OpsItems(tenant).Get(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), o)
			}
			return printOpsItem(cmd.OutOrStdout(), o)
		},
	}
	var in apiv1.OpsItemInput
	create := &cobra.Command{
		Use:   "create",
		Short: "Open an OpsItem by hand",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o, err := g.client().OpsItems(tenant).Create(cmd.Context(), in)
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), o)
			}
			return printOpsItem(cmd.OutOrStdout(), o)
		},
	}
	create.Flags().StringVar(&in.Title, "title", "", "title (required)")
	create.Flags().StringVar(&in.Description, "description", "", "description")
	create.Flags().StringVar(&in.Category, "category", "", "area (default operations)")
	create.Flags().StringVar(&in.Severity, "severity", "", "severity (default medium)")

	var title, desc, cat, sev, status string
	update := &cobra.Command{
		Use:   "update ID",
		Short: "Change an OpsItem's fields or status",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var p apiv1.OpsItemPatch
			set := func(flag string, v *string, dst **string) {
				if cmd.Flags().Changed(flag) {
					*dst = v
				}
			}
			set("title", &title, &p.Title)
			set("description", &desc, &p.Description)
			set("category", &cat, &p.Category)
			set("severity", &sev, &p.Severity)
			set("status", &status, &p.Status)
			o, err := g.client().OpsItems(tenant).Update(cmd.Context(), args[0], p)
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), o)
			}
			return printOpsItem(cmd.OutOrStdout(), o)
		},
	}
	update.Flags().StringVar(&title, "title", "", "new title")
	update.Flags().StringVar(&desc, "description", "", "new description")
	update.Flags().StringVar(&cat, "category", "", "new category")
	update.Flags().StringVar(&sev, "severity", "", "new severity")
	update.Flags().StringVar(&status, "status", "", "new status: open, in-progress, resolved, suppressed")
	cmd.AddCommand(list, get, create, update)
	cmd.AddCommand(handlingCmds(g, withTenant)...)
	return cmd
}
