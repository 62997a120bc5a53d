package cli

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/flywheel-ops/flywheel/apiv1"
	"github.com/flywheel-ops/flywheel/internal/intake/generic"
)

func newEventCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "event",
		Aliases: []string{"events"},
		Short:   "Send events and see what the pipeline did with them (see docs/intake.md)",
	}
	var tenant string
	cmd.PersistentFlags().StringVar(&tenant, "tenant", "", "act on this tenant (platform admin)")
	cmd.AddCommand(newEventSendCmd(g, &tenant), newEventListCmd(g, &tenant))
	return cmd
}

func newEventSendCmd(g *globals, tenant *string) *cobra.Command {
	var (
		al     generic.Alert
		labels []string
	)
	send := &cobra.Command{
		Use:   "send",
		Short: "Send one event in the generic JSON format",
		Long: `Send one event to POST /api/v1/intake/generic, in Flywheel's documented
generic format (docs/intake.md). The server answers once the event is stored
durably; deduplication, deflection and correlation happen right after, so
the OpsItem (if any) appears a moment later: see "flywheel event list".

Events without --fingerprint are deduplicated by source, title, resource and
labels, so sending the same event with --status resolved resolves it.`,
		Example: `  flywheel event send --title "Backup job failed" --severity high --resource db-01 --label job=nightly --source cron
  flywheel event send --title "Backup job failed" --resource db-01 --label job=nightly --source cron --status resolved`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if strings.TrimSpace(al.Title) == "" {
				return errors.New("--title is required")
			}
			var err error
			if al.Labels, err = parseLabels(labels); err != nil {
				return err
			}
			var out struct {
				Accepted int `json:"accepted"`
			}
			if err := g.client().Do(cmd.Context(), "POST", tenantPath("/api/v1/intake/generic", *tenant, nil), al, &out); err != nil {
				return err
			}
			if g.json {
				return printJSON(cmd.OutOrStdout(), out)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "accepted %d event(s)\n", out.Accepted)
			return nil
		},
	}
	f := send.Flags()
	f.StringVar(&al.Title, "title", "", "what is wrong (required)")
	f.StringVar(&al.Severity, "severity", "", "critical, high, medium, low or info (default medium)")
	f.StringVar(&al.Status, "status", "", "firing or resolved (default firing)")
	f.StringVar(&al.Resource, "resource", "", "the resource it is about: host, URL, ARN, i-…")
	f.StringVar(&al.ResourceType, "resource-type", "", "the resource's type (default inferred from --resource)")
	f.StringArrayVarP(&labels, "label", "l", nil, "label KEY=VALUE, repeatable")
	f.StringVar(&al.Source, "source", "", `what sent it; the event's source is "generic:SOURCE"`)
	f.StringVar(&al.Description, "description", "", "details")
	f.StringVar(&al.Kind, "kind", "", "alert, finding, change, compliance or health (default alert)")
	f.StringVar(&al.Timestamp, "timestamp", "", "when it happened, RFC 3339 (default now)")
	f.StringVar(&al.ID, "id", "", "upstream id: sending the same id again is idempotent")
	f.StringVar(&al.Fingerprint, "fingerprint", "", "deduplication key (default derived from source, title, resource and labels)")
	return send
}

// parseLabels turns KEY=VALUE flags into a map.
func parseLabels(kvs []string) (map[string]string, error) {
	if len(kvs) == 0 {
		return nil, nil
	}
	m := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("--label %q is not KEY=VALUE", kv)
		}
		m[strings.TrimSpace(k)] = v
	}
	return m, nil
}

func newEventListCmd(g *globals, tenant *string) *cobra.Command {
	var (
		f        eventFilter
		from, to string
		limit    int
	)
	list := &cobra.Command{
		Use:   "list",
		Short: "List stored events, newest received first, with what the pipeline decided",
		Long: `List stored events, the most recently received first: RECEIVED is when
Flywheel received each one (the order), OCCURRED the event's own time (an
old event replayed today is received today). DECISION is what the pipeline did with
each event (opened, attached, updated, resolved, held, transient, suppressed,
flapping, …) and REASON why: the silence, maintenance window, inhibiting
alert or correlation rule responsible.`,
		Example: `  flywheel event list --decision suppressed
  flywheel event list --resource db-01 --from 2026-05-01T00:00:00Z --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{}
			for k, v := range map[string]string{"source": f.Source, "fingerprint": f.Fingerprint, "resource": f.Resource,
				"status": f.Status, "decision": f.Decision, "opsitem": f.OpsItemID, "tenant": *tenant} {
				if v != "" {
					q.Set(k, v)
				}
			}
			for name, v := range map[string]string{"from": from, "to": to} {
				if v == "" {
					continue
				}
				if _, err := parseTimeFlag(name, v); err != nil {
					return err
				}
				q.Set(name, v)
			}
			if limit < 1 {
				return fmt.Errorf("--limit %d: must be at least 1", limit)
			}
			items, err := listUpTo[apiv1.Event](cmd, g, "/api/v1/events", q, limit)
			if err != nil || g.json {
				return orJSON(cmd, items, err)
			}
			rows := make([][]string, len(items))
			for i, e := range items {
				rows[i] = []string{fmtTime(e.ReceivedAt), fmtTime(e.OccurredAt), e.Source, e.Status, e.Decision, oneLineText(e.Title, 60), oneLineText(e.Reason, 60)}
			}
			return printTable(cmd.OutOrStdout(), []string{"RECEIVED", "OCCURRED", "SOURCE", "STATUS", "DECISION", "TITLE", "REASON"}, rows)
		},
	}
	fl := list.Flags()
	fl.StringVar(&f.Source, "source", "", `source, e.g. alertmanager, guardduty, generic:cron`)
	fl.StringVar(&f.Fingerprint, "fingerprint", "", "deduplication fingerprint")
	fl.StringVar(&f.Resource, "resource", "", "resource ID (the event's first resource)")
	fl.StringVar(&f.Status, "status", "", "firing or resolved")
	fl.StringVar(&f.Decision, "decision", "", "opened, attached, updated, resolved, held, transient, suppressed, flapping, …")
	fl.StringVar(&f.OpsItemID, "opsitem", "", "events of this OpsItem")
	fl.StringVar(&from, "from", "", "occurred at or after, RFC 3339")
	fl.StringVar(&to, "to", "", "occurred before, RFC 3339")
	fl.IntVar(&limit, "limit", 100, "show at most this many events")
	return list
}

// listUpTo pages through a list endpoint until it has n items. When it
// stops with more left, it says so on stderr (but for --json, whose
// readers are programs), naming the flag that shows more: a list never
// ends silently at its limit.
func listUpTo[T any](cmd *cobra.Command, g *globals, path string, q url.Values, n int) ([]T, error) {
	all := []T{}
	c := g.client()
	more := false
	for len(all) < n {
		q.Set("limit", strconv.Itoa(min(n-len(all), apiv1.MaxPageLimit)))
		var page apiv1.List[T]
		if err := c.Do(cmd.Context(), "GET", path+"?"+q.Encode(), nil, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Items...)
		if more = page.NextCursor != ""; !more {
			break
		}
		q.Set("cursor", page.NextCursor)
	}
	if more && !g.json {
		fmt.Fprintf(cmd.ErrOrStderr(), "showing the first %d; more exist: raise --limit (e.g. --limit %d) or narrow the filters\n", len(all), 2*n)
	}
	return all, nil
}
