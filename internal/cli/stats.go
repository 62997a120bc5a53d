package cli

import (
	"fmt"
	"io"
	"net/url"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/flywheel-ops/flywheel/apiv1"
)

func newStatsCmd(g *globals) *cobra.Command {
	var (
		tenant, from, to string
		since            time.Duration
		perTenant        bool
	)
	cmd := &cobra.Command{
		Use:   "stats",
		Short: "The flywheel metrics: noise reduction, automation share, time to resolve, human time (see docs/ui.md)",
		Long: `Show GET /api/v1/stats/flywheel: events received against OpsItems opened,
noise reduction, the share of OpsItems resolved by automation, time to
resolve (median and p90), minutes OpsItems spent in people's hands and the
hours automation saved, per area. The period is --since before now, or
--from/--to (RFC 3339).`,
		Example: `  flywheel stats
  flywheel stats --since 720h
  flywheel stats --from 2026-05-01T00:00:00Z --to 2026-06-01T00:00:00Z --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{}
			if from == "" && since > 0 {
				from = time.Now().Add(-since).UTC().Format(time.RFC3339)
			}
			for k, v := range map[string]string{"from": from, "to": to} {
				if v != "" {
					q.Set(k, v)
				}
			}
			if perTenant {
				q.Set("per_tenant", "true")
			}
			var out apiv1.FlywheelStats
			if err := g.client().Do(cmd.Context(), "GET", tenantPath("/api/v1/stats/flywheel", tenant, q), nil, &out); err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), out)
			}
			return printFlywheel(cmd.OutOrStdout(), out)
		},
	}
	f := cmd.Flags()
	f.StringVar(&tenant, "tenant", "", "act on this tenant (platform admin)")
	f.StringVar(&from, "from", "", "start of the period, RFC 3339")
	f.StringVar(&to, "to", "", "end of the period, RFC 3339 (default now)")
	f.DurationVar(&since, "since", 0, "the period is this long, ending now (default 168h)")
	f.BoolVar(&perTenant, "per-tenant", false, "add every tenant's figures (platform admin)")
	return cmd
}

func printFlywheel(w io.Writer, s apiv1.FlywheelStats) error {
	pct := func(x float64) string { return strconv.FormatFloat(100*x, 'f', 1, 64) + " %" }
	mins := func(x float64) string { return strconv.FormatFloat(x, 'f', 0, 64) }
	hours := func(x float64) string { return strconv.FormatFloat(x, 'f', 1, 64) }
	fmt.Fprintf(w, "tenant %s, %s – %s\n\n", s.Tenant, fmtTime(s.From), fmtTime(s.To))
	err := printTable(w, []string{"FIGURE", "VALUE"}, [][]string{
		{"events received", strconv.FormatInt(s.Received, 10)},
		{"noise reduction", pct(s.NoiseReduction)},
		{"opsitems opened", strconv.FormatInt(s.Opened, 10)},
		{"opsitems resolved", strconv.FormatInt(s.Resolved, 10)},
		{"resolved by automation", pct(s.AutomationShare)},
		{"time to resolve, median", durationText(s.TimeToResolve.MedianSeconds)},
		{"time to resolve, p90", durationText(s.TimeToResolve.P90Seconds)},
		{"human minutes", mins(s.HumanMinutes)},
		{"human hours saved", hours(s.HumanHoursSaved)},
		{"automated runs verified", strconv.FormatInt(s.VerifiedRuns, 10)},
		{"automated runs ineffective", strconv.FormatInt(s.IneffectiveRuns, 10)},
		{"automated runs failed", strconv.FormatInt(s.FailedRuns, 10)},
		{"resolutions credited to automation", strconv.FormatInt(s.ResolvedByAutomation, 10)},
		{"credit withheld (no verified run)", strconv.FormatInt(s.CreditWithheld, 10)},
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(w)
	var rows [][]string
	for _, a := range s.Areas {
		rows = append(rows, []string{a.Category, strconv.FormatInt(a.Opened, 10), strconv.FormatInt(a.Resolved, 10), pct(a.AutomationShare),
			durationText(a.TimeToResolve.MedianSeconds), mins(a.HumanMinutes), hours(a.HumanHoursSaved)})
	}
	if err := printTable(w, []string{"AREA", "OPENED", "RESOLVED", "AUTOMATED", "TTR MEDIAN", "HUMAN MIN", "HOURS SAVED"}, rows); err != nil {
		return err
	}
	if len(s.Tenants) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	rows = nil
	for _, t := range s.Tenants {
		rows = append(rows, []string{t.Tenant, strconv.FormatInt(t.Received, 10), pct(t.NoiseReduction), strconv.FormatInt(t.Opened, 10),
			pct(t.AutomationShare), mins(t.HumanMinutes), hours(t.HumanHoursSaved)})
	}
	return printTable(w, []string{"TENANT", "RECEIVED", "NOISE REDUCTION", "OPENED", "AUTOMATED", "HUMAN MIN", "HOURS SAVED"}, rows)
}

// durationText shows seconds as "45s", "12m", "3h20m".
func durationText(s int64) string {
	d := time.Duration(s) * time.Second
	switch {
	case d < time.Minute:
		return d.String()
	case d < time.Hour:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	}
	return (d.Truncate(time.Minute)).String()
}
