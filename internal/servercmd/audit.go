package servercmd

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/flywheel-ops/flywheel/internal/app"
	"github.com/flywheel-ops/flywheel/internal/audit"
)

// newAuditVerifyCmd is `flywheel audit verify`: it reads the database.
func newAuditVerifyCmd(g globals) *cobra.Command {
	var f serverFlags
	var tenant string
	verify := &cobra.Command{
		Use:   "verify",
		Short: "Verify every tenant's audit hash chain directly in the database",
		Long: "Reads the database named by --data or --db (works beside a running server) and\n" +
			"exits 0 when every chain is intact, 1 naming the first broken record otherwise.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := f.resolve(cmd.Flags(), g.Env().Lookup)
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
			if g.JSON() {
				if err := printJSON(cmd.OutOrStdout(), reports); err != nil {
					return err
				}
			}
			broken := 0
			for _, r := range reports {
				if r.OK() {
					if !g.JSON() {
						fmt.Fprintf(cmd.OutOrStdout(), "ok      tenant %s: %d records, head %.16s\n", r.Tenant, r.Records, r.Head)
					}
					continue
				}
				broken++
				if !g.JSON() {
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

	return verify
}
