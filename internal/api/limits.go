package api

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Bounds on what refused requests cost (docs/hardening.md): each principal's
// denied mutating calls are audited at most deniedBurst at once and one
// per deniedEvery after, with their target and reason cut to
// maxAuditText bytes; each client IP's failed authentications are answered
// 401 and logged at most authFailBurst at once and one per authFailEvery
// after, then 429 until the bucket refills. Every call dropped or
// throttled is counted.
const (
	deniedBurst   = 10
	deniedEvery   = 10 * time.Second
	authFailBurst = 20
	authFailEvery = 3 * time.Second
	maxAuditText  = 256
	// unauthPerIP caps a client IP's requests whose token is not yet known
	// valid (not in the auth cache) being authenticated at once.
	unauthPerIP = 16
	// unauthWait is how long such a request waits for a place (a sender's
	// burst with a new token queues) before 429.
	unauthWait = time.Second
	// maxBuckets bounds a limiter's memory; past it, full buckets are
	// forgotten.
	maxBuckets = 10000
)

// limiter is a token bucket per key.
type limiter struct {
	mu      sync.Mutex
	burst   float64
	every   time.Duration
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newLimiter(burst int, every time.Duration) *limiter {
	return &limiter{burst: float64(burst), every: every, buckets: map[string]*bucket{}}
}

// refill brings b to now; callers hold l.mu.
func (l *limiter) refill(key string, now time.Time) *bucket {
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= maxBuckets {
			for k, o := range l.buckets {
				if o.tokens+float64(now.Sub(o.at))/float64(l.every) >= l.burst {
					delete(l.buckets, k)
				}
			}
		}
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[key] = b
	}
	if d := now.Sub(b.at); d > 0 {
		b.tokens = min(l.burst, b.tokens+float64(d)/float64(l.every))
		b.at = now
	}
	return b
}

// allow takes a token for key if one is left. A limiter with a negative
// burst allows everything.
func (l *limiter) allow(key string, now time.Time) bool {
	if l.burst < 0 {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.refill(key, now)
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// empty reports whether key has no token left, and when it gets one.
func (l *limiter) empty(key string, now time.Time) (bool, time.Duration) {
	if l.burst < 0 {
		return false, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		return false, 0
	}
	b = l.refill(key, now)
	if b.tokens >= 1 {
		return false, 0
	}
	return true, time.Duration((1 - b.tokens) * float64(l.every))
}

type limitMetrics struct {
	deniedDropped prometheus.Counter
	authThrottled prometheus.Counter
}

func newLimitMetrics(reg prometheus.Registerer) *limitMetrics {
	m := &limitMetrics{
		deniedDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "flywheel_audit_denied_dropped_total",
			Help: "Denied API calls not audited because their principal exceeded the denied-call audit rate.",
		}),
		authThrottled: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "flywheel_auth_throttled_total",
			Help: "API calls answered 429 because their client IP failed authentication too often.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.deniedDropped, m.authThrottled)
	}
	return m
}

// clientIP is the request's peer address (a proxy's, behind one).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// throttled answers a client IP whose authentications keep failing.
func throttled(retry time.Duration) *Error {
	return &Error{Status: http.StatusTooManyRequests, Code: "too_many_requests", RetryAfter: retry,
		Message: "too many failed authentications from this address; retry in " + strconv.Itoa(int(retry.Seconds())+1) + "s"}
}

// cut bounds s to n bytes on a rune boundary, marking the cut.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const marker = "…"
	end := n - len(marker)
	for end > 0 && s[end]&0xC0 == 0x80 {
		end--
	}
	return s[:end] + marker
}

// gate counts what is in progress per key, up to max at once.
type gate struct {
	mu  sync.Mutex
	max int
	n   map[string]int
}

// newGate is a gate of max per key; a negative max lets everything in.
func newGate(max int) *gate { return &gate{max: max, n: map[string]int{}} }

// enter takes a place for key if one is left; leave gives it back.
func (g *gate) enter(key string) bool {
	if g.max < 0 {
		return true
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.n[key] >= g.max {
		return false
	}
	g.n[key]++
	return true
}

// wait enters, waiting up to d (or until ctx ends) for a place.
func (g *gate) wait(ctx context.Context, key string, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for !g.enter(key) {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

func (g *gate) leave(key string) {
	if g.max < 0 {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.n[key]--; g.n[key] <= 0 {
		delete(g.n, key)
	}
}
