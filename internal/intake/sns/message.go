package sns

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/flywheel-ops/flywheel/internal/intake"
)

// SNS message types (the "Type" field and x-amz-sns-message-type header).
const (
	typeNotification             = "Notification"
	typeSubscriptionConfirmation = "SubscriptionConfirmation"
	typeUnsubscribeConfirmation  = "UnsubscribeConfirmation"
)

// message is the JSON envelope SNS posts to HTTP(S) endpoints.
// encoding/json matches keys case-insensitively, so the Lambda-record
// spellings ("SigningCertUrl", "UnsubscribeUrl") decode too.
type message struct {
	Type             string  `json:"Type"`
	MessageID        string  `json:"MessageId"`
	Token            string  `json:"Token"`
	TopicARN         string  `json:"TopicArn"`
	Subject          *string `json:"Subject"` // signed only when present
	Message          *string `json:"Message"`
	SubscribeURL     string  `json:"SubscribeURL"`
	UnsubscribeURL   string  `json:"UnsubscribeURL"`
	Timestamp        string  `json:"Timestamp"`
	SignatureVersion string  `json:"SignatureVersion"`
	Signature        string  `json:"Signature"`
	SigningCertURL   string  `json:"SigningCertURL"`
}

// decodeMessage decodes and checks the envelope, reconciling it with the
// x-amz-sns-* headers: the body is what is signed, so it wins, and a header
// that contradicts it is an error rather than silently ignored.
func decodeMessage(req intake.Request) (*message, error) {
	var raw json.RawMessage
	if err := intake.DecodeJSON(req.Body, &raw); err != nil {
		return nil, err
	}
	raw = bytes.TrimSpace(raw)
	if raw[0] != '{' {
		return nil, intake.Badf("expected an SNS message object, got %s", intake.Shape(raw))
	}
	m := &message{}
	if err := json.Unmarshal(raw, m); err != nil {
		return nil, intake.JSONError(raw, err)
	}
	hdrType := req.Header.Get("x-amz-sns-message-type")
	switch {
	case m.Type == "" && hdrType == "":
		return nil, intake.Badf("Type is required")
	case m.Type == "":
		m.Type = hdrType
	case hdrType != "" && hdrType != m.Type:
		return nil, intake.Badf("x-amz-sns-message-type header %q does not match Type %q", hdrType, m.Type)
	}
	for _, h := range []struct{ name, body, field string }{
		{"x-amz-sns-topic-arn", m.TopicARN, "TopicArn"},
		{"x-amz-sns-message-id", m.MessageID, "MessageId"},
	} {
		if v := req.Header.Get(h.name); v != "" && h.body != "" && v != h.body {
			return nil, intake.Badf("%s header %q does not match %s %q", h.name, v, h.field, h.body)
		}
	}
	switch m.Type {
	case typeNotification, typeSubscriptionConfirmation, typeUnsubscribeConfirmation:
	default:
		return m, nil // Parse names the unknown type
	}
	if m.TopicARN == "" {
		return nil, intake.Badf("TopicArn is required")
	}
	if m.MessageID == "" {
		return nil, intake.Badf("MessageId is required")
	}
	if m.Message == nil {
		return nil, intake.Badf("Message is required")
	}
	return m, nil
}

// stringToSign builds the text SNS signs, per the SNS developer guide: for
// each signed key in byte order, "Key\nValue\n". Notifications sign
// Message, MessageId, Subject (only when present), Timestamp, TopicArn and
// Type; subscription messages sign Message, MessageId, SubscribeURL,
// Timestamp, Token, TopicArn and Type.
func stringToSign(m *message) string {
	var b strings.Builder
	add := func(k, v string) {
		b.WriteString(k)
		b.WriteByte('\n')
		b.WriteString(v)
		b.WriteByte('\n')
	}
	msg := ""
	if m.Message != nil {
		msg = *m.Message
	}
	add("Message", msg)
	add("MessageId", m.MessageID)
	if m.Type == typeNotification {
		if m.Subject != nil {
			add("Subject", *m.Subject)
		}
	} else {
		add("SubscribeURL", m.SubscribeURL)
	}
	add("Timestamp", m.Timestamp)
	if m.Type != typeNotification {
		add("Token", m.Token)
	}
	add("TopicArn", m.TopicARN)
	add("Type", m.Type)
	return b.String()
}
