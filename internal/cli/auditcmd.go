package cli

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/flywheel-ops/flywheel/internal/app"
	"github.com/flywheel-ops/flywheel/internal/audit"
	"github.com/flywheel-ops/flywheel/internal/store"
)

func newAuditCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "Read and verify the tamper-evident audit log"}
	var f serverFlags
	var tenant string
	verify := &cobra.Command{
		Use:   "verify",
		Short: "Verify every tenant's audit hash chain directly in the database",
		Long: "Reads the database named by --data or --db (works beside a running server) and\n" +
			"exits 0 when every chain is intact, 1 naming the first broken record otherwise.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := f.resolve(cmd.Flags(), g.env.Lookup)
			if err != nil {
				return &ExitError{Code: 2, Err: err}
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 30*time.Minute)
			defer cancel()
			st, err := app.OpenStoreReadOnly(ctx, cfg.DB)
			if err != nil {
				return &ExitError{Code: 2, Err: err}
			}
			defer st.Close()
			var reports []audit.Report
			if tenant != "" {
				rep, err := audit.Verify(ctx, st, tenant)
				if err != nil {
					return err
				}
				reports = []audit.Report{rep}
			} else if reports, err = audit.VerifyAll(ctx, st); err != nil {
				return err
			}
			if g.json {
				if err := printJSON(cmd.OutOrStdout(), reports); err != nil {
					return err
				}
			}
			broken := 0
			for _, r := range reports {
				if r.OK() {
					if !g.json {
						fmt.Fprintf(cmd.OutOrStdout(), "ok      tenant %s: %d records, head %.16s\n", r.Tenant, r.Records, r.Head)
					}
					continue
				}
				broken++
				if !g.json {
					fmt.Fprintf(cmd.OutOrStdout(), "BROKEN  tenant %s: %s\n", r.Tenant, r.Broken)
				}
			}
			if broken > 0 {
				return &ExitError{Code: 1, Err: fmt.Errorf("audit chain broken in %d of %d tenants", broken, len(reports))}
			}
			return nil
		},
	}
	f.bind(verify.Flags(), false)
	verify.Flags().StringVar(&tenant, "tenant", "", "verify only this tenant")

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
			items, err := listUpTo[store.AuditRecord](cmd, g, "/api/v1/audit", q, limit)
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
	cmd.AddCommand(verify, list)
	return cmd
}
