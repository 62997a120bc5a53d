package eventbridge

import (
	"fmt"
	"strings"
	"time"
)

// timeLayouts are the timestamp forms AWS services put in their payloads.
// Go accepts a fractional second after the seconds field when parsing even
// if the layout has none, so each layout covers both precisions.
var timeLayouts = [...]string{
	time.RFC3339,                   // "2026-03-10T15:00:41.618Z" (envelope, GuardDuty, Security Hub, SNS)
	"2006-01-02T15:04:05Z0700",     // "2026-03-10T15:00:41.187+0000" (CloudWatch alarm bodies)
	time.RFC1123,                   // "Tue, 24 Mar 2026 09:00:00 GMT" (AWS Health)
	time.RFC1123Z,                  // "Tue, 24 Mar 2026 09:00:00 +0000"
	"Mon Jan _2 15:04:05 MST 2006", // "Tue Mar 10 11:42:09.318 UTC 2026" (Inspector2)
}

// ParseTime reads a timestamp in any of the forms AWS services use and
// returns it in UTC. It is exported for the SNS adapter, which reads the
// same CloudWatch alarm bodies.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range timeLayouts {
		t, err := time.Parse(layout, s)
		if err != nil {
			continue
		}
		t = t.UTC()
		// Keep only times that encode as RFC 3339 again: an offset can push
		// a year-9999 time past what JSON can carry.
		if y := t.Year(); y < 1 || y > 9999 {
			return time.Time{}, fmt.Errorf("timestamp %q is out of range", s)
		}
		return t, nil
	}
	return time.Time{}, fmt.Errorf("unrecognised timestamp %q", s)
}

// payloadTime parses the first non-empty payload timestamp it can read and
// otherwise returns fallback (the envelope time). A payload timestamp the
// adapter cannot read does not reject the event: AWS is the sender, and the
// raw payload keeps the original text.
func payloadTime(fallback time.Time, candidates ...string) time.Time {
	for _, c := range candidates {
		if c == "" {
			continue
		}
		if t, err := ParseTime(c); err == nil {
			return t
		}
	}
	return fallback
}

// timeLabel is the form of times written into labels.
const timeLabel = time.RFC3339
