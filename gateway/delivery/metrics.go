package delivery

import "github.com/prometheus/client_golang/prometheus"

// Metrics counts delivery outcomes by destination.
type Metrics struct {
	deliveries *prometheus.CounterVec
	attempts   *prometheus.CounterVec
	retries    *prometheus.CounterVec
	duration   *prometheus.HistogramVec
}

// NewMetrics registers the delivery metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "relais_delivery_outcomes_total",
			Help: "Delivery attempts by destination and outcome (delivered, retrying, failed, dead, breaker_open, waiting).",
		}, []string{"destination", "outcome"}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "relais_delivery_attempts_total",
			Help: "Calls made to a platform to deliver, by destination.",
		}, []string{"destination"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "relais_delivery_retries_total",
			Help: "Delivery attempts that were not the first for their delivery, by destination.",
		}, []string{"destination"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "relais_delivery_attempt_duration_seconds",
			Help:    "Time spent in one delivery attempt, by destination.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12),
		}, []string{"destination"}),
	}
	reg.MustRegister(m.deliveries, m.attempts, m.retries, m.duration)
	return m
}

func (m *Metrics) count(destination, outcome string, retry bool) {
	m.deliveries.WithLabelValues(destination, outcome).Inc()
	m.attempts.WithLabelValues(destination).Inc()
	if retry {
		m.retries.WithLabelValues(destination).Inc()
	}
}
