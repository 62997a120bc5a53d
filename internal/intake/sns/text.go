package sns

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/event"
	"github.com/flywheel-ops/flywheel/internal/intake"
	"github.com/flywheel-ops/flywheel/internal/intake/eventbridge"
)

// notification turns a verified Notification into events by what its
// Message holds: a CloudWatch alarm, an EventBridge event (a rule whose
// target is the topic), or anything else.
func (a *Adapter) notification(ctx context.Context, m *message, body []byte) ([]event.Event, error) {
	var keys map[string]json.RawMessage
	if json.Unmarshal([]byte(*m.Message), &keys) == nil {
		switch {
		case isAlarm(keys):
			ev, err := alarmEvent(m, body)
			if err != nil {
				return nil, err
			}
			return []event.Event{ev}, nil
		case keys["detail-type"] != nil && keys["detail"] != nil:
			return a.eventBridge(ctx, m, body)
		}
	}
	return []event.Event{textEvent(m, body)}, nil
}

// eventBridge hands an EventBridge event published to the topic to the
// EventBridge adapter. Raw stays the SNS body, which still carries the
// signature.
func (a *Adapter) eventBridge(ctx context.Context, m *message, body []byte) ([]event.Event, error) {
	res, err := a.eb.Parse(ctx, intake.Request{Body: []byte(*m.Message)})
	if err != nil {
		if br, ok := intake.AsBadRequest(err); ok {
			return nil, &intake.BadRequest{Status: br.Status, Message: "Message: " + br.Message}
		}
		return nil, err
	}
	for i := range res.Events {
		ev := &res.Events[i]
		ev.Raw = body
		if ev.Labels == nil {
			ev.Labels = map[string]string{}
		}
		ev.Labels["topic_arn"] = m.TopicARN
	}
	return res.Events, nil
}

// textEvent keeps a message the adapter has no shape for: an info alert
// titled by the Subject (or the message's first line), deduplicated by
// topic and title, so repeats of the same notice collapse into one.
func textEvent(m *message, body []byte) event.Event {
	msg := *m.Message
	subject := ""
	if m.Subject != nil {
		subject = strings.TrimSpace(*m.Subject)
	}
	topic, _ := splitARN(m.TopicARN)
	title := firstNonEmpty(truncate(subject, maxTitle), firstLine(msg, maxTitle), "SNS message on "+firstNonEmpty(topic.name, m.TopicARN))
	ev := event.Event{
		Source:      "sns",
		SourceID:    m.MessageID,
		Kind:        event.KindAlert,
		Severity:    event.SeverityInfo,
		Status:      event.StatusFiring,
		Title:       title,
		Description: msg,
		Fingerprint: event.FingerprintOf("sns", map[string]string{"topic_arn": m.TopicARN, "subject": title}),
		OccurredAt:  messageTime(m),
		Raw:         body,
		Labels:      map[string]string{},
	}
	setLabel(ev.Labels, "topic_arn", m.TopicARN)
	setLabel(ev.Labels, "topic", topic.name)
	setLabel(ev.Labels, "account", topic.account)
	setLabel(ev.Labels, "region", topic.region)
	setLabel(ev.Labels, "subject", subject)
	return ev
}

// maxTitle bounds a title taken from free text.
const maxTitle = 200

// messageTime returns the first of the payload times that parses, else
// the SNS Timestamp, else zero (the HTTP layer sets ReceivedAt).
func messageTime(m *message, payload ...string) time.Time {
	for _, s := range append(payload, m.Timestamp) {
		if s == "" {
			continue
		}
		if t, err := eventbridge.ParseTime(s); err == nil {
			return t
		}
	}
	return time.Time{}
}

// arnParts holds what the adapter reads from an ARN.
type arnParts struct {
	region, account, name string
}

// splitARN splits "arn:aws:sns:us-east-1:111122223333:topic".
func splitARN(s string) (arnParts, bool) {
	p := strings.SplitN(s, ":", 6)
	if len(p) != 6 || p[0] != "arn" {
		return arnParts{}, false
	}
	return arnParts{region: p[3], account: p[4], name: p[5]}, true
}

func setLabel(m map[string]string, k, v string) {
	if v != "" {
		m[k] = v
	}
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// firstLine returns the first non-blank line of s, cut to n bytes.
func firstLine(s string, n int) string {
	for line := range strings.Lines(s) {
		if line = strings.TrimSpace(line); line != "" {
			return truncate(line, n)
		}
	}
	return ""
}

// truncate cuts s to at most n bytes on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}
