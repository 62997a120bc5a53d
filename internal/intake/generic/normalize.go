package generic

import (
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/event"
)

// fields are the values an event is built from, whether they came from the
// documented format or from a mapping's expressions. Empty means not given.
type fields struct {
	source, id, fingerprint, kind, title, severity, status string
	resource, resourceType, description, timestamp         string
	at                                                     time.Time // a CEL timestamp, when a mapping gave one
	labels                                                 map[string]string
}

// fieldError is a validation failure of one field; the caller prefixes where
// the field came from ("[2].", `mapping "grafana": `).
type fieldError struct {
	field, msg string
}

func (e *fieldError) Error() string { return e.field + ": " + e.msg }

// build validates f and makes the event. now stands in for a missing
// timestamp.
func build(f fields, now time.Time) (event.Event, error) {
	title := strings.TrimSpace(f.title)
	if title == "" {
		return event.Event{}, &fieldError{"title", "is required"}
	}
	sev, err := parseSeverity(f.severity)
	if err != nil {
		return event.Event{}, err
	}
	status, err := parseStatus(f.status)
	if err != nil {
		return event.Event{}, err
	}
	kind, err := parseKind(f.kind)
	if err != nil {
		return event.Event{}, err
	}
	at := f.at
	if at.IsZero() && f.timestamp != "" {
		at, err = time.Parse(time.RFC3339, f.timestamp)
		if err != nil {
			return event.Event{}, &fieldError{"timestamp", fmt.Sprintf("invalid RFC 3339 timestamp %q", f.timestamp)}
		}
	}
	if at.IsZero() {
		at = now
	}

	ev := event.Event{
		Source:      f.source,
		SourceID:    strings.TrimSpace(f.id),
		Kind:        kind,
		Severity:    sev,
		Status:      status,
		Title:       title,
		Description: f.description,
		OccurredAt:  at.UTC(),
		Fingerprint: strings.TrimSpace(f.fingerprint),
	}
	if len(f.labels) > 0 {
		ev.Labels = f.labels
	}
	resource := strings.TrimSpace(f.resource)
	switch {
	case resource != "":
		ref := inferResource(resource)
		if t := strings.TrimSpace(f.resourceType); t != "" {
			ref = event.ResourceRef{Type: t, ID: resource}
		}
		ev.Resources = []event.ResourceRef{ref}
	case strings.TrimSpace(f.resourceType) != "":
		return event.Event{}, &fieldError{"resource_type", "given without resource"}
	}
	if ev.Fingerprint == "" {
		ev.Fingerprint = fingerprint(ev.Source, title, resource, f.labels)
	}
	return ev, nil
}

// fingerprint hashes what identifies "the same problem": source, title,
// resource and labels — not status, so a resolution matches its alert.
// Title and resource go in under keys no JSON label can have.
func fingerprint(source, title, resource string, labels map[string]string) string {
	kv := make(map[string]string, len(labels)+2)
	maps.Copy(kv, labels)
	kv["\x00title"] = title
	kv["\x00resource"] = resource
	return event.FingerprintOf(source, kv)
}

// severityWords maps the five severities and the words monitoring tools
// commonly use for them. Keys are lower case.
var severityWords = map[string]event.Severity{
	"critical": event.SeverityCritical, "crit": event.SeverityCritical, "fatal": event.SeverityCritical,
	"emergency": event.SeverityCritical, "page": event.SeverityCritical, "disaster": event.SeverityCritical,
	"p1": event.SeverityCritical,

	"high": event.SeverityHigh, "error": event.SeverityHigh, "err": event.SeverityHigh,
	"major": event.SeverityHigh, "severe": event.SeverityHigh, "p2": event.SeverityHigh,

	"medium": event.SeverityMedium, "warning": event.SeverityMedium, "warn": event.SeverityMedium,
	"moderate": event.SeverityMedium, "average": event.SeverityMedium, "p3": event.SeverityMedium,

	"low": event.SeverityLow, "minor": event.SeverityLow, "notice": event.SeverityLow, "p4": event.SeverityLow,

	"info": event.SeverityInfo, "informational": event.SeverityInfo, "information": event.SeverityInfo,
	"debug": event.SeverityInfo, "none": event.SeverityInfo, "p5": event.SeverityInfo,
}

// parseSeverity accepts the five severities and common words for them, in
// any case. Absent is medium; anything else is the sender's mistake — unlike
// Alertmanager labels, this is a field the sender fills for us.
func parseSeverity(s string) (event.Severity, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return event.SeverityMedium, nil
	}
	if sev, ok := severityWords[s]; ok {
		return sev, nil
	}
	return "", &fieldError{"severity", fmt.Sprintf("must be critical, high, medium, low or info (or a common word such as warning or error), got %q", s)}
}

func parseStatus(s string) (event.Status, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "firing":
		return event.StatusFiring, nil
	case "resolved":
		return event.StatusResolved, nil
	}
	return "", &fieldError{"status", fmt.Sprintf("must be \"firing\" or \"resolved\", got %q", s)}
}

func parseKind(s string) (event.Kind, error) {
	switch k := event.Kind(strings.ToLower(strings.TrimSpace(s))); k {
	case "":
		return event.KindAlert, nil
	case event.KindAlert, event.KindFinding, event.KindChange, event.KindCompliance, event.KindHealth:
		return k, nil
	}
	return "", &fieldError{"kind", fmt.Sprintf("must be alert, finding, change, compliance or health, got %q", s)}
}
