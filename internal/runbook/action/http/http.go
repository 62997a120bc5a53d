// Package http is the `http` step action: call an HTTP endpoint and check
// the status, for runbooks that drive an API (a load balancer's drain
// endpoint, a feature flag, a service's admin port) or probe one.
//
// Request header values and the URL's credentials and query never reach the
// step log: they are where API tokens go.
package http

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	nethttp "net/http"
	"net/url"
	"strings"
	"time"

	"github.com/flywheel-ops/flywheel/internal/outbound"
	"github.com/flywheel-ops/flywheel/internal/runbook/action"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/with"
)

const (
	defaultTimeout     = 30 * time.Second
	defaultMaxResponse = 1 << 20
	// maxResponseLimit bounds any step's max_response: response bodies are
	// kept in memory and stored with the execution.
	maxResponseLimit = 16 << 20
)

// Options configure the http action.
type Options struct {
	// Client sends the requests. Nil: Outbound's client. Its
	// CheckRedirect is replaced per step (follow_redirects).
	Client *nethttp.Client
	// Outbound guards the addresses steps reach when Client is nil; nil
	// refuses every loopback, private and link-local address.
	Outbound *outbound.Guard
	// Timeout applies to steps that set none. Default 30s.
	Timeout time.Duration
	// MaxResponse bytes of a response body are kept when a step sets no
	// max_response. Default 1 MiB.
	MaxResponse int
	// UserAgent is sent unless a step sets one. Default "flywheel".
	UserAgent string
}

// WithDefaults returns o with zero fields set to their defaults.
func (o Options) WithDefaults() Options {
	if o.Client == nil {
		o.Client = o.Outbound.Client()
	}
	if o.Timeout <= 0 {
		o.Timeout = defaultTimeout
	}
	if o.MaxResponse <= 0 {
		o.MaxResponse = defaultMaxResponse
	}
	if o.UserAgent == "" {
		o.UserAgent = "flywheel"
	}
	return o
}

// HTTP is the http action.
type HTTP struct {
	opts Options
}

var _ action.Action = (*HTTP)(nil)

// New returns the http action.
func New(o Options) *HTTP { return &HTTP{opts: o.WithDefaults()} }

// Name implements action.Action.
func (*HTTP) Name() string { return "http" }

// Validate implements action.Action.
func (h *HTTP) Validate(m map[string]any) error {
	r := with.ForValidate(m)
	h.parse(r)
	return r.Err()
}

// request is a parsed http step.
type request struct {
	method      string
	url         *url.URL
	headers     map[string]string
	body        []byte
	contentType string
	timeout     time.Duration
	expect      statusSet
	follow      bool
	maxResponse int
}

func (h *HTTP) parse(r *with.Reader) request {
	r.Require("url")
	q := request{
		timeout:     h.opts.Timeout,
		expect:      defaultExpect,
		maxResponse: h.opts.MaxResponse,
	}
	if s, ok := r.String("url"); ok {
		u, err := ParseURL(s)
		if err != nil {
			r.Errorf("url", "%v", err)
		}
		q.url = u
	}
	if b, ok := r.JSON("body"); ok {
		if s, isString := b.(string); isString {
			q.body, q.contentType = []byte(s), "text/plain; charset=utf-8"
		} else {
			enc, err := json.Marshal(b)
			if err != nil {
				r.Errorf("body", "%v", err)
			}
			q.body, q.contentType = enc, "application/json"
		}
	}
	q.method = nethttp.MethodGet
	if r.Has("body") {
		q.method = nethttp.MethodPost
	}
	if m, ok := r.String("method"); ok {
		m = strings.ToUpper(strings.TrimSpace(m))
		if !validMethod(m) {
			r.Errorf("method", "%q is not an HTTP method", m)
		}
		q.method = m
	}
	if hs, ok := r.StringMap("headers"); ok {
		for k, v := range hs {
			if !validHeaderName(k) {
				r.Errorf("headers", "%q is not a header name", k)
			}
			// The value is not echoed: it is usually a credential.
			if strings.ContainsAny(v, "\r\n\x00") {
				r.Errorf("headers."+k, "contains a line break")
			}
		}
		q.headers = hs
	}
	if d, ok := r.Duration("timeout"); ok {
		q.timeout = d
	}
	if list, ok := r.List("expect_status"); ok {
		q.expect = nil
		for i, v := range list {
			s, err := parseStatus(v)
			if err != nil {
				r.Errorf(fmt.Sprintf("expect_status[%d]", i), "%v", err)
				continue
			}
			q.expect = append(q.expect, s)
		}
		if len(q.expect) == 0 {
			q.expect = defaultExpect
		}
	}
	if b, ok := r.Bool("follow_redirects"); ok {
		q.follow = b
	}
	if n, ok := r.Int("max_response"); ok {
		if n <= 0 || n > maxResponseLimit {
			r.Errorf("max_response", "%d is not between 1 and %d bytes", n, maxResponseLimit)
		} else {
			q.maxResponse = n
		}
	}
	return q
}

// ParseURL checks an http or https URL with a host.
func ParseURL(s string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		// url's error repeats the whole URL, which may carry a token.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("not a URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%s: only http and https URLs are supported", Redact(u))
	}
	if u.Host == "" {
		return nil, errors.New("the URL has no host")
	}
	return u, nil
}

// Redact returns u without its credentials, query and fragment, for logs.
func Redact(u *url.URL) string {
	c := *u
	c.User, c.RawQuery, c.ForceQuery, c.Fragment, c.RawFragment = nil, "", false, "", ""
	s := c.String()
	if u.RawQuery != "" {
		s += "?…"
	}
	return s
}

// Run implements action.Action.
func (h *HTTP) Run(ctx context.Context, in action.Input) (action.Output, error) {
	r := with.ForRun(in.With)
	q := h.parse(r)
	if err := r.Err(); err != nil {
		return action.Output{}, fmt.Errorf("http: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, q.timeout)
	defer cancel()

	req, err := nethttp.NewRequestWithContext(ctx, q.method, q.url.String(), bytes.NewReader(q.body))
	if err != nil {
		return action.Output{}, fmt.Errorf("http: %s %s: %w", q.method, Redact(q.url), unwrapURLError(err))
	}
	if q.body == nil {
		req.Body, req.ContentLength = nethttp.NoBody, 0
	} else {
		req.Header.Set("Content-Type", q.contentType)
	}
	req.Header.Set("User-Agent", h.opts.UserAgent)
	for k, v := range q.headers {
		if strings.EqualFold(k, "Host") {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}

	client := *h.opts.Client
	client.CheckRedirect = func(_ *nethttp.Request, via []*nethttp.Request) error {
		if !q.follow {
			return nethttp.ErrUseLastResponse
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	where := q.method + " " + Redact(q.url)
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return action.Output{}, fmt.Errorf("http: %s: %w", where, unwrapURLError(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, int64(q.maxResponse)+1))
	elapsed := time.Since(start)
	if err != nil {
		return action.Output{}, fmt.Errorf("http: %s: reading the response: %w", where, unwrapURLError(err))
	}
	truncated := len(body) > q.maxResponse
	if truncated {
		body = body[:q.maxResponse]
	}

	var log strings.Builder
	fmt.Fprintf(&log, "%s: %d after %s, %d B", where, resp.StatusCode, elapsed.Round(time.Millisecond), len(body))
	if truncated {
		fmt.Fprintf(&log, "; body truncated to the first %d B", q.maxResponse)
	}
	var parsed any
	if isJSON(resp.Header.Get("Content-Type")) && !truncated && len(body) > 0 {
		if err := json.Unmarshal(body, &parsed); err != nil {
			parsed = nil
			fmt.Fprintf(&log, "; the JSON body does not parse: %v", err)
		}
	}
	out := action.Output{
		Values: map[string]any{
			"status":      resp.StatusCode,
			"headers":     responseHeaders(resp.Header),
			"body":        string(body),
			"json":        parsed,
			"duration_ms": elapsed.Milliseconds(),
			"truncated":   truncated,
		},
		Log: log.String(),
	}
	if !q.expect.match(resp.StatusCode) {
		return out, &StatusError{Status: resp.StatusCode, Expected: q.expect.String()}
	}
	return out, nil
}

// StatusError is returned when the response status is not one the step
// expects.
type StatusError struct {
	Status   int
	Expected string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("http: status %d %s (expected %s)", e.Status, nethttp.StatusText(e.Status), e.Expected)
}

// responseHeaders flattens the response headers for later steps. Set-Cookie
// is left out: it is a session credential.
func responseHeaders(h nethttp.Header) map[string]any {
	out := make(map[string]any, len(h))
	for k, vs := range h {
		if k == "Set-Cookie" {
			continue
		}
		out[k] = strings.Join(vs, ", ")
	}
	return out
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// unwrapURLError drops *url.Error's copy of the URL (it may carry a token);
// callers name the redacted URL themselves.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() && !errors.Is(ue.Err, context.DeadlineExceeded) {
			return fmt.Errorf("%w (%w)", ue.Err, context.DeadlineExceeded)
		}
		return ue.Err
	}
	return err
}

func validMethod(m string) bool {
	if m == "" {
		return false
	}
	return !strings.ContainsFunc(m, func(c rune) bool {
		return !(c >= 'A' && c <= 'Z' || c == '-' || c == '_')
	})
}

func validHeaderName(k string) bool {
	const token = "!#$%&'*+-.^_`|~"
	return k != "" && !strings.ContainsFunc(k, func(c rune) bool {
		return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(token, c))
	})
}
