package cli

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/flywheel-ops/flywheel/apiv1"
)

// Human output of single objects: one "Field:  value" line each, the
// fields a person reads first; --json prints everything.

// field is one line of a fields block; empty values are left out.
type field struct{ name, value string }

func printFields(w io.Writer, fs []field) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, f := range fs {
		if f.value != "" {
			fmt.Fprintf(tw, "%s:\t%s\n", f.name, f.value)
		}
	}
	return tw.Flush()
}

func timeField(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return fmtTime(t)
}

func timePtrField(t *time.Time) string {
	if t == nil {
		return ""
	}
	return fmtTime(*t)
}

func printOpsItem(w io.Writer, o apiv1.OpsItem) error {
	acked := ""
	if o.AcknowledgedAt != nil {
		acked = fmtTime(*o.AcknowledgedAt) + " by " + o.AcknowledgedBy
	}
	resolved := ""
	if o.ResolvedAt != nil {
		resolved = fmtTime(*o.ResolvedAt) + " by " + o.ResolvedBy
	}
	occ := ""
	if o.Occurrences > 0 {
		occ = strconv.FormatInt(o.Occurrences, 10)
	}
	err := printFields(w, []field{
		{"ID", o.ID}, {"Title", o.Title}, {"Status", o.Status}, {"Severity", o.Severity}, {"Area", o.Category},
		{"Source", o.Source}, {"Rule", o.Rule},
		{"Created", timeField(o.CreatedAt)}, {"First event", timeField(o.FirstEventAt)}, {"Last event", timeField(o.LastEventAt)},
		{"Occurrences", occ}, {"Assignee", o.Assignee}, {"Acknowledged", acked}, {"Resolved", resolved},
		{"In hands", humanSecondsText(o.HumanSeconds)},
	})
	if err != nil {
		return err
	}
	if d := strings.TrimSpace(o.Description); d != "" {
		_, err = fmt.Fprintf(w, "\n%s\n", d)
	}
	return err
}

func humanSecondsText(s int64) string {
	if s == 0 {
		return ""
	}
	return durationText(s)
}

func printTenant(w io.Writer, t apiv1.Tenant) error {
	return printFields(w, []field{{"ID", t.ID}, {"Name", t.Name}, {"Description", t.Description}, {"Created", timeField(t.CreatedAt)}})
}

func printAgent(w io.Writer, a apiv1.AgentView) error {
	version := a.Version
	if a.Outdated {
		version += " (outdated: the fleet runs " + a.DesiredVersion + ")"
	}
	var tags []string
	for _, k := range slices.Sorted(maps.Keys(a.Tags)) {
		tags = append(tags, k+"="+a.Tags[k])
	}
	interval := ""
	if a.Interval > 0 {
		interval = a.Interval.String()
	}
	return printFields(w, []field{
		{"ID", a.ID}, {"Host", a.Hostname}, {"State", a.State}, {"Version", version}, {"Platform", strings.Trim(a.OS+"/"+a.Arch, "/")},
		{"Resource", a.ResourceID}, {"Tags", strings.Join(tags, ", ")}, {"Enrolled", timeField(a.EnrolledAt)},
		{"Last seen", timePtrField(a.LastSeenAt)}, {"Started", timePtrField(a.StartedAt)}, {"Heartbeat", interval},
		{"Not reporting since", timePtrField(a.NotReportingSince)}, {"Revoked", timePtrField(a.RevokedAt)}, {"Last update", a.Update},
	})
}
