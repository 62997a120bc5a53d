package cli

import (
	"strconv"

	"github.com/spf13/cobra"

	"github.com/flywheel-ops/flywheel/apiv1"
)

// newChannelCmd is `flywheel channel`: the server's notification channels
// and how their deliveries went (their configuration is the server's
// notifications section, docs/notifications.md).
func newChannelCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "channel",
		Aliases: []string{"channels"},
		Short:   "Notification channels and their deliveries (see docs/notifications.md)",
	}
	var tenant string
	cmd.PersistentFlags().StringVar(&tenant, "tenant", "", "act on this tenant (platform admin)")
	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List the channels with their status, last delivery and failures",
		Example: `  flywheel channel list
  flywheel channel list --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var out apiv1.List[apiv1.ChannelStatus]
			if err := g.client().Do(cmd.Context(), "GET", tenantPath("/api/v1/channels", tenant, nil), nil, &out); err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), out.Items)
			}
			rows := make([][]string, len(out.Items))
			for i, c := range out.Items {
				typ := c.Type
				if typ == "" {
					typ = "-"
				}
				rows[i] = []string{c.Name, typ, c.Status, fmtTimePtr(c.LastDelivered), strconv.Itoa(c.Delivered), strconv.Itoa(c.Failed), fmtTimePtr(c.LastFailed)}
			}
			return printTable(cmd.OutOrStdout(), []string{"CHANNEL", "TYPE", "STATUS", "LAST DELIVERED", "DELIVERED", "FAILED", "LAST FAILED"}, rows)
		},
	})
	return cmd
}
