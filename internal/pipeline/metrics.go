package pipeline

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the pipeline's Prometheus counters.
type Metrics struct {
	Received     prometheus.Counter
	Deduplicated prometheus.Counter
	Suppressed   *prometheus.CounterVec
	Opened       prometheus.Counter
}

// NewMetrics registers the pipeline counters with reg (nil: unregistered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Received:     prometheus.NewCounter(prometheus.CounterOpts{Name: "flywheel_events_received_total", Help: "Events received by the pipeline."}),
		Deduplicated: prometheus.NewCounter(prometheus.CounterOpts{Name: "flywheel_events_deduplicated_total", Help: "Events that repeated a known alert state."}),
		Suppressed:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "flywheel_events_suppressed_total", Help: "Events deflected, by reason."}, []string{"reason"}),
		Opened:       prometheus.NewCounter(prometheus.CounterOpts{Name: "flywheel_opsitems_opened_total", Help: "OpsItems opened by the pipeline."}),
	}
	for _, r := range []string{"silence", "maintenance", "transient", "flapping", "inhibited"} {
		m.Suppressed.WithLabelValues(r)
	}
	if reg != nil {
		reg.MustRegister(m.Received, m.Deduplicated, m.Suppressed, m.Opened)
	}
	return m
}

func (m *Metrics) count(c Counts) {
	if m == nil {
		return
	}
	m.Received.Add(float64(c.Received))
	m.Deduplicated.Add(float64(c.Deduplicated))
	m.Opened.Add(float64(c.Opened))
	for r, n := range c.Suppressed {
		m.Suppressed.WithLabelValues(r).Add(float64(n))
	}
}
