package cli

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/flywheel-ops/flywheel/apiv1"
)

// newBackupCmd is `flywheel backup`: backup plans, their recovery points,
// restores and restore tests (docs/backup.md).
func newBackupCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "backup", Short: "Backup plans, recovery points, restores and restore tests"}
	var tenant string
	cmd.PersistentFlags().StringVar(&tenant, "tenant", "", "act on this tenant (platform admin)")

	plan := &cobra.Command{
		Use:     "plan [NAME]",
		Short:   "List backup plans with their RPO and RTO, or show one plan's resources",
		Example: "  flywheel backup plan",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			w := cmd.OutOrStdout()
			if len(args) == 0 {
				var l apiv1.List[apiv1.PlanStatus]
				if err := g.client().Do(cmd.Context(), "GET", tenantPath("/api/v1/backup/plans", tenant, nil), nil, &l); err != nil || g.json {
					return orJSON(cmd, l.Items, err)
				}
				rows := make([][]string, len(l.Items))
				for i, p := range l.Items {
					rows[i] = []string{p.Plan, strings.Join(p.Methods, ","), strconv.Itoa(len(p.Resources)), seconds(p.RPOSeconds), seconds(p.RTOSeconds)}
				}
				return printTable(w, []string{"PLAN", "METHODS", "RESOURCES", "RPO (WORST)", "RTO (WORST)"}, rows)
			}
			var p apiv1.PlanStatus
			if err := g.client().Do(cmd.Context(), "GET", tenantPath("/api/v1/backup/plans/"+url.PathEscape(args[0]), tenant, nil), nil, &p); err != nil || g.json {
				return orJSON(cmd, p, err)
			}
			fmt.Fprintf(w, "%s: windows %s\n", p.Plan, strings.Join(p.Windows, ", "))
			rows := make([][]string, len(p.Resources))
			for i, r := range p.Resources {
				row := []string{r.Resource, strconv.Itoa(r.Points), "-", "-", seconds(r.RPOSeconds), "-", seconds(r.RTOSeconds)}
				if r.LastPoint != nil {
					row[2], row[3] = r.LastPoint.ID, fmtTime(r.LastPoint.CreatedAt)
				}
				if r.LastTest != nil {
					row[5] = r.LastTest.Status + " " + fmtTime(r.LastTest.StartedAt)
				}
				rows[i] = row
			}
			return printTable(w, []string{"RESOURCE", "POINTS", "LAST POINT", "TAKEN", "RPO", "LAST RESTORE TEST", "RTO"}, rows)
		},
	}

	var rule string
	var dryRun bool
	run := &cobra.Command{
		Use:   "run PLAN",
		Short: "Back the plan's resources up now, through its maintenance windows (admin)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var p apiv1.PlanStatus
			if err := g.client().Do(cmd.Context(), "GET", tenantPath("/api/v1/backup/plans/"+url.PathEscape(args[0]), tenant, nil), nil, &p); err != nil {
				return err
			}
			prefix := apiv1.BackupWindowName(p.Plan, rule, "")
			if rule == "" {
				prefix = apiv1.BackupWindowName(p.Plan, "", "")
			}
			w := cmd.OutOrStdout()
			started := 0
			for _, name := range p.Windows {
				if !strings.HasPrefix(name, prefix) || strings.HasPrefix(name, apiv1.BackupWindowName(p.Plan, "restore-test", "")) {
					continue
				}
				started++
				path := tenantPath(windowPath(name, "/runs"), tenant, nil)
				if dryRun {
					var out struct {
						Targets []string `json:"targets"`
					}
					if err := g.client().Do(cmd.Context(), "POST", path, apiv1.WindowRunInput{DryRun: true}, &out); err != nil {
						return err
					}
					fmt.Fprintf(w, "%s would back up %s\n", name, strings.Join(out.Targets, ", "))
					continue
				}
				var out apiv1.WindowRun
				if err := g.client().Do(cmd.Context(), "POST", path, apiv1.WindowRunInput{}, &out); err != nil {
					return err
				}
				fmt.Fprintf(w, "%s: run %s started; follow it with: flywheel window show-run %s\n", name, out.ID, out.ID)
			}
			if started == 0 {
				return fmt.Errorf("backup plan %s has no rule %q", p.Plan, rule)
			}
			return nil
		},
	}
	run.Flags().StringVar(&rule, "rule", "", "only this rule's windows (default: every rule)")
	run.Flags().BoolVar(&dryRun, "dry-run", false, "show what each window would back up; start nothing")

	var planName, resource, status string
	points := &cobra.Command{
		Use:     "points",
		Short:   "List recovery points, newest first",
		Example: "  flywheel backup points --plan prod-db --resource res_…",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			q := url.Values{}
			for k, v := range map[string]string{"tenant": tenant, "plan": planName, "resource": resource, "status": status} {
				if v != "" {
					q.Set(k, v)
				}
			}
			items, err := listAll[apiv1.RecoveryPoint](cmd, g, "/api/v1/backup/points", q)
			if err != nil || g.json {
				return orJSON(cmd, items, err)
			}
			rows := make([][]string, len(items))
			for i, p := range items {
				rows[i] = []string{p.ID, p.Plan, p.ResourceID, p.Method, fmtTime(p.CreatedAt), strconv.FormatInt(p.SizeBytes, 10),
					p.Duration.Round(time.Millisecond).String(), p.Status, p.Verification, fmtTime(p.ExpiresAt), fmtTime(p.ImmutableUntil)}
			}
			return printTable(cmd.OutOrStdout(), []string{"POINT", "PLAN", "RESOURCE", "METHOD", "TAKEN", "BYTES", "TOOK", "STATUS", "VERIFIED", "EXPIRES", "IMMUTABLE UNTIL"}, rows)
		},
	}
	points.Flags().StringVar(&planName, "plan", "", "only this plan's points")
	points.Flags().StringVar(&resource, "resource", "", "only this resource's points")
	points.Flags().StringVar(&status, "status", "", "available, failed or deleted")

	var to string
	restore := &cobra.Command{
		Use:   "restore POINT --to DATABASE|DIRECTORY",
		Short: "Restore a point into a new database (postgres) or a directory on its host (restic), and check it (admin)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if to == "" {
				return errors.New("give --to: a new database name or a directory on the host")
			}
			var out apiv1.RestoreTest
			err := g.client().Do(cmd.Context(), "POST", tenantPath("/api/v1/backup/points/"+url.PathEscape(args[0])+"/restore", tenant, nil),
				apiv1.RestoreInput{To: to}, &out)
			return restoreResult(cmd, g, out, err)
		},
	}
	restore.Flags().StringVar(&to, "to", "", "the new database (postgres) or directory (restic) to restore into")

	var point, testResource string
	test := &cobra.Command{
		Use:   "test PLAN",
		Short: "Test a restore of the plan's latest point (or --point, or --resource's latest) now (admin)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var out apiv1.RestoreTest
			err := g.client().Do(cmd.Context(), "POST", tenantPath("/api/v1/backup/plans/"+url.PathEscape(args[0])+"/restore-tests", tenant, nil),
				apiv1.RestoreTestInput{Point: point, Resource: testResource}, &out)
			return restoreResult(cmd, g, out, err)
		},
	}
	test.Flags().StringVar(&point, "point", "", "this recovery point")
	test.Flags().StringVar(&testResource, "resource", "", "the latest point of this resource")

	cmd.AddCommand(plan, run, points, restore, test)
	return cmd
}

// restoreResult prints a restore's or restore test's result; a restore
// that does not match its point is an error (exit status 1).
func restoreResult(cmd *cobra.Command, g *globals, out apiv1.RestoreTest, err error) error {
	if err != nil {
		return err
	}
	if g.json {
		if err := printJSON(cmd.OutOrStdout(), out); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(cmd.OutOrStdout(), "%s %s in %s: %s\n", out.PointID, out.Status, out.Duration.Round(time.Millisecond), out.Detail)
		if out.OpsItemID != "" {
			fmt.Fprintf(cmd.OutOrStdout(), "OpsItem %s opened\n", out.OpsItemID)
		}
	}
	if out.Status != "passed" {
		return fmt.Errorf("restore of %s failed", out.PointID)
	}
	return nil
}

func seconds(s float64) string {
	if s == 0 {
		return "-"
	}
	return (time.Duration(s * float64(time.Second))).Round(time.Second).String()
}
