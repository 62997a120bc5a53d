// Package notify is the `notify` step action: tell people what a runbook
// did, through a generic JSON webhook, a Slack-compatible incoming webhook
// (Slack, Mattermost, Rocket.Chat) or email over SMTP.
//
// Webhook URLs carry their credential in the path (Slack's do), so logs name
// only the scheme and host; SMTP passwords and header values are never
// logged.
package notify

import (
	"cmp"
	"context"
	"fmt"
	nethttp "net/http"
	"os"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/outbound"
	"github.com/flywheel-ops/flywheel/internal/runbook/action"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/with"
)

// The channels a step can use.
const (
	ChannelWebhook = "webhook"
	ChannelSlack   = "slack"
	ChannelEmail   = "email"
)

const defaultTimeout = 30 * time.Second

// Options configure the notify action.
type Options struct {
	// HTTPClient posts webhooks. Nil: Outbound's client.
	HTTPClient *nethttp.Client
	// Outbound guards webhook addresses when HTTPClient is nil; nil
	// refuses every loopback, private and link-local address.
	Outbound *outbound.Guard
	// Timeout applies to steps that set none. Default 30s.
	Timeout time.Duration
	// SMTP holds the server's mail settings; a step's own inputs override
	// them field by field.
	SMTP SMTPOptions
	// Channels are the server's named channels: a step's channel may
	// name one instead of a type.
	Channels map[string]Channel
	// ChannelsKnown says Channels is the server's whole list, so a step
	// naming another channel is refused when content loads. Without it
	// (offline content tests) any name loads and fails when it runs.
	ChannelsKnown bool
}

// WithDefaults returns o with zero fields set to their defaults.
func (o Options) WithDefaults() Options {
	if o.HTTPClient == nil {
		o.HTTPClient = o.Outbound.Client()
	}
	if o.Timeout <= 0 {
		o.Timeout = defaultTimeout
	}
	if o.SMTP.HELO == "" {
		o.SMTP.HELO = "localhost"
		if h, err := os.Hostname(); err == nil && h != "" {
			o.SMTP.HELO = h
		}
	}
	return o
}

// Notify is the notify action.
type Notify struct {
	opts Options
}

var _ action.Action = (*Notify)(nil)

// New returns the notify action.
func New(o Options) *Notify { return &Notify{opts: o.WithDefaults()} }

// Name implements action.Action.
func (*Notify) Name() string { return "notify" }

// inputs each channel takes, besides channel and timeout; the others are
// rejected by name ("blocks: not used by channel email").
var channelInputs = map[string][]string{
	ChannelWebhook: {"url", "headers", "payload", "subject", "text"},
	ChannelSlack:   {"url", "text", "blocks"},
	ChannelEmail:   {"host", "port", "from", "to", "cc", "subject", "body", "username", "password", "require_tls"},
}

// Validate implements action.Action.
func (n *Notify) Validate(m map[string]any) error {
	r := with.ForValidate(m)
	n.parse(r, action.Input{})
	return r.Err()
}

// message is a parsed notify step.
type message struct {
	channel string // the type: webhook, slack or email
	named   string // the configured channel's name, if the step named one
	timeout time.Duration
	hook    webhook
	mail    email
}

func (n *Notify) parse(r *with.Reader, in action.Input) message {
	r.Require("channel")
	msg := message{timeout: n.opts.Timeout}
	if d, ok := r.Duration("timeout"); ok {
		msg.timeout = d
	}
	ch, concrete := r.String("channel")
	if !concrete {
		// An expression: the channel, and so the inputs it takes, are
		// known only when the step runs. Accept any channel's inputs.
		for _, keys := range channelInputs {
			for _, k := range keys {
				r.Any(k)
			}
		}
		return msg
	}
	keys, known := channelInputs[ch]
	if !known {
		n.parseNamed(r, in, ch, &msg)
		return msg
	}
	msg.channel = ch
	for other, otherKeys := range channelInputs {
		if other == ch {
			continue
		}
		for _, k := range otherKeys {
			if !contains(keys, k) {
				r.Forbid("by channel "+ch, k)
			}
		}
	}
	switch ch {
	case ChannelWebhook:
		msg.hook = parseWebhook(r, in)
	case ChannelSlack:
		msg.hook = parseSlack(r)
	case ChannelEmail:
		msg.mail = n.parseEmail(r, nil)
	}
	return msg
}

// Run implements action.Action.
func (n *Notify) Run(ctx context.Context, in action.Input) (action.Output, error) {
	r := with.ForRun(in.With)
	msg := n.parse(r, in)
	if err := r.Err(); err != nil {
		return action.Output{}, action.Permanent(fmt.Errorf("notify: %w", &inputError{err}))
	}
	ctx, cancel := context.WithTimeout(ctx, msg.timeout)
	defer cancel()
	var (
		out action.Output
		err error
	)
	switch msg.channel {
	case ChannelWebhook, ChannelSlack:
		out, err = n.post(ctx, msg.channel, msg.hook)
	case ChannelEmail:
		out, err = n.send(ctx, in, msg.mail)
	}
	if msg.named != "" {
		if out.Values != nil {
			out.Values["channel"] = msg.named
		}
		out.Log = msg.named + " (" + out.Log + ")"
	}
	if err != nil {
		err = fmt.Errorf("notify: %s: %w", cmp.Or(msg.named, msg.channel), err)
		if Permanent(err) {
			// The receiver refused it: retrying would be refused again.
			err = action.Permanent(err)
		}
		return out, err
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// excerpt is the start of a response, one line, for the server's log.
func excerpt(b []byte) string {
	s := strings.Join(strings.Fields(strings.ToValidUTF8(string(b), "?")), " ")
	if r := []rune(s); len(r) > 120 {
		s = string(r[:120]) + "…"
	}
	return s
}
