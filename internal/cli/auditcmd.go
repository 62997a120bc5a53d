package cli

import (
	"fmt"
	"net/url"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/flywheel-ops/flywheel/apiv1"
)

func newAuditCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "Read and verify the tamper-evident audit log"}
	var tenant string
	var actor, action, target string
	var limit int
	list := &cobra.Command{
		Use:   "list",
		Short: "List audit records, newest first (through the API)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{}
			for k, v := range map[string]string{"tenant": tenant, "actor": actor, "action": action, "target": target} {
				if v != "" {
					q.Set(k, v)
				}
			}
			if limit < 1 {
				return fmt.Errorf("--limit %d: must be at least 1", limit)
			}
			items, err := listUpTo[apiv1.AuditRecord](cmd, g, "/api/v1/audit", q, limit)
			if err != nil || g.json {
				return orJSON(cmd, items, err)
			}
			rows := make([][]string, len(items))
			for i, a := range items {
				rows[i] = []string{strconv.FormatInt(a.Seq, 10), fmtTime(a.Time), a.Actor, a.Action, a.Target, a.Result}
			}
			return printTable(cmd.OutOrStdout(), []string{"SEQ", "TIME", "ACTOR", "ACTION", "TARGET", "RESULT"}, rows)
		},
	}
	list.Flags().StringVar(&tenant, "tenant", "", "tenant (platform admin)")
	list.Flags().StringVar(&actor, "actor", "", "only records of this actor (token:tok_…, system:pipeline)")
	list.Flags().StringVar(&action, "action", "", "only actions starting with this (silence.)")
	list.Flags().StringVar(&target, "target", "", "only targets starting with this (opsitem/oi_…)")
	list.Flags().IntVar(&limit, "limit", 100, "show at most this many records")
	cmd.AddCommand(list)
	return cmd
}
