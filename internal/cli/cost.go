package cli

import (
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/flywheel-ops/flywheel/apiv1"
)

func pct(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) + " %" }

func newScheduleCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "schedule",
		Aliases: []string{"schedules", "resource-schedule"},
		Short:   "Resource schedules: stop development resources off-hours (content kind ResourceSchedule; see docs/cost.md)",
	}
	var tenant string
	cmd.PersistentFlags().StringVar(&tenant, "tenant", "", "act on this tenant (platform admin)")
	list := &cobra.Command{
		Use:   "list",
		Short: "List the schedules: the state each wants now, targets, this week's hours saved",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var out struct {
				Items []apiv1.ResourceScheduleView `json:"items"`
			}
			if err := g.client().Do(cmd.Context(), "GET", tenantPath("/api/v1/resource-schedules", tenant, nil), nil, &out); err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), out.Items)
			}
			rows := make([][]string, len(out.Items))
			for i, s := range out.Items {
				rows[i] = []string{s.Name, s.Timezone, s.Now.State, s.Now.Reason, strconv.Itoa(s.Targets),
					fmt.Sprintf("%g of %g h", s.Week.RunningHours, s.Week.Hours), pct(s.Week.SavedPercent)}
			}
			return printTable(cmd.OutOrStdout(), []string{"NAME", "TIMEZONE", "NOW", "WHY", "TARGETS", "RUNS THIS WEEK", "SAVED"}, rows)
		},
	}
	show := &cobra.Command{
		Use:   "show NAME",
		Short: "Show a schedule's targets and what it last did to each",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var d apiv1.ResourceScheduleDetail
			if err := g.client().Do(cmd.Context(), "GET", tenantPath("/api/v1/resource-schedules/"+url.PathEscape(args[0]), tenant, nil), nil, &d); err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), d)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "%s (%s): %s now, %s\n", d.Name, d.Timezone, d.Now.State, d.Now.Reason)
			fmt.Fprintf(w, "This week: runs %g of %g hours, saves %s. Holidays: %d.\n", d.Week.RunningHours, d.Week.Hours, pct(d.Week.SavedPercent), len(d.HolidayList))
			rows := make([][]string, len(d.TargetList))
			for i, t := range d.TargetList {
				rows[i] = []string{t.ResourceID, t.Name, t.Kind, t.Type, t.State, fmtTime(t.ChangedAt), t.ExecutionID, t.Error}
			}
			return printTable(w, []string{"RESOURCE", "NAME", "KIND", "TYPE", "SET TO", "AT", "EXECUTION", "ERROR"}, rows)
		},
	}
	var dryRun bool
	reconcile := &cobra.Command{
		Use:     "reconcile",
		Short:   "Bring every target to the state its schedule wants now (admin); --dry-run only reports",
		Example: "  flywheel schedule reconcile --dry-run",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var out struct {
				Steps []apiv1.Step `json:"steps"`
			}
			if err := g.client().Do(cmd.Context(), "POST", tenantPath("/api/v1/cost/reconcile", tenant, nil), apiv1.ReconcileInput{DryRun: dryRun}, &out); err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), out.Steps)
			}
			rows := make([][]string, len(out.Steps))
			for i, s := range out.Steps {
				rows[i] = []string{s.Schedule, s.ResourceID, s.Kind, s.Want, s.Action, s.ExecutionID, s.Error}
			}
			return printTable(cmd.OutOrStdout(), []string{"SCHEDULE", "RESOURCE", "KIND", "WANT", "ACTION", "EXECUTION", "ERROR"}, rows)
		},
	}
	reconcile.Flags().BoolVar(&dryRun, "dry-run", false, "report what would be done, start nothing")
	cmd.AddCommand(list, show, reconcile)
	return cmd
}

func newCostCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "cost", Short: "Savings of resource schedules, the price table and waste findings (see docs/cost.md)"}
	var tenant string
	cmd.PersistentFlags().StringVar(&tenant, "tenant", "", "act on this tenant (platform admin)")
	var month, schedule string
	var csv bool
	savings := &cobra.Command{
		Use:     "savings",
		Short:   "Hours and money each schedule saves on each target in a month",
		Example: "  flywheel cost savings --month 2026-12\n  flywheel cost savings --month 2026-12 --csv",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{}
			if month != "" {
				q.Set("month", month)
			}
			if schedule != "" {
				q.Set("schedule", schedule)
			}
			if csv {
				q.Set("format", "csv")
				var raw json.RawMessage
				if err := g.client().Do(cmd.Context(), "GET", tenantPath("/api/v1/cost/savings", tenant, q), nil, &raw); err != nil {
					return err
				}
				_, err := cmd.OutOrStdout().Write(raw)
				return err
			}
			var rep apiv1.SavingsReport
			if err := g.client().Do(cmd.Context(), "GET", tenantPath("/api/v1/cost/savings", tenant, q), nil, &rep); err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), rep)
			}
			rows := make([][]string, len(rep.Rows))
			for i, r := range rep.Rows {
				price := "unpriced"
				if r.Priced {
					price = strconv.FormatFloat(r.HourlyPrice, 'f', -1, 64)
				}
				rows[i] = []string{r.Schedule, r.Resource, r.Type, r.Region, fmt.Sprintf("%g of %g", r.SavedHours, r.Hours), pct(r.SavedPercent), price,
					strconv.FormatFloat(r.Saved, 'f', 2, 64)}
			}
			if err := printTable(cmd.OutOrStdout(), []string{"SCHEDULE", "RESOURCE", "TYPE", "REGION", "HOURS SAVED", "SAVED", "PER HOUR", "SAVED " + rep.Totals.Currency}, rows); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %g of %g hours saved (%s), %.2f %s\n", rep.Month, rep.Totals.SavedHours, rep.Totals.Hours,
				pct(rep.Totals.SavedPercent), rep.Totals.Saved, rep.Totals.Currency)
			return nil
		},
	}
	savings.Flags().StringVar(&month, "month", "", "YYYY-MM (default: this month)")
	savings.Flags().StringVar(&schedule, "schedule", "", "one schedule only")
	savings.Flags().BoolVar(&csv, "csv", false, "print CSV")
	waste := &cobra.Command{
		Use:   "waste",
		Short: "Resources paid for and not used, with the monthly savings of acting on each",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var out struct {
				Items    []apiv1.WasteView `json:"items"`
				Total    float64           `json:"monthly_savings"`
				Currency string            `json:"currency"`
			}
			if err := g.client().Do(cmd.Context(), "GET", tenantPath("/api/v1/cost/waste", tenant, nil), nil, &out); err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), out)
			}
			rows := make([][]string, len(out.Items))
			for i, f := range out.Items {
				rows[i] = []string{f.Kind, f.ResourceID, strconv.FormatFloat(f.MonthlySavings, 'f', 2, 64), f.OpsItemID, f.Title}
			}
			if err := printTable(cmd.OutOrStdout(), []string{"KIND", "RESOURCE", "PER MONTH", "OPSITEM", "FINDING"}, rows); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%.2f %s a month\n", out.Total, out.Currency)
			return nil
		},
	}
	prices := &cobra.Command{
		Use:   "prices",
		Short: "The price table (per region; source in the server's docs/cost.md)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var out struct {
				Currency string               `json:"currency"`
				Regions  []apiv1.RegionPrices `json:"regions"`
			}
			if err := g.client().Do(cmd.Context(), "GET", tenantPath("/api/v1/cost/prices", tenant, nil), nil, &out); err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), out)
			}
			var rows [][]string
			for _, r := range out.Regions {
				for _, m := range []map[string]float64{r.EC2, r.RDS} {
					for typ, p := range m {
						rows = append(rows, []string{r.Region, typ, strconv.FormatFloat(p, 'f', -1, 64)})
					}
				}
			}
			sort.Slice(rows, func(i, j int) bool { return rows[i][0]+" "+rows[i][1] < rows[j][0]+" "+rows[j][1] })
			return printTable(cmd.OutOrStdout(), []string{"REGION", "TYPE", "PER HOUR " + out.Currency}, rows)
		},
	}
	cmd.AddCommand(savings, waste, prices)
	return cmd
}

func newForecastCmd(g *globals) *cobra.Command {
	var tenant, resource string
	cmd := &cobra.Command{
		Use:   "forecast",
		Short: "Capacity forecasts: when disks and memory reach their thresholds (see docs/cost.md)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{}
			if resource != "" {
				q.Set("resource", resource)
			}
			var out struct {
				Items []apiv1.Forecast `json:"items"`
			}
			if err := g.client().Do(cmd.Context(), "GET", tenantPath("/api/v1/forecasts", tenant, q), nil, &out); err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), out.Items)
			}
			rows := make([][]string, len(out.Items))
			for i, f := range out.Items {
				when := "not within the horizon"
				if f.Crossing != nil {
					when = fmtTime(*f.Crossing)
				}
				rows[i] = []string{f.Resource, strings.TrimPrefix(f.Metric, apiv1.DiskPrefix), pct(f.Last), fmt.Sprintf("%+.2f", f.SlopePerDay), pct(f.Threshold), when}
			}
			return printTable(cmd.OutOrStdout(), []string{"RESOURCE", "SERIES", "NOW", "PER DAY", "THRESHOLD", "REACHED (UTC)"}, rows)
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", "", "act on this tenant (platform admin)")
	cmd.Flags().StringVar(&resource, "resource", "", "one resource's series")
	return cmd
}
