package matcher

import "github.com/flywheel-ops/flywheel/internal/event"

// The labels EventLabels derives from an event's own fields.
const (
	LabelAlertname    = "alertname"
	LabelSource       = "source"
	LabelSeverity     = "severity"
	LabelKind         = "kind"
	LabelResource     = "resource"
	LabelResourceType = "resource_type"
	// LabelNormalizedSeverity always holds the normalized severity, even
	// when the source sent a severity label of its own vocabulary.
	LabelNormalizedSeverity = "flywheel_severity"
)

// EventLabels returns the label set matchers see for an event: a copy of
// e.Labels plus, for each of the following that e.Labels does not already
// have, a label derived from the event itself:
//
//	alertname      e.Title, for alerts (kind "alert") only
//	source         e.Source ("alertmanager", "cloudwatch", "guardduty", …)
//	severity       e.Severity, normalized: critical, high, medium, low, info
//	kind           e.Kind: alert, finding, change, compliance, health
//	resource       the ID of the event's first (most specific) resource
//	resource_type  that resource's type ("host", "ec2-instance", …)
//
// A label the source sent wins over a derived one: an Alertmanager alert's
// own severity="warning" stays, so matchers written for Prometheus keep
// working. For matchers that must work across sources, one more label is
// always set from the event and overrides a source label of that name:
//
//	flywheel_severity  e.Severity (critical, high, medium, low, info)
//
// so flywheel_severity="medium" matches a Prometheus severity="warning"
// alert and a CloudWatch alarm alike. Empty derived values are left out (a
// missing label and an empty one match alike). The result is a new map the
// caller may keep.
func EventLabels(e *event.Event) map[string]string {
	out := make(map[string]string, len(e.Labels)+7)
	for k, v := range e.Labels {
		out[k] = v
	}
	add := func(k, v string) {
		if v == "" {
			return
		}
		if _, ok := out[k]; !ok {
			out[k] = v
		}
	}
	if e.Kind == event.KindAlert {
		add(LabelAlertname, e.Title)
	}
	add(LabelSource, e.Source)
	add(LabelSeverity, string(e.Severity))
	if e.Severity != "" {
		out[LabelNormalizedSeverity] = string(e.Severity)
	}
	add(LabelKind, string(e.Kind))
	if len(e.Resources) > 0 {
		add(LabelResource, e.Resources[0].ID)
		add(LabelResourceType, e.Resources[0].Type)
	}
	return out
}
