package alertmanager

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/intake"
)

// Source is the Event.Source of every event from this package.
const Source = "alertmanager"

// truncatedLabel records on each event of a webhook notification how many
// alerts Alertmanager dropped from it (its max_alerts setting).
const truncatedLabel = "alertmanager_truncated_alerts"

// Option configures an adapter; both adapters take the same options.
type Option func(*options)

type options struct {
	now func() time.Time
}

// WithClock sets the clock used when a payload leaves the time to the
// receiver: a missing startsAt, and whether a v2 alert's endsAt has passed.
// The default is time.Now.
func WithClock(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

func newParser(opts []Option) parser {
	o := options{now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	if o.now == nil {
		o.now = time.Now
	}
	return parser{now: o.now}
}

// rawJSON captures a JSON value's bytes without copying: it aliases the body
// being decoded, and is only used while that body is being parsed.
type rawJSON []byte

func (r *rawJSON) UnmarshalJSON(b []byte) error {
	*r = b
	return nil
}

// alert is what Flywheel reads of an alert; the webhook alert and the v2
// postable alert share these fields (the webhook adds status and
// fingerprint). generatorURL is not decoded: it stays in Raw.
type alert struct {
	Status      string    `json:"status"`
	Labels      stringMap `json:"labels"`
	Annotations stringMap `json:"annotations"`
	StartsAt    string    `json:"startsAt"`
	EndsAt      string    `json:"endsAt"`
	Fingerprint string    `json:"fingerprint"`
}

// parser is the alert decoding shared by both adapters.
type parser struct {
	now func() time.Time
}

// parseArray parses a bare JSON array of alerts; shapeFormat is the
// adapter's "expected …, got %s" message for anything else.
func (p parser) parseArray(body []byte, shapeFormat string) (intake.Result, error) {
	if res, err, ok := p.fastArray(body); ok {
		return res, err
	}
	var items []rawJSON
	if err := intake.DecodeJSON(body, &items); err != nil {
		return intake.Result{}, err
	}
	for _, it := range items {
		if firstByte(it) != '{' {
			return intake.Result{}, intake.Badf(shapeFormat, intake.Shape(body))
		}
	}
	events, err := p.events(items, 0)
	if err != nil {
		return intake.Result{}, err
	}
	// One buffer for every event's Raw: a copy, so events never alias the
	// caller's request buffer.
	n := 0
	for _, it := range items {
		n += len(it)
	}
	buf := make([]byte, 0, n)
	for i, it := range items {
		start := len(buf)
		buf = append(buf, it...)
		events[i].Raw = buf[start:len(buf):len(buf)]
	}
	return intake.Result{Events: events}, nil
}

// notJSONOr explains a body that is neither an object nor an array: not JSON
// at all, or JSON of the wrong shape.
func notJSONOr(body []byte, shapeFormat string) error {
	var v any
	if err := intake.DecodeJSON(body, &v); err != nil {
		return err
	}
	return intake.Badf(shapeFormat, intake.Shape(body))
}

// events converts each item (a JSON object) to an event, without Raw. The
// clock is read once, so a batch is judged against one instant.
func (p parser) events(items []rawJSON, truncated int) ([]event.Event, error) {
	if len(items) == 0 {
		return nil, nil
	}
	now := p.now()
	events := make([]event.Event, len(items))
	in := make(interner)
	for i, it := range items {
		if err := convert(&events[i], i, it, now, in); err != nil {
			return nil, err
		}
		if truncated > 0 {
			if _, taken := events[i].Labels[truncatedLabel]; !taken {
				events[i].Labels[truncatedLabel] = strconv.Itoa(truncated)
			}
		}
	}
	return events, nil
}

// convert fills ev from the i'th alert of a payload.
func convert(ev *event.Event, i int, item []byte, now time.Time, in interner) error {
	var a alert
	a.Labels.in, a.Annotations.in = in, in
	if err := json.Unmarshal(item, &a); err != nil {
		return alertJSONError(i, item, err)
	}
	return build(ev, i, &a, now)
}

// build fills ev from the i'th alert of a payload, decoded.
func build(ev *event.Event, i int, a *alert, now time.Time) error {
	labels, annotations := a.Labels.m, a.Annotations.m
	if len(labels) == 0 {
		return intake.Badf("alerts[%d].labels is required", i)
	}
	startsAt, err := parseTime(i, "startsAt", a.StartsAt)
	if err != nil {
		return err
	}
	endsAt, err := parseTime(i, "endsAt", a.EndsAt)
	if err != nil {
		return err
	}

	var status event.Status
	switch a.Status {
	case "firing":
		status = event.StatusFiring
	case "resolved":
		status = event.StatusResolved
	case "":
		// Alertmanager's own rule (types.Alert.Resolved): resolved once
		// endsAt is set and not in the future.
		status = event.StatusFiring
		if !endsAt.IsZero() && !endsAt.After(now) {
			status = event.StatusResolved
		}
	default:
		return intake.Badf("alerts[%d].status: must be \"firing\" or \"resolved\", got %q", i, a.Status)
	}

	fingerprint := a.Fingerprint
	if fingerprint == "" {
		fingerprint = labelsFingerprint(labels)
	}
	if !startsAt.IsZero() {
		ev.SourceID = sourceID(fingerprint, startsAt, status)
	} else {
		startsAt = now.UTC()
	}

	ev.Source = Source
	ev.Kind = event.KindAlert
	ev.Severity = severityOf(labels["severity"])
	ev.Status = status
	ev.Title = titleOf(labels)
	ev.Description = descriptionOf(annotations)
	ev.Resources = resourcesOf(labels)
	ev.Labels = labels
	if len(annotations) > 0 {
		ev.Annotations = annotations
	}
	ev.OccurredAt = startsAt
	ev.EndsAt = endsAt
	ev.Fingerprint = fingerprint
	return nil
}

// sourceID is "<fingerprint>:<startsAt>:<status>", built in one allocation.
func sourceID(fingerprint string, startsAt time.Time, status event.Status) string {
	var buf [96]byte
	b := append(buf[:0], fingerprint...)
	b = append(b, ':')
	b = startsAt.AppendFormat(b, time.RFC3339Nano)
	b = append(b, ':')
	b = append(b, status...)
	return string(b)
}

// parseTime parses an RFC 3339 timestamp into UTC. Empty and Go's zero time
// ("0001-01-01T00:00:00Z", Alertmanager's "not set") both mean unset.
func parseTime(i int, field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, intake.Badf("alerts[%d].%s: invalid RFC 3339 timestamp %q", i, field, s)
	}
	if t.IsZero() {
		return time.Time{}, nil
	}
	return t.UTC(), nil
}

// alertJSONError names the alert and field a type mismatch is in
// ("alerts[0].labels.severity: expected string, got JSON number"). The JSON
// itself is already known to be valid.
func alertJSONError(i int, item []byte, err error) error {
	if br, ok := intake.AsBadRequest(intake.JSONError(item, err)); ok {
		return intake.Badf("alerts[%d].%s", i, br.Message)
	}
	return intake.Badf("alerts[%d]: %v", i, err)
}

func titleOf(labels map[string]string) string {
	if name := labels["alertname"]; name != "" {
		return name
	}
	// No alertname: the label set in Prometheus notation is the most
	// recognisable name left.
	keys := sortedKeys(labels)
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(strconv.Quote(labels[k]))
	}
	b.WriteByte('}')
	return b.String()
}

func descriptionOf(annotations map[string]string) string {
	for _, k := range [...]string{"summary", "description", "message"} {
		if v := annotations[k]; v != "" {
			return v
		}
	}
	return ""
}

// labelsFingerprint is Alertmanager's alert fingerprint (prometheus/common
// model.LabelSet.Fingerprint): FNV-1a 64 over the sorted label names and
// values, each followed by the 0xff separator, as 16 hex digits.
func labelsFingerprint(labels map[string]string) string {
	const (
		offset64 = 14695981039346656037
		prime64  = 1099511628211
		sep      = 0xff
	)
	h := uint64(offset64)
	add := func(s string) {
		for i := 0; i < len(s); i++ {
			h ^= uint64(s[i])
			h *= prime64
		}
		h ^= sep
		h *= prime64
	}
	for _, k := range sortedKeys(labels) {
		add(k)
		add(labels[k])
	}
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], h)
	return hex.EncodeToString(b[:])
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// firstByte returns the first non-whitespace byte of a JSON text, or 0.
func firstByte(b []byte) byte {
	if i := skipSpace(b, 0); i < len(b) {
		return b[i]
	}
	return 0
}
