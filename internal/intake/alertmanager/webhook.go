package alertmanager

import (
	"context"
	"encoding/json"

	"github.com/flywheel-ops/flywheel/internal/intake"
)

// Webhook parses Alertmanager webhook notifications (webhook_configs,
// payload version 4), and bare arrays of alerts.
type Webhook struct {
	p parser
}

var _ intake.Adapter = (*Webhook)(nil)

// NewWebhook returns the "alertmanager" adapter.
func NewWebhook(opts ...Option) *Webhook {
	return &Webhook{p: newParser(opts)}
}

// Name implements intake.Adapter.
func (*Webhook) Name() string { return "alertmanager" }

const webhookShape = "expected an Alertmanager webhook object (or array of alerts), got %s"

// notification is what Flywheel decodes of a webhook body. The group fields
// (receiver, groupKey, groupLabels, commonLabels, externalURL, version,
// notification_reason, routeLabels, …) are not decoded: they reach each
// event through Raw, which keeps them as sent.
type notification struct {
	TruncatedAlerts int       `json:"truncatedAlerts"`
	Alerts          []rawJSON `json:"alerts"`
}

// Parse implements intake.Adapter: one event per alert of the notification.
func (w *Webhook) Parse(_ context.Context, req intake.Request) (intake.Result, error) {
	body := req.Body
	switch firstByte(body) {
	case '{':
	case '[':
		return w.p.parseArray(body, webhookShape)
	default:
		return intake.Result{}, notJSONOr(body, webhookShape)
	}

	var n notification
	if err := intake.DecodeJSON(body, &n); err != nil {
		return intake.Result{}, err
	}
	if n.Alerts == nil {
		return intake.Result{}, intake.Badf("alerts is required: expected an Alertmanager webhook object (or array of alerts)")
	}
	for i, it := range n.Alerts {
		if firstByte(it) != '{' {
			return intake.Result{}, intake.Badf("alerts[%d]: expected an alert object, got %s", i, intake.Shape(json.RawMessage(it)))
		}
	}
	events, err := w.p.events(n.Alerts, n.TruncatedAlerts)
	if err != nil {
		return intake.Result{}, err
	}
	for i, raw := range singleAlertBodies(body, n.Alerts) {
		events[i].Raw = raw
	}
	return intake.Result{Events: events}, nil
}

// singleAlertBodies returns, for each alert, the notification exactly as
// sent with its alerts array narrowed to that alert, all in one buffer.
//
// The alerts are sub-slices of body (encoding/json hands an Unmarshaler the
// bytes of its value within the input), so their offsets follow from their
// capacities; the pointer check proves it. Should that ever not hold, each
// Raw falls back to the alert alone.
func singleAlertBodies(body []byte, alerts []rawJSON) [][]byte {
	if len(alerts) == 0 {
		return nil
	}
	offset := func(sub []byte) int {
		off := cap(body) - cap(sub)
		if len(sub) == 0 || off < 0 || off+len(sub) > len(body) || &body[off] != &sub[0] {
			return -1
		}
		return off
	}
	first, last := offset(alerts[0]), offset(alerts[len(alerts)-1])
	open, closing := -1, -1
	if first >= 0 && last >= 0 {
		open = skipSpaceBack(body, first-1)
		closing = skipSpace(body, last+len(alerts[len(alerts)-1]))
	}
	var prefix, suffix []byte
	if open >= 0 && body[open] == '[' && closing < len(body) && body[closing] == ']' {
		start := skipSpace(body, 0)
		end := skipSpaceBack(body, len(body)-1) + 1
		prefix, suffix = body[start:open+1], body[closing:end]
	}

	n := len(alerts) * (len(prefix) + len(suffix))
	for _, a := range alerts {
		n += len(a)
	}
	buf := make([]byte, 0, n)
	out := make([][]byte, len(alerts))
	for i, a := range alerts {
		start := len(buf)
		buf = append(buf, prefix...)
		buf = append(buf, a...)
		buf = append(buf, suffix...)
		out[i] = buf[start:len(buf):len(buf)]
	}
	return out
}

// skipSpace returns the index of the first non-space byte at or after i.
func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// skipSpaceBack returns the index of the last non-space byte at or before i.
func skipSpaceBack(b []byte, i int) int {
	for i >= 0 && isSpace(b[i]) {
		i--
	}
	return i
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
