package api

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

func (s *Server) registerHealth() {
	s.Handle(Route{Method: "GET", Pattern: "/healthz"}, func(w http.ResponseWriter, r *http.Request) error {
		body := map[string]string{"status": "ok"}
		if s.reloader != nil {
			// Which content this replica runs: an operator compares the
			// digest across replicas after a reload.
			c := s.reloader.ContentStatus()
			body["content_generation"], body["content_digest"] = strconv.FormatInt(c.Generation, 10), c.Digest
		}
		WriteJSON(w, http.StatusOK, body)
		return nil
	})
	s.Handle(Route{Method: "GET", Pattern: "/readyz"}, s.readyz)
	if s.gather != nil {
		h := promhttp.HandlerFor(s.gather, promhttp.HandlerOpts{})
		s.Handle(Route{Method: "GET", Pattern: "/metrics"}, func(w http.ResponseWriter, r *http.Request) error {
			h.ServeHTTP(w, r)
			return nil
		})
	}
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.st.Ping(ctx); err != nil {
		return &Error{Status: http.StatusServiceUnavailable, Code: "not_ready", Message: "database unreachable"}
	}
	if s.ready != nil {
		if err := s.ready(ctx); err != nil {
			return &Error{Status: http.StatusServiceUnavailable, Code: "not_ready", Message: err.Error()}
		}
	}
	WriteJSON(w, http.StatusOK, map[string]string{"status": "ready", "store": s.st.Driver()})
	return nil
}

type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "flywheel_http_requests_total", Help: "API requests by route and status code.",
		}, []string{"method", "route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "flywheel_http_request_duration_seconds", Help: "API request latency by route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"method", "route"}),
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.duration)
	}
	return m
}

// routeMetrics are one route's series. The latency series and the 200
// counter are looked up once, at the route's first request (not at
// registration, so routes never called export nothing): a lookup by label
// values hashes each value, on every request otherwise.
type routeMetrics struct {
	m        *httpMetrics
	rt       Route
	once     sync.Once
	duration prometheus.Observer
	ok       prometheus.Counter
}

func (m *httpMetrics) route(rt Route) *routeMetrics { return &routeMetrics{m: m, rt: rt} }

func (r *routeMetrics) observe(code int, d time.Duration) {
	r.once.Do(func() {
		r.duration = r.m.duration.WithLabelValues(r.rt.Method, r.rt.Pattern)
		r.ok = r.m.requests.WithLabelValues(r.rt.Method, r.rt.Pattern, "200")
	})
	r.duration.Observe(d.Seconds())
	if code == http.StatusOK {
		r.ok.Inc()
		return
	}
	r.m.requests.WithLabelValues(r.rt.Method, r.rt.Pattern, statusText(code)).Inc()
}

func statusText(code int) string {
	switch code { // the usual ones without an allocation
	case http.StatusOK:
		return "200"
	case http.StatusAccepted:
		return "202"
	case http.StatusNoContent:
		return "204"
	}
	const digits = "0123456789"
	if code < 100 || code > 999 {
		return "000"
	}
	return string([]byte{digits[code/100], digits[code/10%10], digits[code%10]})
}
