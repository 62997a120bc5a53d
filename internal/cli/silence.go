package cli

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/flywheel-ops/flywheel/apiv1"
	"github.com/flywheel-ops/flywheel/internal/recurrence"
)

// tenantPath appends ?tenant= (and other query values) to an API path.
func tenantPath(path, tenant string, q url.Values) string {
	if q == nil {
		q = url.Values{}
	}
	if tenant != "" {
		q.Set("tenant", tenant)
	}
	if enc := q.Encode(); enc != "" {
		return path + "?" + enc
	}
	return path
}

func newSilenceCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "silence",
		Aliases: []string{"silences"},
		Short:   "Mute matching events for a while (see docs/deflection.md)",
	}
	var tenant string
	cmd.PersistentFlags().StringVar(&tenant, "tenant", "", "act on this tenant (platform admin)")

	var (
		in               apiv1.SilenceInput
		startsAt, endsAt string
		weekly, zone     string
		matchers         []string
		duration         time.Duration
	)
	create := &cobra.Command{
		Use:   "create [MATCHER…]",
		Short: "Create a silence; prints its ID",
		Long: `Create a silence. Matchers (--matcher, or as arguments) are Alertmanager's:
  alertname="DiskFull"   instance=~"db-.*"   env!="dev"   job!~"batch|cron"
All must match. Give the end as --duration or --ends-at. Quote each matcher
for the shell: --matcher 'alertname="Disk full"'.`,
		Example: `  flywheel silence create --matcher 'alertname="DiskFull"' --matcher 'instance=~"db-.*"' --duration 2h --comment "resizing volumes"
  flywheel silence create 'job="backup"' --weekly 'sat,sun 02:00 4h' --timezone Europe/Berlin --ends-at 2026-12-31T00:00:00Z --comment "weekend backups"`,
		RunE: func(cmd *cobra.Command, args []string) error {
			in.Matchers = append(append([]string(nil), matchers...), args...)
			durationSet, endOK := cmd.Flags().Changed("duration"), endsAt != ""
			switch {
			case durationSet && endOK:
				return errors.New("give --duration or --ends-at, not both")
			case durationSet:
				in.Duration = duration.String()
			case endOK:
				t, err := parseTimeFlag("ends-at", endsAt)
				if err != nil {
					return err
				}
				in.EndsAt = &t
			default:
				return errors.New("give --duration (e.g. 2h) or --ends-at (RFC 3339)")
			}
			if startsAt != "" {
				t, err := parseTimeFlag("starts-at", startsAt)
				if err != nil {
					return err
				}
				in.StartsAt = &t
			}
			if weekly != "" {
				loc, err := recurrence.LoadLocation(zone)
				if err != nil {
					return fmt.Errorf("--timezone: %w", err)
				}
				w, err := recurrence.Parse(weekly, loc)
				if err != nil {
					return fmt.Errorf("--weekly: %w", err)
				}
				rec := apiv1.Recurrence(w.Record())
				in.Recurrence = &rec
			} else if zone != "" {
				return errors.New("--timezone applies to --weekly only")
			}
			out, err := g.client().Silences(tenant).Create(cmd.Context(), in)
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
	create.Flags().StringArrayVarP(&matchers, "matcher", "m", nil, `label matcher, repeatable: 'alertname="DiskFull"'`)
	create.Flags().DurationVarP(&duration, "duration", "d", 0, "how long from the start, e.g. 2h")
	create.Flags().StringVar(&endsAt, "ends-at", "", "end time, RFC 3339 (2026-05-01T18:00:00Z)")
	create.Flags().StringVar(&startsAt, "starts-at", "", "start time, RFC 3339 (default now)")
	create.Flags().StringVarP(&in.Comment, "comment", "c", "", "why (required)")
	create.Flags().StringVar(&weekly, "weekly", "", `mute only in weekly slots: "DAYS HH:MM DURATION", e.g. "sat,sun 02:00 4h"`)
	create.Flags().StringVar(&zone, "timezone", "", "IANA time zone of --weekly (default UTC)")

	var expired bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List active and pending silences, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{}
			if tenant != "" {
				q.Set("tenant", tenant)
			}
			if expired {
				q.Set("expired", "true")
			}
			items, err := listAll[apiv1.Silence](cmd, g, "/api/v1/silences", q)
			if err != nil || g.json {
				return orJSON(cmd, items, err)
			}
			rows := make([][]string, len(items))
			for i, s := range items {
				state := string(s.State)
				if s.Recurrence != nil {
					state += " (" + strings.Join(s.Recurrence.Days, ",") + " " + s.Recurrence.Start + " " + s.Recurrence.Duration + " " + s.Recurrence.Timezone + ")"
				}
				rows[i] = []string{s.ID, state, strings.Join(s.Matchers, ", "), fmtTime(s.StartsAt), fmtTime(s.EndsAt), s.CreatedBy, oneLineText(s.Comment, 60)}
			}
			return printTable(cmd.OutOrStdout(), []string{"ID", "STATE", "MATCHERS", "STARTS", "ENDS", "CREATED BY", "COMMENT"}, rows)
		},
	}
	list.Flags().BoolVar(&expired, "expired", false, "include silences that have ended")

	get := getByIDCmd[apiv1.Silence](g, &tenant, "Show one silence", "/api/v1/silences")
	expire := deleteEachCmd(g, &tenant, "expire ID…", "End silences now", "/api/v1/silences", "silence", "expired")
	cmd.AddCommand(create, list, get, expire)
	return cmd
}

func parseTimeFlag(name, v string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return t, fmt.Errorf("--%s %q is not an RFC 3339 time such as 2026-05-01T18:00:00Z", name, v)
	}
	return t, nil
}

// oneLineText flattens and shortens free text for a table cell.
func oneLineText(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
