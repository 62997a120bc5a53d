// Package event defines Flywheel's one normalized signal model.
//
// Every intake adapter turns its source format into []Event; everything after
// intake (dedup, deflection, correlation, rules) reads only this type, so a new
// source never changes the pipeline.
package event

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sort"
	"strings"
	"time"
)

// Kind says what sort of signal an event is.
type Kind string

const (
	KindAlert      Kind = "alert"
	KindFinding    Kind = "finding"
	KindChange     Kind = "change"
	KindCompliance Kind = "compliance"
	KindHealth     Kind = "health"
)

// Severity is the normalized severity, from most to least urgent.
type Severity string

const (
	SeverityCritical Severity = "critical"
	SeverityHigh     Severity = "high"
	SeverityMedium   Severity = "medium"
	SeverityLow      Severity = "low"
	SeverityInfo     Severity = "info"
)

// Rank orders severities: critical is 5, info is 1, unknown is 0.
func (s Severity) Rank() int {
	switch s {
	case SeverityCritical:
		return 5
	case SeverityHigh:
		return 4
	case SeverityMedium:
		return 3
	case SeverityLow:
		return 2
	case SeverityInfo:
		return 1
	}
	return 0
}

// Valid reports whether s is one of the five normalized severities.
func (s Severity) Valid() bool { return s.Rank() > 0 }

// Status is whether the condition an event reports is still present.
type Status string

const (
	StatusFiring   Status = "firing"
	StatusResolved Status = "resolved"
)

// ResourceRef names a resource loosely, as the source did; resolution to an
// inventory resource happens later. Type is a short vocabulary word
// ("host", "ec2-instance", "s3-bucket", "access-key", "ebs-volume",
// "security-group", "aws-account", "url", …); ID is the source's identifier.
type ResourceRef struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	// Region and Account are set for cloud resources when the source says.
	Region  string `json:"region,omitempty"`
	Account string `json:"account,omitempty"`
}

// Event is one normalized signal.
type Event struct {
	// Source names the adapter and, where useful, the upstream product:
	// "alertmanager", "cloudwatch", "guardduty", "securityhub", "config",
	// "inspector2", "macie", "health", "ec2", "eventbridge", "generic:<name>".
	Source string `json:"source"`
	// SourceID is the upstream's own identity for this occurrence when it has
	// one (EventBridge event id, SNS MessageId, finding Id); re-delivery of the
	// same SourceID is idempotent.
	SourceID string   `json:"source_id,omitempty"`
	Kind     Kind     `json:"kind"`
	Severity Severity `json:"severity"`
	Status   Status   `json:"status"`
	// Title is a short human summary (alert name, finding title, alarm name).
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	// Resources the event is about, most specific first.
	Resources []ResourceRef `json:"resources,omitempty"`
	// Labels are flat key/value facts kept from the source (alert labels,
	// finding type, account, region, rule name…).
	Labels map[string]string `json:"labels,omitempty"`
	// Annotations hold longer descriptive text (Alertmanager annotations).
	Annotations map[string]string `json:"annotations,omitempty"`
	// OccurredAt is the event's own time, taken from the payload.
	OccurredAt time.Time `json:"occurred_at"`
	// EndsAt is set when the source says when the condition ended.
	EndsAt time.Time `json:"ends_at,omitzero"`
	// ReceivedAt is set by intake when the request arrived.
	ReceivedAt time.Time `json:"received_at,omitzero"`
	// Fingerprint identifies "the same problem" across occurrences: the
	// dedup key. Adapters set it (labels for alerts, finding id for findings).
	Fingerprint string `json:"fingerprint"`
	// UpdatedAt orders versions of the same finding (Security Hub UpdatedAt):
	// an older version never overwrites a newer one. Zero when not applicable.
	UpdatedAt time.Time `json:"updated_at,omitzero"`
	// Raw is the source payload for this event (the whole body, or the one
	// element of a batch it came from).
	Raw json.RawMessage `json:"raw,omitempty"`
}

// FingerprintOf returns a stable hex fingerprint of the given source and
// key/value pairs, independent of map order.
func FingerprintOf(source string, kv map[string]string) string {
	keys := make([]string, 0, len(kv))
	for k := range kv {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	h.Write([]byte(source))
	h.Write([]byte{0})
	for _, k := range keys {
		h.Write([]byte(k))
		h.Write([]byte{0xff})
		h.Write([]byte(kv[k]))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// FleetSource is the source of the events Flywheel raises about its own
// fleet (an agent not reporting, a host without an agent); they reach the
// pipeline through the generic adapter as "generic:fleet".
const FleetSource = "fleet"

// IsOwn reports whether source is Flywheel's own: such events are the
// platform reporting on itself, not signals a monitored system sent, so
// they are not counted as received noise.
func IsOwn(source string) bool {
	return source == FleetSource || source == "generic:"+FleetSource
}

// SenderLabel is the label intake sets on every event a sender posts: the
// actor of the token that sent it ("token:<id>"), whatever the payload
// said. Four-eyes approval reads it: a token may not approve what its own
// event set off.
const SenderLabel = "flywheel_sender"

// StampSender marks events as a sender's (the token's actor): it sets
// SenderLabel on every event, on a copy of its labels (adapters may share
// one map between events), and namespaces each fingerprint by the event's
// source ("<source>/<fingerprint>"), so a sender of one source cannot
// repeat or resolve another source's problems by posting their
// fingerprints. Tenants are apart already: every dedup key is per tenant.
func StampSender(evs []Event, sender string) {
	for i := range evs {
		if fp, src := evs[i].Fingerprint, evs[i].Source; fp != "" && !strings.HasPrefix(fp, src+"/") {
			evs[i].Fingerprint = src + "/" + fp
		}
		labels := make(map[string]string, len(evs[i].Labels)+1)
		for k, v := range evs[i].Labels {
			labels[k] = v
		}
		labels[SenderLabel] = sender
		evs[i].Labels = labels
	}
}

// The fingerprint namespaces of the events Flywheel raises itself. Intake
// refuses a sender's event with a fingerprint in one of them, so no sender
// can fire, repeat or resolve what Flywheel reports about its own fleet.
const (
	NotReportingPrefix   = "agent-not-reporting:"
	ServiceStoppedPrefix = "service-stopped:"
	UnmanagedPrefix      = "host-without-agent:"
	AgentIdentityPrefix  = "agent-identity:"
)

// ownPrefixes lists the namespaces above.
var ownPrefixes = []string{NotReportingPrefix, ServiceStoppedPrefix, UnmanagedPrefix, AgentIdentityPrefix}

// OwnNamespace returns the namespace of Flywheel's own that fingerprint is
// in, or "".
func OwnNamespace(fingerprint string) string {
	for _, p := range ownPrefixes {
		if len(fingerprint) >= len(p) && strings.EqualFold(fingerprint[:len(p)], p) {
			return p
		}
	}
	return ""
}
