package correlate

import "github.com/flywheel-ops/flywheel/internal/event"

// Severity is a group's severity: the most urgent of its members'. Unknown
// severities are ignored; with no known one it is info.
func Severity(members []event.Severity) event.Severity {
	best := event.SeverityInfo
	for _, s := range members {
		if s.Rank() > best.Rank() {
			best = s
		}
	}
	return best
}
