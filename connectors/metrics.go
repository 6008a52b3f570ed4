package connectors

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the connectors' Prometheus metrics, labelled by destination.
// One value serves every stack of a process; build it with NewMetrics on the
// server's own registry.
type Metrics struct {
	requests           *prometheus.CounterVec
	duration           *prometheus.HistogramVec
	breakerState       *prometheus.GaugeVec
	breakerTransitions *prometheus.CounterVec
	tokenRefreshes     *prometheus.CounterVec
	rateLimitWaits     *prometheus.CounterVec
	rateLimitWaitSecs  *prometheus.CounterVec
	retries            *prometheus.CounterVec
}

var _ prometheus.Collector = (*Metrics)(nil)

// NewMetrics builds the metrics and registers them on reg. Calling it twice
// with the same registry returns the Metrics registered first. It panics if
// reg already holds different metrics under the same names, a wiring bug.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "relais_connector_requests_total",
			Help: "Calls to a destination platform by method and HTTP status code (\"error\" when no response came back).",
		}, []string{"destination", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "relais_connector_request_duration_seconds",
			Help:    "Time from sending one try to a destination platform to its response headers.",
			Buckets: []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"destination"}),
		breakerState: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "relais_connector_breaker_state",
			Help: "Circuit breaker state of a destination: 0 closed, 1 half-open, 2 open.",
		}, []string{"destination"}),
		breakerTransitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "relais_connector_breaker_transitions_total",
			Help: "Circuit breaker state changes of a destination, by the state entered.",
		}, []string{"destination", "to"}),
		tokenRefreshes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "relais_connector_token_refreshes_total",
			Help: "Access tokens fetched from a destination's token endpoint.",
		}, []string{"destination"}),
		rateLimitWaits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "relais_connector_ratelimit_waits_total",
			Help: "Calls to a destination that waited for a rate limiter token.",
		}, []string{"destination"}),
		rateLimitWaitSecs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "relais_connector_ratelimit_wait_seconds_total",
			Help: "Time spent waiting for rate limiter tokens of a destination.",
		}, []string{"destination"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "relais_connector_retries_total",
			Help: "In-call retries of idempotent requests to a destination.",
		}, []string{"destination"}),
	}
	if err := reg.Register(m); err != nil {
		if are, ok := errors.AsType[prometheus.AlreadyRegisteredError](err); ok {
			if existing, ok := are.ExistingCollector.(*Metrics); ok {
				return existing
			}
		}
		panic(fmt.Sprintf("connectors: registering metrics: %v", err))
	}
	return m
}

func (m *Metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{
		m.requests, m.duration, m.breakerState, m.breakerTransitions,
		m.tokenRefreshes, m.rateLimitWaits, m.rateLimitWaitSecs, m.retries,
	}
}

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range m.collectors() {
		c.Describe(ch)
	}
}

// Collect implements prometheus.Collector.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	for _, c := range m.collectors() {
		c.Collect(ch)
	}
}

// metricsTransport counts and times every try that reaches the network.
type metricsTransport struct {
	next     http.RoundTripper
	requests *prometheus.CounterVec // curried with the destination
	duration prometheus.Observer
	now      func() time.Time
}

func newMetricsTransport(next http.RoundTripper, dest string, m *Metrics, now func() time.Time) *metricsTransport {
	return &metricsTransport{
		next:     next,
		requests: m.requests.MustCurryWith(prometheus.Labels{"destination": dest}),
		duration: m.duration.WithLabelValues(dest),
		now:      now,
	}
}

func (t *metricsTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := t.now()
	resp, err := t.next.RoundTrip(req)
	t.duration.Observe(t.now().Sub(start).Seconds())
	code := "error"
	if err == nil {
		code = strconv.Itoa(resp.StatusCode)
	}
	t.requests.WithLabelValues(req.Method, code).Inc()
	return resp, err
}
