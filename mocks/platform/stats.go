package platform

import (
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// faultKind indexes the Injected counters.
type faultKind int

const (
	faultLatency faultKind = iota
	faultError
	faultHang
	faultTruncate
	faultMalformed
	faultDrift
	faultOutage
	numFaultKinds
)

// faultKindNames are the keys of Stats.Injected, by faultKind.
var faultKindNames = [numFaultKinds]string{"latency", "error", "hang", "truncate", "malformed", "drift", "outage"}

// counters are the live Stats.
type counters struct {
	requests, violations, responseViolations, duplicates, rateLimited atomic.Int64
	byOp                                                              []atomic.Int64
	injected                                                          [numFaultKinds]atomic.Int64
	byStatus                                                          [maxStatus + 1]atomic.Int64
	perSecond                                                         peakPerSecond
}

// peakPerSecond finds the most requests one caller made within one second:
// it keeps each caller's requests of the last second.
type peakPerSecond struct {
	mu      sync.Mutex
	recent  map[string][]time.Time // by caller, oldest first
	peak    int64
	sweepAt int // forget the idle callers when recent reaches this size
}

// observe counts a request of caller at now.
func (p *peakPerSecond) observe(caller string, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.recent == nil {
		p.recent = map[string][]time.Time{}
	}
	if len(p.recent) >= max(p.sweepAt, minSweep) {
		for k, ts := range p.recent {
			if now.Sub(ts[len(ts)-1]) >= time.Second {
				delete(p.recent, k)
			}
		}
		p.sweepAt = 2 * len(p.recent)
	}
	ts := p.recent[caller]
	old := 0
	for old < len(ts) && now.Sub(ts[old]) >= time.Second {
		old++
	}
	ts = append(ts[:copy(ts, ts[old:])], now)
	p.recent[caller] = ts
	p.peak = max(p.peak, int64(len(ts)))
}

func (p *peakPerSecond) load() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.peak
}

func (p *peakPerSecond) reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.recent, p.peak, p.sweepAt = nil, 0, 0
}

// maxStatus is the largest status code counted by itself; net/http
// refuses larger ones, a handler's answer buffer does not: they are
// counted as maxStatus.
const maxStatus = 999

func (c *counters) inject(k faultKind) { c.injected[k].Add(1) }

// sent counts an answer of status.
func (c *counters) sent(status int) { c.byStatus[min(max(status, 0), maxStatus)].Add(1) }

func (c *counters) reset() {
	for _, a := range []*atomic.Int64{&c.requests, &c.violations, &c.responseViolations, &c.duplicates, &c.rateLimited} {
		a.Store(0)
	}
	for i := range c.byOp {
		c.byOp[i].Store(0)
	}
	for i := range c.injected {
		c.injected[i].Store(0)
	}
	for i := range c.byStatus {
		c.byStatus[i].Store(0)
	}
	c.perSecond.reset()
}

// Stats returns a snapshot of the counters. ByOperation and Injected list
// every operation and every fault kind, zeros included; ByStatus lists the
// statuses sent at least once.
func (s *Server) Stats() Stats {
	st := Stats{
		Requests:           s.stats.requests.Load(),
		Violations:         s.stats.violations.Load(),
		ResponseViolations: s.stats.responseViolations.Load(),
		Duplicates:         s.stats.duplicates.Load(),
		RateLimited:        s.stats.rateLimited.Load(),
		PeakPerSecond:      s.stats.perSecond.load(),
		ByOperation:        make(map[string]int64, len(s.c.ops)),
		Injected:           make(map[string]int64, numFaultKinds),
		ByStatus:           map[string]int64{},
	}
	for _, op := range s.c.ops {
		st.ByOperation[op.id] = s.stats.byOp[op.index].Load()
	}
	for k, name := range faultKindNames {
		st.Injected[name] = s.stats.injected[k].Load()
	}
	for code := range s.stats.byStatus {
		if n := s.stats.byStatus[code].Load(); n > 0 {
			st.ByStatus[strconv.Itoa(code)] = n
		}
	}
	return st
}

// Request outcomes, the "outcome" label of relais_mock_requests_total.
const (
	outcomeHandled    = "handled"  // the handler answered
	outcomeReplayed   = "replayed" // an idempotent answer was replayed
	outcomeHang       = "hang"     // a hang fault held the request
	outcomeClientGone = "client_gone"
	// The other outcomes are ProblemKind values.
)

// noOperation is the operation label of requests no operation matched.
const noOperation = "none"

// newRequestsMetric registers relais_mock_requests_total in reg, or reuses
// the one another mock registered there.
func newRequestsMetric(reg *prometheus.Registry) *prometheus.CounterVec {
	cv := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "relais_mock_requests_total",
		Help: "Requests served by a mock platform, by operation and outcome.",
	}, []string{"platform", "operation", "outcome"})
	if err := reg.Register(cv); err != nil {
		if are, ok := errors.AsType[prometheus.AlreadyRegisteredError](err); ok {
			if existing, ok := are.ExistingCollector.(*prometheus.CounterVec); ok {
				return existing
			}
		}
		panic("platform: registering relais_mock_requests_total: " + err.Error())
	}
	return cv
}

func (s *Server) observe(operation, outcome string) {
	if s.metric != nil {
		s.metric.WithLabelValues(s.cfg.Name, operation, outcome).Inc()
	}
}
