package notify_test

import (
	"encoding/json"
	"io"
	"log/slog"
	nethttp "net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/outbound"
	"github.com/flywheel-ops/flywheel/internal/runbook/action"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/notify"
)

// loopback lets the tests' receivers, on 127.0.0.1, be reached: the
// default guard refuses them (TestWebhookGuard).
var loopback, _ = outbound.New([]string{"127.0.0.0/8", "::1"})

func input(with map[string]any) action.Input {
	return action.Input{
		With:        with,
		Target:      &action.Target{ID: "web-03"},
		ExecutionID: "ex-42",
		Step:        "tell",
		Attempt:     1,
		Logger:      slog.New(slog.DiscardHandler),
		Now:         func() time.Time { return time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC) },
	}
}

type received struct {
	path, contentType, auth string
	body                    map[string]any
}

func hook(t *testing.T, status int, reply string) (*httptest.Server, <-chan received) {
	t.Helper()
	got := make(chan received, 1)
	srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		b, _ := io.ReadAll(r.Body)
		var body map[string]any
		if err := json.Unmarshal(b, &body); err != nil {
			t.Errorf("body %q: %v", b, err)
		}
		got <- received{r.URL.Path, r.Header.Get("Content-Type"), r.Header.Get("Authorization"), body}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, reply)
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

func TestWebhookDefaultPayload(t *testing.T) {
	t.Parallel()
	srv, got := hook(t, 204, "")
	out, err := notify.New(notify.Options{Outbound: loopback}).Run(t.Context(), input(map[string]any{
		"channel": "webhook",
		"url":     srv.URL + "/hooks/T0K3N",
		"headers": map[string]any{"Authorization": "Bearer s3cret"},
		"subject": "disk cleaned",
		"text":    "freed 4 GiB on web-03",
	}))
	if err != nil {
		t.Fatal(err)
	}
	g := <-got
	want := map[string]any{"subject": "disk cleaned", "text": "freed 4 GiB on web-03", "execution_id": "ex-42", "step": "tell", "target": "web-03"}
	if g.path != "/hooks/T0K3N" || g.contentType != "application/json" || g.auth != "Bearer s3cret" || !equalJSON(g.body, want) {
		t.Errorf("received %+v", g)
	}
	if out.Values["status"] != 204 || out.Values["channel"] != "webhook" {
		t.Errorf("values = %v", out.Values)
	}
	for _, secret := range []string{"T0K3N", "s3cret"} {
		if strings.Contains(out.Log, secret) {
			t.Errorf("log %q holds a secret", out.Log)
		}
	}
}

func TestWebhookPayload(t *testing.T) {
	t.Parallel()
	srv, got := hook(t, 200, "")
	payload := map[string]any{"event": "remediated", "details": map[string]any{"freed_bytes": 4096, "paths": []any{"/var/log"}}}
	if _, err := notify.New(notify.Options{Outbound: loopback}).Run(t.Context(), input(map[string]any{"channel": "webhook", "url": srv.URL, "payload": payload})); err != nil {
		t.Fatal(err)
	}
	if g := <-got; !equalJSON(g.body, payload) {
		t.Errorf("received %v", g.body)
	}
}

func TestSlack(t *testing.T) {
	t.Parallel()
	srv, got := hook(t, 200, "ok")
	blocks := []any{map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": "*web-03*: disk cleaned"}}}
	out, err := notify.New(notify.Options{Outbound: loopback}).Run(t.Context(), input(map[string]any{
		"channel": "slack",
		"url":     srv.URL + "/services/T000/B000/XXXX",
		"text":    "web-03: disk cleaned",
		"blocks":  blocks,
	}))
	if err != nil {
		t.Fatal(err)
	}
	if g := <-got; !equalJSON(g.body, map[string]any{"text": "web-03: disk cleaned", "blocks": blocks}) {
		t.Errorf("received %v", g.body)
	}
	if strings.Contains(out.Log, "XXXX") || !strings.HasPrefix(out.Log, "slack: POST "+srv.URL+" (") {
		t.Errorf("log = %q", out.Log)
	}
}

func TestWebhookFailure(t *testing.T) {
	t.Parallel()
	srv, _ := hook(t, 404, "no_service")
	out, err := notify.New(notify.Options{Outbound: loopback}).Run(t.Context(), input(map[string]any{"channel": "slack", "url": srv.URL + "/services/T/B/SECRET", "text": "x"}))
	if err == nil || !strings.Contains(err.Error(), "status 404 Not Found") || strings.Contains(err.Error(), "SECRET") ||
		strings.Contains(err.Error(), "no_service") || notify.Reply(err) != "no_service" {
		t.Errorf("err = %v", err)
	}
	if out.Values["status"] != 404 {
		t.Errorf("values = %v", out.Values)
	}
	_, err = notify.New(notify.Options{Outbound: loopback}).Run(t.Context(), input(map[string]any{"channel": "webhook", "url": "http://127.0.0.1:1/hook/SECRET", "text": "x"}))
	if err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("connection error: %v", err)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	n := notify.New(notify.Options{})
	for _, tc := range []struct {
		with map[string]any
		want string
	}{
		{map[string]any{"channel": "slack", "url": "${{ secrets.slack_url }}", "text": "hi", "blocks": []any{map[string]any{"type": "divider"}}}, ""},
		{map[string]any{"channel": "webhook", "url": "https://hooks.example.com/x", "payload": map[string]any{"a": 1}, "timeout": "5s"}, ""},
		{map[string]any{"channel": "email", "host": "smtp.example.com", "from": "flywheel@example.com", "to": []any{"oncall@example.com", "Ops <ops@example.com>"}, "subject": "s", "body": "b"}, ""},
		{map[string]any{"channel": "${{ params.channel }}", "url": "https://x", "text": "t", "to": "a@b.c"}, ""},
		{map[string]any{"text": "t"}, "channel: is required"},
		// Without the server's channels, a name is checked when the server
		// loads the runbook (named_test.go).
		{map[string]any{"channel": "pager", "text": "t"}, ""},
		{map[string]any{"channel": "slack", "text": "t"}, "url: is required"},
		{map[string]any{"channel": "slack", "url": "https://x"}, "text: is required"},
		{map[string]any{"channel": "slack", "url": "https://x", "text": "t", "blocks": map[string]any{}}, "blocks: is not a list"},
		{map[string]any{"channel": "slack", "url": "https://x", "text": "t", "to": "a@b.c"}, "to: not used by channel slack"},
		{map[string]any{"channel": "webhook", "url": "https://x"}, "text: is required without a payload"},
		{map[string]any{"channel": "webhook", "url": "https://x", "payload": map[string]any{}, "text": "t"}, "set payload, or subject and text, not both"},
		{map[string]any{"channel": "webhook", "url": "ftp://x", "text": "t"}, "url: only http and https"},
		{map[string]any{"channel": "email", "from": "f@x.y", "to": "a@b.c", "subject": "s", "body": "b"}, "host: is required (the server has no SMTP host configured)"},
		{map[string]any{"channel": "email", "host": "h", "from": "f@x.y", "to": "not an address", "subject": "s", "body": "b"}, `to[0]: "not an address" is not an email address`},
		{map[string]any{"channel": "email", "host": "h", "from": "f@x.y", "to": "a@b.c", "subject": "s\r\nBcc: evil@x.y", "body": "b"}, "subject: contains a line break"},
		{map[string]any{"channel": "email", "host": "h", "from": "f@x.y", "to": "a@b.c", "subject": "s", "body": "b", "password": "p"}, "password: is set without a username"},
		{map[string]any{"channel": "email", "host": "h", "from": "f@x.y", "to": "a@b.c", "subject": "s"}, "body: is required"},
		{map[string]any{"channel": "email", "host": "h", "port": 70000, "from": "f@x.y", "to": "a@b.c", "subject": "s", "body": "b"}, "port: 70000 is not a port"},
	} {
		err := n.Validate(tc.with)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%v: %v", tc.with, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%v: error %v, want %q", tc.with, err, tc.want)
		}
	}
	// The server's SMTP settings stand in for a step's.
	withServer := notify.New(notify.Options{SMTP: notify.SMTPOptions{Host: "smtp.example.com", From: "flywheel@example.com"}})
	if err := withServer.Validate(map[string]any{"channel": "email", "to": "a@b.c", "subject": "s", "body": "b"}); err != nil {
		t.Errorf("with server settings: %v", err)
	}
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// TestWebhookGuard: a webhook to 127.0.0.1 is refused by the default
// outbound guard — nothing is posted, the refusal is permanent and names
// the address and the option — and delivered once outbound_allow lists it.
func TestWebhookGuard(t *testing.T) {
	t.Parallel()
	srv, got := hook(t, 204, "")
	for _, channel := range []string{"webhook", "slack"} {
		with := map[string]any{"channel": channel, "url": srv.URL + "/hook/SECRET", "text": "x"}
		_, err := notify.New(notify.Options{}).Run(t.Context(), input(with))
		if !outbound.Refused(err) || !notify.Permanent(err) || !strings.Contains(err.Error(), "127.0.0.1 refused: it is a loopback address") ||
			!strings.Contains(err.Error(), "outbound_allow") || strings.Contains(err.Error(), "SECRET") {
			t.Errorf("%s to 127.0.0.1 by default: %v, want a permanent loopback refusal", channel, err)
		}
		select {
		case r := <-got:
			t.Fatalf("%s: the refused webhook was posted: %v", channel, r)
		default:
		}
		allowed, _ := outbound.New([]string{"127.0.0.1"})
		if _, err := notify.New(notify.Options{Outbound: allowed}).Run(t.Context(), input(with)); err != nil {
			t.Errorf("%s allow-listed: %v", channel, err)
		}
		if r := <-got; r.path != "/hook/SECRET" {
			t.Errorf("%s allow-listed: posted to %q", channel, r.path)
		}
	}
}
