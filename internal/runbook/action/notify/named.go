package notify

import (
	"errors"
	"fmt"
	nethttp "net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strings"

	"github.com/flywheel-ops/flywheel/internal/outbound"
	"github.com/flywheel-ops/flywheel/internal/runbook/action"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/with"
)

// Channel is a notification channel the server's configuration names
// (config.Notifications): a step's `channel: <name>` sends through it
// without repeating its URL or SMTP settings, and rules deliver their
// notifications through it (internal/notification).
type Channel struct {
	// Type is ChannelWebhook, ChannelSlack or ChannelEmail, or one that
	// only rules use: pagerduty, opsgenie, teams (internal/notification).
	Type string
	// URL is the webhook's (a credential: never logged or echoed).
	URL     string
	Headers map[string]string
	// SMTP is the email channel's server, sender and credentials; HELO and
	// TLSConfig come from the action's Options.
	SMTP SMTPOptions
	// To and Cc are the email channel's recipients unless a step gives
	// its own.
	To, Cc []string
	// Key is an on-call channel's credential: PagerDuty's routing key,
	// Opsgenie's API key. Never logged or echoed.
	Key string
}

// namedInputs are the inputs a step naming a configured channel takes,
// besides channel and timeout: the message, never where it goes.
var namedInputs = map[string][]string{
	ChannelWebhook: {"subject", "text", "payload"},
	ChannelSlack:   {"subject", "text", "blocks"},
	ChannelEmail:   {"subject", "text", "body", "to", "cc"},
}

// allInputs is every input any channel takes.
func allInputs() []string {
	var keys []string
	for _, list := range channelInputs {
		keys = append(keys, list...)
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// parseNamed reads a step that names a channel rather than a type into
// msg. A name that is no configured channel is an error, except while
// validating content without the server's channels (Options.ChannelsKnown
// false): then any name is accepted and checked when the step runs.
func (n *Notify) parseNamed(r *with.Reader, in action.Input, name string, msg *message) {
	ch, ok := n.opts.Channels[name]
	if !ok {
		switch {
		case !n.opts.ChannelsKnown && r.Validating():
		case n.opts.ChannelsKnown:
			r.Errorf("channel", "%q is neither a channel type (webhook, slack or email) nor a channel configured on this server (%s)", name, n.channelNames())
		default:
			r.Errorf("channel", "%q is not a channel configured on this server", name)
		}
		for _, k := range allInputs() {
			r.Any(k)
		}
		return
	}
	keys := namedInputs[ch.Type]
	for _, k := range allInputs() {
		if !slices.Contains(keys, k) {
			r.Forbid(fmt.Sprintf("with channel %s (its %s settings come from the server's configuration)", name, ch.Type), k)
		}
	}
	msg.channel, msg.named = ch.Type, name
	switch ch.Type {
	case ChannelWebhook:
		msg.hook = webhook{url: namedURL(r, ch.URL), headers: ch.Headers, payload: webhookPayload(r, in)}
	case ChannelSlack:
		subject, _ := r.String("subject")
		msg.hook = webhook{url: namedURL(r, ch.URL), payload: slackPayload(r, subject)}
	case ChannelEmail:
		msg.mail = n.parseEmail(r, &ch)
	default:
		// pagerduty, opsgenie and teams: rules page through them
		// (internal/notification), which keeps incidents in step with
		// OpsItems; a step could not.
		r.Errorf("channel", "channel %s has type %q: rules notify through it (then.notify); a runbook step can use webhook, slack and email channels", name, ch.Type)
	}
}

func namedURL(r *with.Reader, s string) *url.URL {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		r.Errorf("channel", "the channel's configured URL is not an http(s) URL")
		return nil
	}
	return u
}

func (n *Notify) channelNames() string {
	if len(n.opts.Channels) == 0 {
		return "none is configured"
	}
	names := make([]string, 0, len(n.opts.Channels))
	for k := range n.opts.Channels {
		names = append(names, k)
	}
	slices.Sort(names)
	return "configured: " + strings.Join(names, ", ")
}

// StatusError is a webhook's non-2xx answer. Its message, which reaches
// OpsItem timelines and execution logs that viewers read, does not quote
// the reply: a receiver's body can hold anything (an internal service's
// page); Reply, its short start, is for the server's log.
type StatusError struct {
	Where string // scheme://host, never the path (a credential)
	Code  int
	Reply string // the start of the response body (excerpt: at most 120 B)
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("POST %s: status %d %s", e.Where, e.Code, nethttp.StatusText(e.Code))
}

// Reply returns the start of a webhook's refusing reply in err, for the
// server's log, or "".
func Reply(err error) string {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Reply
	}
	return ""
}

// Permanent reports whether a failed delivery would fail again the same
// way, so retrying is pointless: the receiver refused it (a 4xx other
// than 408 and 429, an SMTP 5xx reply), the outbound guard refused its
// address, or the message is invalid. Network
// errors, timeouts, 5xx answers and SMTP 4xx replies are worth retrying.
func Permanent(err error) bool {
	if outbound.Refused(err) {
		// The address is refused until the configuration changes.
		return true
	}
	var se *StatusError
	if errors.As(err, &se) {
		return se.Code >= 400 && se.Code < 500 && se.Code != 408 && se.Code != 429
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code >= 500
	}
	var ie *inputError
	return errors.As(err, &ie)
}

// inputError is a step (or notification) whose inputs are wrong.
type inputError struct{ err error }

func (e *inputError) Error() string { return e.err.Error() }
func (e *inputError) Unwrap() error { return e.err }
