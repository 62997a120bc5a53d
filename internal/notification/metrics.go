package notification

import "github.com/prometheus/client_golang/prometheus"

// metrics are the deliveries' Prometheus series, labelled by channel name
// (bounded: the configured channels and those content names).
type metrics struct {
	outcomes *prometheus.CounterVec   // final: delivered or failed
	retries  *prometheus.CounterVec   // attempts that failed and will be retried
	duration *prometheus.HistogramVec // each attempt, by channel type
}

func newMetrics(reg prometheus.Registerer, channels []string) *metrics {
	m := &metrics{
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "flywheel_notifications_total",
			Help: "Rules' notifications by channel and final outcome (delivered, failed)."}, []string{"channel", "outcome"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "flywheel_notification_retries_total",
			Help: "Delivery attempts that failed and were retried, by channel."}, []string{"channel"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "flywheel_notification_attempt_duration_seconds",
			Help: "How long one delivery attempt took, by channel type.", Buckets: prometheus.ExponentialBuckets(0.01, 4, 8)}, []string{"type"}),
	}
	for _, c := range channels {
		m.outcomes.WithLabelValues(c, "delivered")
		m.outcomes.WithLabelValues(c, "failed")
		m.retries.WithLabelValues(c)
	}
	if reg != nil {
		reg.MustRegister(m.outcomes, m.retries, m.duration)
	}
	return m
}
