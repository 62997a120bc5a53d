// Package eventbridge is the intake adapter for Amazon EventBridge events,
// delivered to Flywheel by an EventBridge API destination (or any forwarder
// that posts the event envelope as JSON).
//
// A body is one envelope or an array of envelopes. Each known detail-type is
// normalized by its own file: CloudWatch alarm state changes (cloudwatch.go),
// GuardDuty (guardduty.go), Security Hub ASFF (securityhub.go), AWS Config
// compliance changes (config.go), Inspector2 (inspector.go), Macie
// (macie.go), AWS Health (health.go) and EC2 instance state changes
// (ec2.go). Every other detail-type becomes a generic "eventbridge" change
// event carrying its raw envelope: an event the adapter does not understand
// is kept, never dropped and never an error.
//
// Conventions shared by all handlers:
//
//   - OccurredAt is the payload's own time (a finding's updatedAt, an
//     alarm's state timestamp, …), falling back to the envelope "time" when
//     the payload has none or it cannot be read. All times are UTC.
//   - Findings (GuardDuty, Security Hub, Inspector2, Macie) use the finding
//     id as SourceID and set UpdatedAt, so re-deliveries and older versions
//     of a finding are recognised downstream; other events use the envelope
//     id as SourceID.
//   - Raw is the envelope the event came from. A Security Hub envelope with
//     several findings yields one event per finding, each with a copy of the
//     envelope whose detail.findings holds only that finding, so every Raw
//     replays to exactly its own event.
//   - Resources use short ids where the inventory knows them ("i-…", "sg-…",
//     bucket names) with Region and Account set; when a payload names no
//     resource the account itself is the resource ("aws-account").
//   - Labels always carry "account" and "region" when known.
//
// Missing or ill-typed fields the adapter needs (detail-type, detail, a
// finding id) are *intake.BadRequest errors naming the field by its JSON
// path ("events[1].detail.findings[0].Id is required").
package eventbridge

import (
	"bytes"
	"context"
	"encoding/json"
	"time"

	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/intake"
)

// Adapter parses EventBridge envelopes. It holds no state; one Adapter may
// serve concurrent requests.
type Adapter struct{}

var _ intake.Adapter = (*Adapter)(nil)

// New returns an EventBridge adapter.
func New() *Adapter { return &Adapter{} }

// Name returns "eventbridge".
func (*Adapter) Name() string { return "eventbridge" }

// Parse turns one envelope, or an array of envelopes, into events.
func (*Adapter) Parse(_ context.Context, req intake.Request) (intake.Result, error) {
	var body json.RawMessage
	if err := intake.DecodeJSON(req.Body, &body); err != nil {
		return intake.Result{}, err
	}
	body = bytes.TrimSpace(body)
	switch body[0] {
	case '{':
		evs, err := parseEnvelope(body, "")
		if err != nil {
			return intake.Result{}, err
		}
		return intake.Result{Events: evs}, nil
	case '[':
		var elems []json.RawMessage
		if err := json.Unmarshal(body, &elems); err != nil {
			return intake.Result{}, intake.JSONError(body, err)
		}
		if len(elems) == 0 {
			return intake.Result{}, intake.Badf("expected at least one EventBridge event, got empty array")
		}
		var out []event.Event
		for i, elem := range elems {
			evs, err := parseEnvelope(elem, "events["+itoa(i)+"]")
			if err != nil {
				return intake.Result{}, err
			}
			out = append(out, evs...)
		}
		return intake.Result{Events: out}, nil
	}
	return intake.Result{}, intake.Badf("expected an EventBridge event object (or array of events), got %s", intake.Shape(body))
}

// envelope is the EventBridge event structure common to every detail-type.
type envelope struct {
	Version    string          `json:"version"`
	ID         string          `json:"id"`
	DetailType *string         `json:"detail-type"`
	Source     string          `json:"source"`
	Account    string          `json:"account"`
	Time       string          `json:"time"`
	Region     string          `json:"region"`
	Resources  []string        `json:"resources"`
	Detail     json.RawMessage `json:"detail"`

	raw  json.RawMessage // the envelope as received
	path string          // JSON path of the envelope in the body: "" or "events[3]"
	time time.Time       // parsed Time, zero when absent
}

// at returns the JSON path of a field of this envelope, for error messages.
func (env *envelope) at(field string) string { return joinPath(env.path, field) }

func parseEnvelope(raw json.RawMessage, path string) ([]event.Event, error) {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		what := "body"
		if path != "" {
			what = path
		}
		return nil, intake.Badf("%s: expected an EventBridge event object, got %s", what, intake.Shape(raw))
	}
	env := &envelope{raw: raw, path: path}
	if err := decodeAt(raw, env, path); err != nil {
		return nil, err
	}
	if env.DetailType == nil || *env.DetailType == "" {
		return nil, intake.Badf("%s is required", env.at("detail-type"))
	}
	detail := bytes.TrimSpace(env.Detail)
	if len(detail) == 0 || string(detail) == "null" {
		return nil, intake.Badf("%s is required", env.at("detail"))
	}
	if detail[0] != '{' {
		return nil, intake.Badf("%s: expected an object, got %s", env.at("detail"), intake.Shape(detail))
	}
	if env.Time != "" {
		t, err := ParseTime(env.Time)
		if err != nil {
			return nil, intake.Badf("%s: invalid timestamp %q", env.at("time"), env.Time)
		}
		env.time = t
	}

	switch *env.DetailType {
	case "CloudWatch Alarm State Change":
		return one(parseAlarm(env))
	case "GuardDuty Finding":
		return one(parseGuardDuty(env))
	case "Security Hub Findings - Imported":
		return parseSecurityHub(env)
	case "Config Rules Compliance Change":
		return one(parseConfig(env))
	case "Inspector2 Finding":
		return one(parseInspector(env))
	case "Macie Finding":
		return one(parseMacie(env))
	case "AWS Health Event":
		return one(parseHealth(env))
	case "EC2 Instance State-change Notification":
		return one(parseEC2(env))
	}
	return []event.Event{parseGeneric(env)}, nil
}

func one(ev event.Event, err error) ([]event.Event, error) {
	if err != nil {
		return nil, err
	}
	return []event.Event{ev}, nil
}

// base returns an event with the fields every handler sets the same way.
func (env *envelope) base(source string, kind event.Kind) event.Event {
	ev := event.Event{
		Source:     source,
		SourceID:   env.ID,
		Kind:       kind,
		Status:     event.StatusFiring,
		OccurredAt: env.time,
		Raw:        env.raw,
		Labels:     map[string]string{},
	}
	setLabel(ev.Labels, "account", env.Account)
	setLabel(ev.Labels, "region", env.Region)
	return ev
}

// parseGeneric keeps an event of a detail-type the adapter has no handler
// for: an info-level change titled by its detail-type, deduplicated only
// against re-deliveries of the same envelope.
func parseGeneric(env *envelope) event.Event {
	ev := env.base("eventbridge", event.KindChange)
	ev.Severity = event.SeverityInfo
	ev.Title = *env.DetailType
	setLabel(ev.Labels, "detail_type", *env.DetailType)
	setLabel(ev.Labels, "event_source", env.Source)
	for _, r := range env.Resources {
		if ref, ok := resourceFromARN(r); ok {
			ev.Resources = append(ev.Resources, ref)
		}
	}
	key := env.ID
	if key == "" {
		key = "sha256:" + hashHex(env.raw)
	}
	ev.Fingerprint = event.FingerprintOf("eventbridge", map[string]string{"id": key})
	return ev
}
