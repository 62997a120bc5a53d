package api_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/flywheel-ops/flywheel/internal/api"
)

// limitedHarness is a harness whose requests go to a server with the
// default limits (the harness's own has them off).
func limitedHarness(t *testing.T) *harness {
	h := newHarness(t)
	reg := prometheus.NewRegistry()
	srv := httptest.NewServer(api.New(api.Options{Store: h.st, Clock: h.clock.Now, Registerer: reg, Gatherer: reg, Runbooks: h.runbooks.x}))
	t.Cleanup(srv.Close)
	h.url = srv.URL
	return h
}

// TestDeniedAuditBounded: 30 s of refused POSTs by a viewer — 300, one
// every 100 ms, each naming a 4 KiB path — leave at most 10 + 30s/10s
// audit records of at most 256-byte targets (some 13 records of well under
// 1 KiB: far below 1 MB of database), and the rest counted as dropped.
func TestDeniedAuditBounded(t *testing.T) {
	t.Parallel()
	h := limitedHarness(t)
	viewer := h.secret("acme/viewer")
	before := len(h.auditOf("acme"))
	long := strings.Repeat("x", 4096)
	const n = 300
	for range n {
		h.call("POST", "/api/v1/opsitems/"+long+"/runbooks/disk", viewer, map[string]any{}).fail(t, 403, "forbidden")
		h.clock.Advance(100 * time.Millisecond)
	}
	var denied, size int
	for _, r := range h.auditOf("acme")[:len(h.auditOf("acme"))-before] {
		if strings.HasPrefix(r.Result, "denied: ") {
			denied++
			size += len(r.Target) + len(r.Result)
			if len(r.Target) > 256 {
				t.Errorf("a %d-byte target was audited", len(r.Target))
			}
		}
	}
	if max := 10 + 3; denied < 10 || denied > max+1 {
		t.Errorf("%d denied calls audited over 30s, want 10 to %d", denied, max+1)
	}
	dropped := metricValue(string(h.call("GET", "/metrics", "", nil).Body), "flywheel_audit_denied_dropped_total")
	if dropped != n-denied {
		t.Errorf("dropped counter %d, want %d", dropped, n-denied)
	}
	t.Logf("%d of %d refused POSTs audited (%d bytes of target and result), %d dropped", denied, n, size, dropped)
}

// TestFailedAuthThrottled: after 20 failed authentications from one
// address, further unknown tokens get 429 with Retry-After; a valid token
// seen before still works; the address recovers as its bucket refills.
func TestFailedAuthThrottled(t *testing.T) {
	t.Parallel()
	h := limitedHarness(t)
	viewer := h.secret("acme/viewer")
	h.call("GET", "/api/v1/opsitems", viewer, nil).ok(t, 200, nil) // cached as valid
	for i := range 20 {
		if r := h.call("GET", "/api/v1/opsitems", "fw_wrong", nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("failure %d: %s", i+1, r)
		}
	}
	r := h.call("GET", "/api/v1/opsitems", "fw_wrong", nil)
	r.fail(t, http.StatusTooManyRequests, "too_many_requests", "too many failed authentications")
	if ra := r.Header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Errorf("429 without Retry-After: %q", ra)
	}
	h.call("GET", "/api/v1/opsitems", viewer, nil).ok(t, 200, nil)
	if n := metricValue(string(h.call("GET", "/metrics", "", nil).Body), "flywheel_auth_throttled_total"); n != 1 {
		t.Errorf("throttled counter %d, want 1", n)
	}
	h.clock.Advance(3 * time.Second)
	if r := h.call("GET", "/api/v1/opsitems", "fw_wrong", nil); r.Status != http.StatusUnauthorized {
		t.Errorf("after the bucket refilled: %s", r)
	}
}
