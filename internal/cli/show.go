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

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/replay"
	"github.com/flywheel-ops/flywheel/internal/store"
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

func printOpsItem(w io.Writer, o store.OpsItem) error {
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

func printTenant(w io.Writer, t store.Tenant) error {
	return printFields(w, []field{{"ID", t.ID}, {"Name", t.Name}, {"Description", t.Description}, {"Created", timeField(t.CreatedAt)}})
}

func printAgent(w io.Writer, a api.AgentView) error {
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

func printReplay(w io.Writer, r replay.Report) error {
	fmt.Fprintf(w, "received %d alert occurrences (%d repeats deduplicated)\n", r.Received, r.Deduplicated)
	var sup []string
	for _, k := range slices.Sorted(maps.Keys(r.Suppressed)) {
		sup = append(sup, fmt.Sprintf("%s %d", k, r.Suppressed[k]))
	}
	if len(sup) > 0 {
		fmt.Fprintf(w, "suppressed: %s\n", strings.Join(sup, ", "))
	}
	fmt.Fprintf(w, "noise reduction %s: %d OpsItems would open\n", strconv.FormatFloat(100*r.NoiseReduction, 'f', 1, 64)+" %", len(r.OpsItems))
	if len(r.OpsItems) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	rows := make([][]string, len(r.OpsItems))
	for i, o := range r.OpsItems {
		status := o.Status
		if o.Flapping {
			status += " (flapping)"
		}
		rows[i] = []string{o.Severity, o.Category, status, orDash(o.Rule), strconv.Itoa(len(o.Fingerprints)), oneLineText(o.Title, 70)}
	}
	if err := printTable(w, []string{"SEVERITY", "AREA", "STATUS", "RULE", "ALERTS", "TITLE"}, rows); err != nil {
		return err
	}
	// Why the OpsItems that joined several alerts did.
	const shown = 3
	for _, o := range r.OpsItems {
		if len(o.Joins) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s\n", oneLineText(o.Title, 100))
		if o.RootCause != nil {
			fmt.Fprintf(w, "  probable root cause: %s (%s)\n", o.RootCause.Title, o.RootCause.Severity)
		}
		for i, j := range o.Joins {
			if i == shown {
				fmt.Fprintf(w, "  … and %d more joins (--json lists them)\n", len(o.Joins)-shown)
				break
			}
			fmt.Fprintf(w, "  joined %s: %s\n", j.Title, oneLineText(j.Reason, 140))
		}
	}
	return nil
}
