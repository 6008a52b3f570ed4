package platform

import (
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"
)

// faultSet is a validated Faults ready for the hot path.
type faultSet struct {
	src  Faults
	byOp []*rule // by operation index: the first rule that applies, or nil
}

// rule is a validated Rule with its drift compiled and its latency
// distribution's parameters computed.
type rule struct {
	Rule
	drift []drift
	// fixedError: Status or Statuses with ErrorRate 0 answer every request.
	fixedError bool
	// mu and sigma of the lognormal latency (of the natural logarithm of
	// the delay in nanoseconds).
	mu, sigma float64
}

// z99 is the 99th percentile of the standard normal distribution.
const z99 = 2.326347874040841

// compileFaults turns a validated Faults into a faultSet for ops.
func compileFaults(f Faults, ops []*operation) *faultSet {
	f = cloneFaults(f)
	fs := &faultSet{src: f, byOp: make([]*rule, len(ops))}
	for i := range f.Rules {
		r := &rule{Rule: f.Rules[i]}
		for _, d := range r.Rule.Drift {
			cd, _ := compileDrift(d, "") // validated before
			r.drift = append(r.drift, cd)
		}
		r.fixedError = r.ErrorRate == 0 && (r.Status != 0 || len(r.Statuses) > 0)
		if l := r.Latency; l != nil && l.dist() == DistLognormal {
			r.mu = math.Log(float64(l.Median))
			r.sigma = (math.Log(float64(l.P99)) - r.mu) / z99
		}
		for _, op := range ops {
			if fs.byOp[op.index] == nil && (len(r.Operations) == 0 || slices.Contains(r.Operations, op.id)) {
				fs.byOp[op.index] = r
			}
		}
	}
	return fs
}

// cloneFaults deep-copies f so callers cannot change a stored
// configuration; Rules is never nil (it encodes as []).
func cloneFaults(f Faults) Faults {
	out := Faults{Rules: make([]Rule, len(f.Rules))}
	for i, r := range f.Rules {
		r.Operations = slices.Clone(r.Operations)
		r.Statuses = slices.Clone(r.Statuses)
		r.Drift = slices.Clone(r.Drift)
		if r.Latency != nil {
			l := *r.Latency
			r.Latency = &l
		}
		if r.Outage != nil {
			w := *r.Outage
			r.Outage = &w
		}
		out.Rules[i] = r
	}
	return out
}

// dice is the seeded random source of the faults, safe for concurrent use.
type dice struct {
	mu   sync.Mutex
	seed int64
	rng  *rand.Rand
}

func newDice(seed int64) *dice {
	d := &dice{seed: seed}
	d.reset()
	return d
}

func (d *dice) reset() {
	d.mu.Lock()
	d.rng = rand.New(rand.NewPCG(uint64(d.seed), 0x72656c616973)) //nolint:gosec // a repeatable fault source, not a secret
	d.mu.Unlock()
}

// roll reports true with probability p.
func (d *dice) roll(p float64) bool {
	switch {
	case p <= 0:
		return false
	case p >= 1:
		return true
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.rng.Float64() < p
}

// intN returns a number in [0, n).
func (d *dice) intN(n int) int {
	if n <= 1 {
		return 0
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.rng.IntN(n)
}

// latency draws a delay from r's distribution.
func (d *dice) latency(r *rule) time.Duration {
	l := r.Latency
	switch l.dist() {
	case DistUniform:
		span := int64(l.Max - l.Min)
		if span <= 0 {
			return time.Duration(l.Min)
		}
		d.mu.Lock()
		v := d.rng.Int64N(span + 1)
		d.mu.Unlock()
		return time.Duration(int64(l.Min) + v)
	case DistLognormal:
		d.mu.Lock()
		z := d.rng.NormFloat64()
		d.mu.Unlock()
		ns := math.Exp(r.mu + r.sigma*z)
		if ns >= math.MaxInt64 {
			return time.Duration(math.MaxInt64)
		}
		return time.Duration(ns)
	default:
		return time.Duration(l.Median)
	}
}

// errorStatus draws the status of an injected error: every request for a
// fixed status, ErrorRate of them otherwise.
func (d *dice) injectedStatus(r *rule) (int, bool) {
	if !r.fixedError && !d.roll(r.ErrorRate) {
		return 0, false
	}
	switch {
	case len(r.Statuses) > 0:
		return r.Statuses[d.intN(len(r.Statuses))], true
	case r.Status != 0:
		return r.Status, true
	default:
		return http.StatusServiceUnavailable, true
	}
}

// inOutage reports whether now is within r's outage window.
func (r *rule) inOutage(now time.Time) bool {
	w := r.Outage
	if w == nil {
		return false
	}
	return (w.Start.IsZero() || !now.Before(w.Start)) && (w.End.IsZero() || now.Before(w.End))
}

// outageRetryAfter is the Retry-After of an outage answer at now.
func (r *rule) outageRetryAfter(now time.Time) string {
	if r.RetryAfter != "" || r.Outage.End.IsZero() {
		return r.RetryAfter
	}
	return retrySeconds(r.Outage.End.Sub(now))
}

// retrySeconds writes d as delay-seconds, rounded up, at least 1.
func retrySeconds(d time.Duration) string {
	s := int64(math.Ceil(d.Seconds()))
	return strconv.FormatInt(max(s, 1), 10)
}
