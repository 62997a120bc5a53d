package api_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/flywheel-ops/flywheel/internal/api"
)

// TestHealth: /healthz and /readyz answer without a token; /readyz names
// the store driver, on every driver.
func TestHealth(t *testing.T) {
	t.Parallel()
	for _, d := range drivers {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			h := newHarnessOn(t, d.open(t))
			var got map[string]string
			h.call("GET", "/healthz", "", nil).ok(t, http.StatusOK, &got)
			if got["status"] != "ok" {
				t.Errorf("healthz: %v", got)
			}
			h.call("GET", "/readyz", "", nil).ok(t, http.StatusOK, &got)
			if got["status"] != "ready" || got["store"] != d.name {
				t.Errorf("readyz: %v, want ready with store %s", got, d.name)
			}
		})
	}
}

// TestReadyzFailures: a failing Ready hook or an unreachable database is a
// 503 with Retry-After, in the error envelope.
func TestReadyzFailures(t *testing.T) {
	t.Parallel()
	st := openSQLite(t)
	srv := api.New(api.Options{Store: st, Ready: func(context.Context) error { return errors.New("jobs not started") }})
	serve := func() reply {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
		return reply{Method: "GET", Path: "/readyz", Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
	}
	r := serve()
	r.fail(t, http.StatusServiceUnavailable, "not_ready", "jobs not started")
	if r.Header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	st.Close()
	r = serve()
	r.fail(t, http.StatusServiceUnavailable, "not_ready", "database unreachable")
	if r.Header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
}

// TestMetrics: /metrics serves the injected registry, and request counts
// carry the route pattern (not the raw path) and the status code.
func TestMetrics(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	o := h.createOpsItem(h.secret("acme/operator"), api.OpsItemInput{Title: "x"})
	for range 3 {
		h.call("GET", "/api/v1/opsitems/"+o.ID, h.secret("acme/viewer"), nil).ok(t, 200, nil)
	}
	h.call("GET", "/api/v1/opsitems/oi_nope", h.secret("acme/viewer"), nil).fail(t, 404, "not_found")
	h.call("GET", "/api/v1/opsitems", "", nil).fail(t, 401, "unauthenticated")
	h.call("GET", "/healthz", "", nil).ok(t, 200, nil)

	r := h.call("GET", "/metrics", "", nil)
	r.ok(t, http.StatusOK, nil)
	body := string(r.Body)
	for series, want := range map[string]int{
		`flywheel_http_requests_total{code="201",method="POST",route="/api/v1/opsitems"}`:     1,
		`flywheel_http_requests_total{code="200",method="GET",route="/api/v1/opsitems/{id}"}`: 3,
		`flywheel_http_requests_total{code="404",method="GET",route="/api/v1/opsitems/{id}"}`: 1,
		`flywheel_http_requests_total{code="401",method="GET",route="/api/v1/opsitems"}`:      1,
		`flywheel_http_requests_total{code="200",method="GET",route="/healthz"}`:              1,
	} {
		if got := metricValue(body, series); got != want {
			t.Errorf("%s = %d, want %d", series, got, want)
		}
	}
	if strings.Contains(body, o.ID) {
		t.Error("metrics label a raw path (unbounded cardinality)")
	}
	if !strings.Contains(body, "flywheel_http_request_duration_seconds_bucket") {
		t.Error("no request duration histogram")
	}

	// Without a Gatherer there is no /metrics route, and no registration
	// happens without a Registerer.
	bare := api.New(api.Options{Store: h.st})
	for _, rt := range bare.Routes() {
		if rt.Pattern == "/metrics" {
			t.Error("/metrics registered without a Gatherer")
		}
	}
}

// metricValue returns the value of one exact series in a text exposition,
// -1 when absent.
func metricValue(exposition, series string) int {
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\d+)$`).FindStringSubmatch(exposition)
	if m == nil {
		return -1
	}
	n, _ := strconv.Atoi(m[1])
	return n
}
