package profile

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the lookups' Prometheus metrics. A nil *Metrics records
// nothing.
type Metrics struct {
	lookups  *prometheus.CounterVec
	duration prometheus.Histogram
	sources  *prometheus.CounterVec
	pulls    *prometheus.HistogramVec
}

// NewMetrics registers the lookups' metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		lookups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "relais_profile_lookups_total",
			Help: "Profile lookups answered, complete (every source ok) or partial.",
		}, []string{"result"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "relais_profile_lookup_duration_seconds",
			Help:    "Time to answer a profile lookup: basis checks, the sources in parallel, the answer stored.",
			Buckets: []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60},
		}),
		sources: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "relais_profile_source_results_total",
			Help: "Sources of profile lookups by status: ok, not_found, unavailable, rate_limited, timeout, refused or error.",
		}, []string{"source", "status"}),
		pulls: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "relais_profile_source_duration_seconds",
			Help:    "Time one source of a profile lookup took to answer.",
			Buckets: []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"source"}),
	}
	reg.MustRegister(m.lookups, m.duration, m.sources, m.pulls)
	return m
}

// observe records one answered lookup.
func (m *Metrics) observe(p *Profile, pulled []pulled, took time.Duration) {
	if m == nil {
		return
	}
	result := "partial"
	if p.Complete {
		result = "complete"
	}
	m.lookups.WithLabelValues(result).Inc()
	m.duration.Observe(took.Seconds())
	for i, sr := range p.Sources {
		m.sources.WithLabelValues(sr.Name, string(sr.Status)).Inc()
		if pulled[i].done {
			m.pulls.WithLabelValues(sr.Name).Observe(pulled[i].took.Seconds())
		}
	}
}
