package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/flywheel-ops/flywheel/internal/api"
	"github.com/flywheel-ops/flywheel/internal/auth"
	"github.com/flywheel-ops/flywheel/internal/store"
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

// slowAuthStore holds the token look-ups of secrets starting "slow-" until
// release is closed, telling entered of each.
type slowAuthStore struct {
	store.Store
	slow             map[string]bool
	entered, release chan struct{}
}

func (s *slowAuthStore) TokenByHash(ctx context.Context, hash string) (store.Token, error) {
	if s.slow[hash] {
		s.entered <- struct{}{}
		<-s.release
	}
	return s.Store.TokenByHash(ctx, hash)
}

// TestUnauthPerIP: with an address's 4 places for requests in
// authentication taken (their token look-ups held), its next request with
// a token not yet known valid is a 429, while a token it used before
// (cached) still passes; once the held requests end (401), a new unknown
// token is answered 401 again, not 429.
func TestUnauthPerIP(t *testing.T) {
	h := newHarness(t)
	const places = 4
	st := &slowAuthStore{Store: h.st, slow: map[string]bool{}, entered: make(chan struct{}), release: make(chan struct{})}
	for i := range places {
		st.slow[auth.HashSecret(fmt.Sprint("slow-", i))] = true
	}
	reg := prometheus.NewRegistry()
	srv := httptest.NewServer(api.New(api.Options{Store: st, Clock: h.clock.Now, Registerer: reg, Gatherer: reg, UnauthPerIP: places}))
	t.Cleanup(srv.Close)
	var once sync.Once
	release := func() { once.Do(func() { close(st.release) }) }
	t.Cleanup(release) // before srv.Close, should the test stop early
	h.url = srv.URL
	viewer := h.secret("acme/viewer")
	h.call("GET", "/api/v1/opsitems", viewer, nil).ok(t, 200, nil)

	done := make(chan int, places)
	for i := range places {
		go func() {
			req, _ := http.NewRequest("GET", srv.URL+"/api/v1/opsitems", nil)
			req.Header.Set("Authorization", fmt.Sprint("Bearer slow-", i))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				done <- 0
				return
			}
			resp.Body.Close()
			done <- resp.StatusCode
		}()
	}
	for range places {
		<-st.entered
	}
	h.call("GET", "/api/v1/opsitems", "fw_unknown", nil).fail(t, 429, "too_many_requests")
	h.call("GET", "/api/v1/opsitems", viewer, nil).ok(t, 200, nil)
	release()
	for range places {
		if code := <-done; code != 401 {
			t.Errorf("a held request with an unknown token: %d, want 401", code)
		}
	}
	h.call("GET", "/api/v1/opsitems", "fw_unknown", nil).fail(t, 401, "unauthenticated")
}
