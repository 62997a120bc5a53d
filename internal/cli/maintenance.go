package cli

import (
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/flywheel-ops/flywheel/apiv1"
	"github.com/flywheel-ops/flywheel/internal/recurrence"
)

func newMaintenanceCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "maintenance",
		Aliases: []string{"window", "maintenance-window", "mw"},
		Short:   "Plan maintenance windows that run tasks and deflect the alerts they cause (see docs/schedules.md)",
	}
	var tenant string
	cmd.PersistentFlags().StringVar(&tenant, "tenant", "", "act on this tenant (platform admin)")

	var (
		in                  apiv1.MaintenanceWindowInput
		weekly, start, end  string
		duration            time.Duration
		matchers, resources []string
		tags                []string
		expr, cutoff, group string
		startDate, endDate  string
		taskSpecs           []string
	)
	create := &cobra.Command{
		Use:   "create",
		Short: "Create a maintenance window",
		Long: `Create a maintenance window: on a cron or rate --schedule with --duration,
recurring (--weekly) or one-off (--start with --end or --duration), covering
the events that every given target selects: --matcher (labels), --resource
(resource IDs, any of them), --tag (inventory tags of the event's resource,
all of them) and --group (a resource group). With --task it also runs
runbooks on its targets when it opens (see docs/schedules.md).`,
		Example: `  flywheel maintenance create --name db-patching --weekly 'sat,sun 02:00 4h' --timezone Europe/Berlin --tag patch-group=db
  flywheel maintenance create --name web-deploy --start 2030-05-01T20:00:00Z --duration 1h --resource i-123 --resource i-456 --matcher 'alertname!="InstanceDown"'
  flywheel maintenance create --name patch-web --schedule 'cron(30 23 ? * TUE#3 *)' --schedule-offset 2 --timezone Europe/Berlin --duration 4h --cutoff 1h --tag patch-group=web --task name=diagnose,runbook=collect-host-diagnostics,priority=1,max_concurrency=2,max_errors=1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			in.Targets = apiv1.MaintenanceTargets{Matchers: matchers, ResourceIDs: resources, Group: group}
			if len(tags) > 0 {
				in.Targets.Tags = map[string]string{}
				for _, kv := range tags {
					k, v, ok := strings.Cut(kv, "=")
					if !ok || k == "" {
						return fmt.Errorf("--tag %q: want KEY=VALUE", kv)
					}
					in.Targets.Tags[k] = v
				}
			}
			for _, spec := range taskSpecs {
				t, err := parseTaskFlag(spec)
				if err != nil {
					return err
				}
				in.Tasks = append(in.Tasks, t)
			}
			in.Cutoff = cutoff
			oneOff := start != "" || end != "" || (expr == "" && cmd.Flags().Changed("duration"))
			switch {
			case expr != "" && (weekly != "" || start != "" || end != ""):
				return errors.New("give --schedule, --weekly, or --start with --end or --duration — one of them")
			case expr != "":
				if !cmd.Flags().Changed("duration") {
					return errors.New("--schedule needs --duration, how long each opening lasts")
				}
				in.Schedule = apiv1.MaintenanceSchedule{Expression: expr}
				in.Duration = recurrence.FormatDuration(duration)
				for _, d := range []struct {
					name string
					v    string
					p    **time.Time
				}{{"start-date", startDate, &in.StartDate}, {"end-date", endDate, &in.EndDate}} {
					if d.v == "" {
						continue
					}
					t, err := parseTimeFlag(d.name, d.v)
					if err != nil {
						return err
					}
					*d.p = &t
				}
			case weekly != "" && oneOff:
				return errors.New("give --weekly, or --start with --end or --duration, not both")
			case weekly != "":
				loc, err := recurrence.LoadLocation(in.Timezone)
				if err != nil {
					return fmt.Errorf("--timezone: %w", err)
				}
				w, err := recurrence.Parse(weekly, loc)
				if err != nil {
					return fmt.Errorf("--weekly: %w", err)
				}
				rec := apiv1.Recurrence(w.Record())
				rec.Timezone = "" // the window's
				in.Schedule = apiv1.MaintenanceSchedule{Weekly: &rec}
			case start == "":
				return errors.New("give --weekly 'DAYS HH:MM DURATION', or --start with --end or --duration")
			default:
				s, err := parseTimeFlag("start", start)
				if err != nil {
					return err
				}
				var e time.Time
				switch {
				case end != "" && cmd.Flags().Changed("duration"):
					return errors.New("give --end or --duration, not both")
				case end != "":
					if e, err = parseTimeFlag("end", end); err != nil {
						return err
					}
				case cmd.Flags().Changed("duration"):
					e = s.Add(duration)
				default:
					return errors.New("a one-off window needs --end or --duration")
				}
				in.Schedule = apiv1.MaintenanceSchedule{Start: &s, End: &e}
			}
			out, err := g.client().MaintenanceWindows(tenant).Create(cmd.Context(), in)
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), out)
			}
			fmt.Fprintln(cmd.OutOrStdout(), out.ID)
			return nil
		},
	}
	f := create.Flags()
	f.StringVar(&in.Name, "name", "", "name, unique in the tenant (required)")
	f.StringVar(&weekly, "weekly", "", `recurring: "DAYS HH:MM DURATION", e.g. "sat,sun 02:00 4h" or "mon-fri 22:00 1h"`)
	f.StringVar(&in.Timezone, "timezone", "", "IANA time zone of --weekly, e.g. Europe/Berlin (default UTC)")
	f.StringVar(&start, "start", "", "one-off: start, RFC 3339")
	f.StringVar(&end, "end", "", "one-off: end, RFC 3339")
	f.DurationVar(&duration, "duration", 0, "one-off: length from --start; with --schedule: each opening's length, e.g. 4h")
	f.StringArrayVarP(&matchers, "matcher", "m", nil, `target label matcher, repeatable: 'env="prod"'`)
	f.StringArrayVar(&resources, "resource", nil, "target resource ID, repeatable: i-123")
	f.StringArrayVar(&tags, "tag", nil, "target resource tag KEY=VALUE, repeatable")
	f.StringVar(&group, "group", "", "target resource group (content kind ResourceGroup)")
	f.StringVarP(&in.Comment, "comment", "c", "", "what the maintenance is")
	f.StringVar(&expr, "schedule", "", `recurring: cron "30 2 * * 6", "cron(30 23 ? * TUE#3 *)" or "rate(12 hours)"; with --duration`)
	f.IntVar(&in.ScheduleOffset, "schedule-offset", 0, "with a cron --schedule: open this many days (0-6) after each cron date")
	f.StringVar(&startDate, "start-date", "", "with --schedule: no opening before this, RFC 3339")
	f.StringVar(&endDate, "end-date", "", "with --schedule: no opening after this, RFC 3339")
	f.StringVar(&cutoff, "cutoff", "", "no task starts this long before an opening ends, e.g. 1h")
	f.StringArrayVar(&taskSpecs, "task", nil, `task, repeatable: "runbook=NAME,priority=1,max_concurrency=2,max_errors=1,cutoff_behavior=cancel,on_failure=continue,param.KEY=VALUE"`)

	list := &cobra.Command{
		Use:   "list",
		Short: "List maintenance windows",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{}
			if tenant != "" {
				q.Set("tenant", tenant)
			}
			items, err := listAll[apiv1.MaintenanceWindow](cmd, g, "/api/v1/maintenance-windows", q)
			if err != nil || g.json {
				return orJSON(cmd, items, err)
			}
			rows := make([][]string, len(items))
			for i, w := range items {
				open := "no"
				if w.Open {
					open = "yes"
				}
				next := "-"
				if w.NextStart != nil {
					next = fmtTime(*w.NextStart) + " – " + fmtTime(*w.NextEnd)
				}
				rows[i] = []string{w.ID, w.Name, scheduleText(w.MaintenanceWindowSpec), targetsText(w.Targets), open, next}
			}
			return printTable(cmd.OutOrStdout(), []string{"ID", "NAME", "SCHEDULE", "TARGETS", "OPEN", "CURRENT/NEXT"}, rows)
		},
	}
	get := getByIDCmd[apiv1.MaintenanceWindow](g, &tenant, "Show one maintenance window", "/api/v1/maintenance-windows")
	del := deleteEachCmd(g, &tenant, "delete ID…", "Delete maintenance windows", "/api/v1/maintenance-windows", "maintenance window", "deleted")
	cmd.AddCommand(create, list, get, del)
	addWindowRunCmds(cmd, g, &tenant)
	return cmd
}

func scheduleText(w apiv1.MaintenanceWindowSpec) string {
	if e := w.Schedule.Expression; e != "" {
		return e + " for " + w.Duration + " " + w.Timezone
	}
	if wk := w.Schedule.Weekly; wk != nil {
		return strings.Join(wk.Days, ",") + " " + wk.Start + " " + wk.Duration + " " + w.Timezone
	}
	if w.Schedule.Start != nil && w.Schedule.End != nil {
		return fmtTime(*w.Schedule.Start) + " – " + fmtTime(*w.Schedule.End)
	}
	return "-"
}

func targetsText(t apiv1.MaintenanceTargets) string {
	var parts []string
	parts = append(parts, t.Matchers...)
	if len(t.ResourceIDs) > 0 {
		parts = append(parts, "resource in ("+strings.Join(t.ResourceIDs, ", ")+")")
	}
	keys := make([]string, 0, len(t.Tags))
	for k := range t.Tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		parts = append(parts, "tag "+k+"="+t.Tags[k])
	}
	return oneLineText(strings.Join(parts, ", "), 80)
}
