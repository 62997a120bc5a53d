package notify_test

import (
	"errors"
	"fmt"
	"net/textproto"
	"strings"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/runbook/action"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/notify"
)

// A step names a configured channel: the server's URL, headers and SMTP
// settings are used, the step only says what to send.
func TestNamedChannels(t *testing.T) {
	t.Parallel()
	slack, gotSlack := hook(t, 200, "ok")
	web, gotWeb := hook(t, 202, "")
	smtp := startSMTP(t, &smtpServer{})
	n := notify.New(notify.Options{Outbound: loopback, ChannelsKnown: true, Channels: map[string]notify.Channel{
		"ops-slack": {Type: notify.ChannelSlack, URL: slack.URL + "/services/T0/B0/SECRET1"},
		"oncall":    {Type: notify.ChannelWebhook, URL: web.URL + "/hook/SECRET2", Headers: map[string]string{"Authorization": "Bearer SECRET3"}},
		"dba-mail": {Type: notify.ChannelEmail, To: []string{"dba@example.com"},
			SMTP: notify.SMTPOptions{Host: "127.0.0.1", Port: smtp.port(), From: "flywheel@example.com"}},
	}})

	out, err := n.Run(t.Context(), input(map[string]any{"channel": "ops-slack", "subject": "disk", "text": "web-03 is full"}))
	if err != nil {
		t.Fatal(err)
	}
	if g := <-gotSlack; g.path != "/services/T0/B0/SECRET1" || g.body["text"] != "*disk*\nweb-03 is full" {
		t.Errorf("slack received %+v", g)
	}
	if out.Values["channel"] != "ops-slack" || strings.Contains(out.Log, "SECRET") || !strings.HasPrefix(out.Log, "ops-slack (slack: POST http://127.0.0.1") {
		t.Errorf("slack output %v %q", out.Values, out.Log)
	}

	if _, err := n.Run(t.Context(), input(map[string]any{"channel": "oncall", "text": "t"})); err != nil {
		t.Fatal(err)
	}
	if g := <-gotWeb; g.path != "/hook/SECRET2" || g.auth != "Bearer SECRET3" || g.body["text"] != "t" || g.body["execution_id"] != "ex-42" {
		t.Errorf("webhook received %+v", g)
	}

	if _, err := n.Run(t.Context(), input(map[string]any{"channel": "dba-mail", "subject": "lag", "text": "replication lag on db-2"})); err != nil {
		t.Fatal(err)
	}
	if m := receive(t, smtp); m.from != "flywheel@example.com" || strings.Join(m.to, ",") != "dba@example.com" || !strings.Contains(m.data, "replication lag on db-2") {
		t.Errorf("mail %+v", m)
	}
	// A step may send elsewhere than the channel's own recipients.
	if _, err := n.Run(t.Context(), input(map[string]any{"channel": "dba-mail", "to": "lead@example.com", "subject": "s", "body": "b"})); err != nil {
		t.Fatal(err)
	}
	if m := receive(t, smtp); strings.Join(m.to, ",") != "lead@example.com" {
		t.Errorf("mail to %v", m.to)
	}

	for _, tc := range []struct {
		with map[string]any
		want string
	}{
		{map[string]any{"channel": "ops-slak", "text": "t"}, `channel: "ops-slak" is neither a channel type (webhook, slack or email) nor a channel configured on this server (configured: dba-mail, oncall, ops-slack)`},
		{map[string]any{"channel": "ops-slack", "url": "https://elsewhere", "text": "t"}, "url: not used with channel ops-slack"},
		{map[string]any{"channel": "dba-mail", "host": "smtp.other", "subject": "s", "text": "t"}, "host: not used with channel dba-mail"},
		{map[string]any{"channel": "dba-mail", "subject": "s"}, "text: is required (or body)"},
		{map[string]any{"channel": "ops-slack", "subject": "s"}, "text: is required"},
	} {
		if err := n.Validate(tc.with); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.with, err, tc.want)
		}
	}
	// Offline (no server channels), any name loads; running it fails.
	offline := notify.New(notify.Options{})
	if err := offline.Validate(map[string]any{"channel": "ops-slack", "subject": "s", "text": "t"}); err != nil {
		t.Errorf("offline validate: %v", err)
	}
	if _, err := offline.Run(t.Context(), input(map[string]any{"channel": "ops-slack", "text": "t"})); err == nil ||
		!strings.Contains(err.Error(), `"ops-slack" is not a channel configured on this server`) || !notify.Permanent(err) {
		t.Errorf("offline run: %v", err)
	}
}

func TestPermanent(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&notify.StatusError{Code: 400}, true},
		{&notify.StatusError{Code: 404}, true},
		{&notify.StatusError{Code: 429}, false},
		{&notify.StatusError{Code: 408}, false},
		{&notify.StatusError{Code: 500}, false},
		{&notify.StatusError{Code: 503}, false},
		{fmt.Errorf("RCPT TO x: %w", &textproto.Error{Code: 550, Msg: "no such user"}), true},
		{fmt.Errorf("DATA: %w", &textproto.Error{Code: 451, Msg: "try later"}), false},
		{errors.New("dial tcp: connection refused"), false},
	} {
		if got := notify.Permanent(fmt.Errorf("notify: %w", tc.err)); got != tc.want {
			t.Errorf("Permanent(%v) = %v", tc.err, got)
		}
	}
	srv, _ := hook(t, 400, "invalid_payload")
	_, err := notify.New(notify.Options{Outbound: loopback}).Run(t.Context(), input(map[string]any{"channel": "slack", "url": srv.URL + "/x", "text": "t"}))
	var se *notify.StatusError
	if !errors.As(err, &se) || se.Code != 400 || se.Reply != "invalid_payload" || !notify.Permanent(err) {
		t.Errorf("400: %v", err)
	}
	// The executor reads action.IsPermanent: a refusal is not retried,
	// a 503 is.
	if !action.IsPermanent(err) {
		t.Errorf("a 400 from Run is not marked permanent for the executor: %v", err)
	}
	srv503, _ := hook(t, 503, "busy")
	_, err = notify.New(notify.Options{Outbound: loopback}).Run(t.Context(), input(map[string]any{"channel": "slack", "url": srv503.URL + "/x", "text": "t"}))
	if err == nil || action.IsPermanent(err) {
		t.Errorf("503: %v, want a failure worth retrying", err)
	}
}

// A step naming an on-call channel is refused when it loads: rules page
// through those (internal/notification), which keeps incidents in step.
func TestNamedOnCallChannelRefused(t *testing.T) {
	t.Parallel()
	n := notify.New(notify.Options{Outbound: loopback, ChannelsKnown: true, Channels: map[string]notify.Channel{
		"pd-dba": {Type: "pagerduty", URL: "https://events.pagerduty.com/v2/enqueue", Key: "SECRETKEY"},
	}})
	err := n.Validate(map[string]any{"channel": "pd-dba", "text": "t"})
	if err == nil || !strings.Contains(err.Error(), `channel pd-dba has type "pagerduty": rules notify through it (then.notify)`) ||
		strings.Contains(err.Error(), "SECRETKEY") {
		t.Errorf("Validate = %v", err)
	}
}
