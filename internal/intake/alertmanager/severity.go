package alertmanager

import (
	"strings"

	"github.com/flywheel-ops/flywheel/internal/event"
)

// severityWords maps the values seen in the wild in a Prometheus "severity"
// label (kube-prometheus, syslog levels, pager priorities) to the normalized
// severity. Keys are lower case.
var severityWords = map[string]event.Severity{
	"critical":  event.SeverityCritical,
	"crit":      event.SeverityCritical,
	"page":      event.SeverityCritical,
	"paging":    event.SeverityCritical,
	"fatal":     event.SeverityCritical,
	"emergency": event.SeverityCritical,
	"emerg":     event.SeverityCritical,
	"disaster":  event.SeverityCritical,
	"p1":        event.SeverityCritical,

	"high":   event.SeverityHigh,
	"error":  event.SeverityHigh,
	"err":    event.SeverityHigh,
	"major":  event.SeverityHigh,
	"severe": event.SeverityHigh,
	"p2":     event.SeverityHigh,

	"medium":   event.SeverityMedium,
	"warning":  event.SeverityMedium,
	"warn":     event.SeverityMedium,
	"moderate": event.SeverityMedium,
	"average":  event.SeverityMedium,
	"p3":       event.SeverityMedium,

	"low":    event.SeverityLow,
	"minor":  event.SeverityLow,
	"notice": event.SeverityLow,
	"p4":     event.SeverityLow,

	"info":          event.SeverityInfo,
	"informational": event.SeverityInfo,
	"information":   event.SeverityInfo,
	"debug":         event.SeverityInfo,
	"none":          event.SeverityInfo, // kube-prometheus Watchdog, InfoInhibitor
	"p5":            event.SeverityInfo,
}

// severityOf maps a severity label value to the normalized severity,
// ignoring case and surrounding space. An absent or unrecognised value is
// medium: the alert is real enough to open an OpsItem, but nothing says it
// is an outage; a rule can raise or lower it from the labels.
func severityOf(label string) event.Severity {
	if s, ok := severityWords[label]; ok { // the common case: already clean
		return s
	}
	if s, ok := severityWords[strings.ToLower(strings.TrimSpace(label))]; ok {
		return s
	}
	return event.SeverityMedium
}
