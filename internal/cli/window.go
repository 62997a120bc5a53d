package cli

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/flywheel-ops/flywheel/apiv1"
)

// addWindowRunCmds adds next, run, history and show-run to the
// maintenance (alias window) command.
func addWindowRunCmds(cmd *cobra.Command, g *globals, tenant *string) {
	var count int
	next := &cobra.Command{
		Use:     "next NAME",
		Short:   "Print a window's next openings, in UTC and in its time zone",
		Example: "  flywheel window next db-patching --count 5",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var out apiv1.WindowOpenings
			q := url.Values{"count": {strconv.Itoa(count)}}
			if err := g.client().Do(cmd.Context(), "GET", tenantPath(windowPath(args[0], "/next"), *tenant, q), nil, &out); err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), out)
			}
			rows := make([][]string, len(out.Openings))
			for i, o := range out.Openings {
				rows[i] = []string{fmtTime(o.Start), fmtTime(o.End), o.StartLocal, o.EndLocal, fmtTime(o.CutoffAt)}
			}
			if len(rows) == 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "%s does not open again\n", out.Window)
				return nil
			}
			return printTable(cmd.OutOrStdout(), []string{"START (UTC)", "END (UTC)", "START (" + out.Timezone + ")", "END (" + out.Timezone + ")", "CUTOFF (UTC)"}, rows)
		},
	}
	next.Flags().IntVarP(&count, "count", "n", 5, "how many openings (1-100)")

	var now, dryRun bool
	run := &cobra.Command{
		Use:   "run NAME --now",
		Short: "Run a window's tasks now (admin); --dry-run shows the targets and tasks instead",
		Example: `  flywheel window run patch-web --now --dry-run
  flywheel window run patch-web --now`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !now {
				return errors.New("give --now: a window otherwise runs on its schedule")
			}
			path := tenantPath(windowPath(args[0], "/runs"), *tenant, nil)
			if dryRun {
				var plan apiv1.Plan
				if err := g.client().Do(cmd.Context(), "POST", path, apiv1.WindowRunInput{DryRun: true}, &plan); err != nil {
					return err
				}
				if g.json {
					return printJSON(cmd.OutOrStdout(), plan)
				}
				w := cmd.OutOrStdout()
				fmt.Fprintf(w, "Dry run of %s: nothing started.\nTargets (%d): %s\n", plan.Window, len(plan.Targets), strings.Join(plan.Targets, ", "))
				rows := make([][]string, len(plan.Tasks))
				for i, t := range plan.Tasks {
					rows[i] = []string{strconv.Itoa(t.Priority), t.Name, t.Runbook, strconv.Itoa(t.MaxConcurrency), strconv.Itoa(t.MaxErrors), t.CutoffBehavior, t.OnFailure}
				}
				return printTable(w, []string{"PRIORITY", "TASK", "RUNBOOK", "CONCURRENCY", "MAX ERRORS", "AT CUTOFF", "ON FAILURE"}, rows)
			}
			var out apiv1.WindowRun
			if err := g.client().Do(cmd.Context(), "POST", path, apiv1.WindowRunInput{}, &out); err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), out)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s started (until %s); follow it with: flywheel window show-run %s\n", out.ID, fmtTime(out.EndsAt), out.ID)
			return nil
		},
	}
	run.Flags().BoolVar(&now, "now", false, "start a run now")
	run.Flags().BoolVar(&dryRun, "dry-run", false, "show the targets and tasks; start nothing")

	history := &cobra.Command{
		Use:   "history NAME",
		Short: "List a window's runs, newest first",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			q := url.Values{}
			if *tenant != "" {
				q.Set("tenant", *tenant)
			}
			items, err := listAll[apiv1.WindowRun](cmd, g, windowPath(args[0], "/runs"), q)
			if err != nil || g.json {
				return orJSON(cmd, items, err)
			}
			rows := make([][]string, len(items))
			for i, r := range items {
				rows[i] = []string{r.ID, r.Trigger, fmtTime(r.ScheduledAt), r.Status, fmtTimePtr(r.EndedAt), oneLineText(r.Error+opsItemNote(r), 60)}
			}
			return printTable(cmd.OutOrStdout(), []string{"RUN", "TRIGGER", "OPENING", "STATUS", "ENDED", "NOTE"}, rows)
		},
	}

	show := &cobra.Command{
		Use:   "show-run RUN_ID",
		Short: "Show a window run with each task's result on each target",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var out apiv1.WindowRunDetail
			if err := g.client().Do(cmd.Context(), "GET", tenantPath("/api/v1/window-runs/"+url.PathEscape(args[0]), *tenant, nil), nil, &out); err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), out)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "%s  %s  %s (%s)  opening %s\n", out.ID, out.WindowName, out.Status, out.Trigger, fmtTime(out.ScheduledAt))
			if out.Error != "" {
				fmt.Fprintf(w, "  %s\n", out.Error)
			}
			rows := make([][]string, len(out.Targets))
			for i, t := range out.Targets {
				rows[i] = []string{strconv.Itoa(t.Priority), t.Task, t.TargetID, t.Status, t.ExecutionID, oneLineText(t.Error, 60)}
			}
			return printTable(w, []string{"PRIORITY", "TASK", "TARGET", "STATUS", "EXECUTION", "ERROR"}, rows)
		},
	}
	cmd.AddCommand(next, run, history, show)
}

func windowPath(ref, suffix string) string {
	return "/api/v1/maintenance-windows/" + url.PathEscape(ref) + suffix
}

func opsItemNote(r apiv1.WindowRun) string {
	if r.OpsItemID == "" {
		return ""
	}
	return " (OpsItem " + r.OpsItemID + ")"
}

// parseTaskFlag reads --task "runbook=NAME,priority=1,max_concurrency=2,
// max_errors=1,cutoff_behavior=cancel,on_failure=continue,name=X,param.K=V".
func parseTaskFlag(spec string) (apiv1.MaintenanceTask, error) {
	var t apiv1.MaintenanceTask
	for _, kv := range strings.Split(spec, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok {
			return t, fmt.Errorf("--task %q: %q is not KEY=VALUE", spec, kv)
		}
		switch {
		case k == "runbook":
			t.Runbook = v
		case k == "name":
			t.Name = v
		case k == "priority":
			n, err := strconv.Atoi(v)
			if err != nil {
				return t, fmt.Errorf("--task %q: priority %q is not a number", spec, v)
			}
			t.Priority = n
		case k == "max_concurrency":
			t.MaxConcurrency = v
		case k == "max_errors":
			t.MaxErrors = v
		case k == "cutoff_behavior":
			t.CutoffBehavior = v
		case k == "on_failure":
			t.OnFailure = v
		case strings.HasPrefix(k, "param."):
			if t.Parameters == nil {
				t.Parameters = map[string]any{}
			}
			t.Parameters[strings.TrimPrefix(k, "param.")] = v
		default:
			return t, fmt.Errorf("--task %q: unknown key %q (runbook, name, priority, max_concurrency, max_errors, cutoff_behavior, on_failure, param.NAME)", spec, k)
		}
	}
	if t.Runbook == "" {
		return t, fmt.Errorf("--task %q: runbook=NAME is required", spec)
	}
	return t, nil
}
