package http_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	nethttp "net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flywheel-ops/flywheel/internal/outbound"
	"github.com/flywheel-ops/flywheel/internal/runbook/action"
	"github.com/flywheel-ops/flywheel/internal/runbook/action/http"
)

// loopback lets the tests' servers, on 127.0.0.1, be reached: the default
// guard refuses them (TestGuard).
var loopback, _ = outbound.New([]string{"127.0.0.0/8", "::1"})

func input(with map[string]any) action.Input {
	return action.Input{With: with, ExecutionID: "ex-1", Step: "s", Attempt: 1, Logger: slog.New(slog.DiscardHandler), Now: time.Now}
}

func serve(t *testing.T, h nethttp.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func run(t *testing.T, with map[string]any) (action.Output, error) {
	t.Helper()
	return http.New(http.Options{Outbound: loopback}).Run(t.Context(), input(with))
}

func TestGetJSON(t *testing.T) {
	t.Parallel()
	srv := serve(t, func(w nethttp.ResponseWriter, r *nethttp.Request) {
		if r.Method != "GET" || r.URL.Path != "/health" || r.Header.Get("X-Probe") != "yes" || r.Header.Get("User-Agent") != "flywheel" {
			t.Errorf("request %s %s %v", r.Method, r.URL, r.Header)
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Set-Cookie", "session=s3cret")
		w.Header().Add("X-Node", "a")
		w.Header().Add("X-Node", "b")
		_, _ = io.WriteString(w, `{"status":"ok","checks":[1,2]}`)
	})
	out, err := run(t, map[string]any{"url": srv.URL + "/health", "headers": map[string]any{"X-Probe": "yes"}})
	if err != nil {
		t.Fatal(err)
	}
	v := out.Values
	if v["status"] != 200 || v["body"] != `{"status":"ok","checks":[1,2]}` || v["truncated"] != false {
		t.Errorf("values = %v", v)
	}
	if j, ok := v["json"].(map[string]any); !ok || j["status"] != "ok" {
		t.Errorf("json = %#v", v["json"])
	}
	h := v["headers"].(map[string]any)
	if h["X-Node"] != "a, b" || h["Content-Type"] != "application/json; charset=utf-8" {
		t.Errorf("headers = %v", h)
	}
	if _, ok := h["Set-Cookie"]; ok {
		t.Error("Set-Cookie is a credential; it must not be an output")
	}
	if !strings.HasPrefix(out.Log, "GET "+srv.URL+"/health: 200 after ") {
		t.Errorf("log = %q", out.Log)
	}
}

func TestPostBodies(t *testing.T) {
	t.Parallel()
	type got struct{ method, contentType, body string }
	seen := make(chan got, 1)
	srv := serve(t, func(w nethttp.ResponseWriter, r *nethttp.Request) {
		b, _ := io.ReadAll(r.Body)
		seen <- got{r.Method, r.Header.Get("Content-Type"), string(b)}
		w.WriteHeader(nethttp.StatusAccepted)
	})
	for _, tc := range []struct {
		with map[string]any
		want got
	}{
		{map[string]any{"body": map[string]any{"drain": true, "hosts": []any{"web-1"}}}, got{"POST", "application/json", `{"drain":true,"hosts":["web-1"]}`}},
		{map[string]any{"method": "put", "body": "plain text"}, got{"PUT", "text/plain; charset=utf-8", "plain text"}},
		{map[string]any{"method": "PATCH", "body": "a=1", "headers": map[string]any{"Content-Type": "application/x-www-form-urlencoded"}}, got{"PATCH", "application/x-www-form-urlencoded", "a=1"}},
		{map[string]any{"method": "DELETE"}, got{"DELETE", "", ""}},
	} {
		tc.with["url"] = srv.URL
		out, err := run(t, tc.with)
		if err != nil {
			t.Fatal(err)
		}
		if g := <-seen; g != tc.want {
			t.Errorf("%v: server saw %+v, want %+v", tc.with, g, tc.want)
		}
		if out.Values["status"] != 202 || out.Values["json"] != nil {
			t.Errorf("values = %v", out.Values)
		}
	}
}

func TestExpectStatus(t *testing.T) {
	t.Parallel()
	srv := serve(t, func(w nethttp.ResponseWriter, r *nethttp.Request) {
		w.WriteHeader(nethttp.StatusServiceUnavailable)
		_, _ = io.WriteString(w, "overloaded")
	})
	out, err := run(t, map[string]any{"url": srv.URL})
	var se *http.StatusError
	if !errors.As(err, &se) || se.Status != 503 || err.Error() != "http: status 503 Service Unavailable (expected 2xx)" {
		t.Fatalf("err = %v", err)
	}
	if out.Values["body"] != "overloaded" {
		t.Errorf("a failed step still reports the response: %v", out.Values)
	}
	for _, expect := range []any{"5xx", 503, "500-599", []any{200, "503"}} {
		if _, err := run(t, map[string]any{"url": srv.URL, "expect_status": expect}); err != nil {
			t.Errorf("expect_status %v: %v", expect, err)
		}
	}
	if _, err := run(t, map[string]any{"url": srv.URL, "expect_status": []any{"4xx", "500-502"}}); err == nil || !strings.Contains(err.Error(), "(expected 4xx, 500-502)") {
		t.Errorf("err = %v", err)
	}
}

func TestRedirects(t *testing.T) {
	t.Parallel()
	srv := serve(t, func(w nethttp.ResponseWriter, r *nethttp.Request) {
		if r.URL.Path == "/old" {
			nethttp.Redirect(w, r, "/new", nethttp.StatusFound)
			return
		}
		_, _ = io.WriteString(w, "new")
	})
	out, err := run(t, map[string]any{"url": srv.URL + "/old", "expect_status": "3xx"})
	if err != nil || out.Values["status"] != 302 || out.Values["headers"].(map[string]any)["Location"] != "/new" {
		t.Errorf("not following: %v %v", out.Values, err)
	}
	out, err = run(t, map[string]any{"url": srv.URL + "/old", "follow_redirects": true})
	if err != nil || out.Values["status"] != 200 || out.Values["body"] != "new" {
		t.Errorf("following: %v %v", out.Values, err)
	}
}

func TestMaxResponse(t *testing.T) {
	t.Parallel()
	srv := serve(t, func(w nethttp.ResponseWriter, r *nethttp.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"data":"`+strings.Repeat("x", 1000)+`"}`)
	})
	out, err := run(t, map[string]any{"url": srv.URL, "max_response": 100})
	if err != nil {
		t.Fatal(err)
	}
	if b := out.Values["body"].(string); len(b) != 100 || !strings.HasPrefix(b, `{"data":"xxx`) {
		t.Errorf("body = %q", b)
	}
	if out.Values["truncated"] != true || out.Values["json"] != nil {
		t.Errorf("a truncated body is not parsed: %v", out.Values)
	}
	if !strings.Contains(out.Log, "body truncated to the first 100 B") {
		t.Errorf("log = %q", out.Log)
	}
}

func TestTimeout(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := serve(t, func(w nethttp.ResponseWriter, r *nethttp.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	start := time.Now()
	_, err := run(t, map[string]any{"url": srv.URL, "timeout": "200ms"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s", d)
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := http.New(http.Options{Outbound: loopback}).Run(ctx, input(map[string]any{"url": srv.URL})); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// Header values, URL credentials and query strings never reach the log or
// the error.
func TestSecretsNotLogged(t *testing.T) {
	t.Parallel()
	srv := serve(t, func(w nethttp.ResponseWriter, r *nethttp.Request) {
		if r.Header.Get("Authorization") != "Bearer s3cret-header" || r.URL.Query().Get("token") != "s3cret-query" {
			t.Errorf("request lacks its credentials: %v %v", r.URL, r.Header)
		}
		w.WriteHeader(nethttp.StatusForbidden)
	})
	u := strings.Replace(srv.URL, "http://", "http://user:s3cret-pass@", 1) + "/api?token=s3cret-query"
	out, err := run(t, map[string]any{"url": u, "headers": map[string]any{"Authorization": "Bearer s3cret-header"}})
	if err == nil {
		t.Fatal("403 accepted")
	}
	dump, _ := json.Marshal(out)
	for _, text := range []string{out.Log, err.Error(), string(dump)} {
		if strings.Contains(text, "s3cret") {
			t.Errorf("a secret leaked: %s", text)
		}
	}
	if !strings.Contains(out.Log, "/api?…: 403") {
		t.Errorf("log = %q", out.Log)
	}

	// A connection error does not repeat the URL either.
	_, err = run(t, map[string]any{"url": "http://user:s3cret@127.0.0.1:1/?token=s3cret", "timeout": "2s"})
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("connection error: %v", err)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	h := http.New(http.Options{})
	for _, tc := range []struct {
		with map[string]any
		want string
	}{
		{map[string]any{"url": "https://lb.example.com/drain", "method": "POST", "body": map[string]any{"host": "${{ target.id }}"}, "headers": map[string]any{"Authorization": "Bearer ${{ secrets.lb_token }}"}, "timeout": "10s", "expect_status": []any{200, "202", "2xx", "200-204"}, "follow_redirects": true, "max_response": 4096}, ""},
		{map[string]any{"url": "${{ params.url }}"}, ""},
		{map[string]any{}, "url: is required"},
		{map[string]any{"url": "ftp://example.com/x"}, "only http and https"},
		{map[string]any{"url": "https://"}, "the URL has no host"},
		{map[string]any{"url": "https://x", "method": "GE T"}, `method: "GE T" is not an HTTP method`},
		{map[string]any{"url": "https://x", "expect_status": "2xy"}, `expect_status[0]: "2xy" is not a status code`},
		{map[string]any{"url": "https://x", "expect_status": []any{700}}, `"700" is not a status code`},
		{map[string]any{"url": "https://x", "expect_status": "299-200"}, `"299-200" is not`},
		{map[string]any{"url": "https://x", "headers": map[string]any{"Bad Header": "v"}}, `"Bad Header" is not a header name`},
		{map[string]any{"url": "https://x", "max_response": 0}, "max_response: 0 is not between"},
		{map[string]any{"url": "https://x", "follow": true}, "follow: unknown input"},
	} {
		err := h.Validate(tc.with)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%v: %v", tc.with, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%v: error %v, want %q", tc.with, err, tc.want)
		}
	}
}

// TestGuard: the default outbound guard refuses a step's request to
// 127.0.0.1 (a runbook url parameter pointing there included); an
// allow-listed server redirecting to the cloud metadata address is refused
// at the redirect, before any connection to it.
func TestGuard(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := serve(t, func(w nethttp.ResponseWriter, r *nethttp.Request) {
		hits.Add(1)
		nethttp.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", nethttp.StatusFound)
	})
	_, err := http.New(http.Options{}).Run(t.Context(), input(map[string]any{"url": srv.URL + "/x"}))
	if !outbound.Refused(err) || !strings.Contains(err.Error(), "loopback") || hits.Load() != 0 {
		t.Errorf("default guard: %v (%d requests served), want a loopback refusal", err, hits.Load())
	}
	_, err = http.New(http.Options{Outbound: loopback}).Run(t.Context(), input(map[string]any{"url": srv.URL + "/x", "follow_redirects": true}))
	if !outbound.Refused(err) || !strings.Contains(err.Error(), "169.254.169.254 refused: it is a link-local") || hits.Load() != 1 {
		t.Errorf("redirect to the metadata address: %v (%d requests served), want refused at the redirect", err, hits.Load())
	}
}
