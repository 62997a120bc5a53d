package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	nethttp "net/http"
	"net/url"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/runbook/action"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/with"
)

// webhook is a JSON POST (generic webhook and Slack).
type webhook struct {
	url     *url.URL
	headers map[string]string
	payload any
}

func parseURL(r *with.Reader) *url.URL {
	r.Require("url")
	s, ok := r.String("url")
	if !ok {
		return nil
	}
	u, err := url.Parse(strings.TrimSpace(s))
	switch {
	case err != nil:
		// Not echoed: a webhook URL is a credential.
		r.Errorf("url", "is not a URL")
	case u.Scheme != "http" && u.Scheme != "https":
		r.Errorf("url", "only http and https URLs are supported")
	case u.Host == "":
		r.Errorf("url", "the URL has no host")
	}
	return u
}

// parseWebhook reads a generic webhook step. Without a payload, Flywheel
// sends {subject, text, execution_id, step, target}.
func parseWebhook(r *with.Reader, in action.Input) webhook {
	w := webhook{url: parseURL(r)}
	w.headers, _ = r.StringMap("headers")
	for k, v := range w.headers {
		if strings.ContainsAny(k, " :\r\n") || strings.ContainsAny(v, "\r\n") {
			r.Errorf("headers", "%q is not a valid header", k)
		}
	}
	w.payload = webhookPayload(r, in)
	return w
}

// webhookPayload reads a webhook step's payload, or its subject and text.
func webhookPayload(r *with.Reader, in action.Input) any {
	payload, hasPayload := r.JSON("payload")
	subject, _ := r.String("subject")
	text, _ := r.String("text")
	if r.Has("payload") && (r.Has("subject") || r.Has("text")) {
		r.Errorf("payload", "set payload, or subject and text, not both")
	}
	if !r.Has("payload") && !r.Has("text") {
		r.Errorf("text", "is required without a payload")
	}
	if hasPayload {
		return payload
	}
	p := map[string]any{
		"subject":      subject,
		"text":         text,
		"execution_id": in.ExecutionID,
		"step":         in.Step,
	}
	if in.Target != nil {
		p["target"] = in.Target.ID
	}
	return p
}

// parseSlack reads a Slack-compatible step: {text, blocks}. text is
// required even with blocks: it is the notification's fallback.
func parseSlack(r *with.Reader) webhook {
	return webhook{url: parseURL(r), payload: slackPayload(r, "")}
}

// slackPayload reads a Slack step's text and blocks; a subject, when
// given, leads the text in bold.
func slackPayload(r *with.Reader, subject string) map[string]any {
	r.Require("text")
	text, _ := r.String("text")
	if subject != "" {
		text = "*" + subject + "*\n" + text
	}
	p := map[string]any{"text": text}
	if b, ok := r.JSON("blocks"); ok {
		if _, isList := b.([]any); !isList {
			r.Errorf("blocks", "is not a list of Block Kit blocks")
		}
		p["blocks"] = b
	}
	return p
}

func (n *Notify) post(ctx context.Context, channel string, w webhook) (action.Output, error) {
	body, err := json.Marshal(w.payload)
	if err != nil {
		return action.Output{}, err
	}
	where := w.url.Scheme + "://" + w.url.Host
	req, err := nethttp.NewRequestWithContext(ctx, nethttp.MethodPost, w.url.String(), bytes.NewReader(body))
	if err != nil {
		return action.Output{}, fmt.Errorf("POST %s: %w", where, stripURL(err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "flywheel")
	for k, v := range w.headers {
		req.Header.Set(k, v)
	}
	client := *n.opts.HTTPClient
	// A redirect would re-post the message elsewhere; webhooks do not
	// redirect.
	client.CheckRedirect = func(*nethttp.Request, []*nethttp.Request) error { return nethttp.ErrUseLastResponse }
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return action.Output{}, fmt.Errorf("POST %s: %w", where, stripURL(err))
	}
	defer resp.Body.Close()
	reply, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	out := action.Output{
		Values: map[string]any{
			"channel":     channel,
			"status":      resp.StatusCode,
			"duration_ms": time.Since(start).Milliseconds(),
		},
		Log: fmt.Sprintf("%s: POST %s (%d B): %d", channel, where, len(body), resp.StatusCode),
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return out, &StatusError{Where: where, Code: resp.StatusCode, Reply: excerpt(reply)}
	}
	return out, nil
}

// stripURL drops *url.Error's copy of the URL (a webhook URL is a
// credential).
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// PostJSON posts payload as JSON to u, as a webhook channel does: no
// redirects, never the URL's path in an error, a non-2xx answer a
// *StatusError (Permanent tells whether to retry). The on-call channels
// (internal/notification) send through it; the timeout is ctx's.
func (n *Notify) PostJSON(ctx context.Context, channel string, u *url.URL, headers map[string]string, payload any) (action.Output, error) {
	return n.post(ctx, channel, webhook{url: u, headers: headers, payload: payload})
}
