package servercmd

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/flywheel-ops/flywheel/internal/replay"
)

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
