package fleet

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the fleet's Prometheus series.
type metrics struct {
	heartbeats prometheus.Counter
	polls      prometheus.Gauge
	dispatched prometheus.Counter
	results    *prometheus.CounterVec
	flush      prometheus.Histogram
	events     *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		heartbeats: prometheus.NewCounter(prometheus.CounterOpts{Name: "flywheel_fleet_heartbeats_total", Help: "Agent heartbeats received."}),
		polls:      prometheus.NewGauge(prometheus.GaugeOpts{Name: "flywheel_fleet_polls_waiting", Help: "Agent long-polls waiting for work on this server."}),
		dispatched: prometheus.NewCounter(prometheus.CounterOpts{Name: "flywheel_fleet_commands_dispatched_total", Help: "Commands handed to agents."}),
		results: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "flywheel_fleet_command_results_total", Help: "Command results reported by agents, by status."},
			[]string{"status"}),
		flush: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "flywheel_fleet_heartbeat_flush_seconds",
			Help: "Time to write one batch of buffered heartbeats.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 14)}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "flywheel_fleet_events_total", Help: "Events the fleet raised, by kind and status."},
			[]string{"kind", "status"}),
	}
	if reg != nil {
		reg.MustRegister(m.heartbeats, m.polls, m.dispatched, m.results, m.flush, m.events)
	}
	return m
}

func (m *metrics) observeFlush(start time.Time) { m.flush.Observe(time.Since(start).Seconds()) }
