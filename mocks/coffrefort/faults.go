package coffrefort

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Faults are the misbehaviours the mock injects into /api requests, before
// any processing: an injected error never creates anything. The zero value
// injects nothing.
//
// In JSON, durations are Go duration strings ("150ms") or numbers of
// milliseconds, times are RFC 3339, and unknown fields are errors.
type Faults struct {
	// Latency is added to every request; the wait ends early if the client
	// gives up (its request context is done).
	Latency time.Duration `json:"latency"`
	// LatencyJitter adds a uniform random 0..LatencyJitter on top.
	LatencyJitter time.Duration `json:"latency_jitter"`
	// ErrorRate is the fraction (0..1) of requests answered with an injected
	// error instead of being processed.
	ErrorRate float64 `json:"error_rate"`
	// Status is the status of injected errors; default 503.
	Status int `json:"status"`
	// Statuses, when set, replaces Status: each injected error picks one at
	// random (e.g. 503 and 429 mixed).
	Statuses []int `json:"statuses"`
	// RetryAfter is the Retry-After header of injected errors and outages,
	// delay-seconds ("2") or an HTTP date; empty sends none.
	RetryAfter string `json:"retry_after"`
	// OutageStart and OutageEnd bound an outage, by Options.Now: every
	// request in [OutageStart, OutageEnd) gets 503 (with RetryAfter). A zero
	// OutageStart means "since ever", a zero OutageEnd "until further
	// notice"; both zero means no outage.
	OutageStart time.Time `json:"outage_start"`
	OutageEnd   time.Time `json:"outage_end"`
	// Routes restricts every fault (latency, errors, outage) to these route
	// names (see LogEntry.Route); empty means all routes.
	Routes []string `json:"routes"`
}

// Validate names the first invalid field of f.
func (f Faults) Validate() error {
	switch {
	case f.Latency < 0:
		return fmt.Errorf("faults: latency is negative (%s)", f.Latency)
	case f.LatencyJitter < 0:
		return fmt.Errorf("faults: latency_jitter is negative (%s)", f.LatencyJitter)
	case f.ErrorRate < 0 || f.ErrorRate > 1 || f.ErrorRate != f.ErrorRate:
		return fmt.Errorf("faults: error_rate %v is not within [0, 1]", f.ErrorRate)
	case f.Status != 0 && !errorStatus(f.Status):
		return fmt.Errorf("faults: status %d is not a 4xx or 5xx status", f.Status)
	case !f.OutageStart.IsZero() && !f.OutageEnd.IsZero() && !f.OutageEnd.After(f.OutageStart):
		return fmt.Errorf("faults: outage_end %s is not after outage_start %s", f.OutageEnd.Format(time.RFC3339), f.OutageStart.Format(time.RFC3339))
	}
	for _, st := range f.Statuses {
		if !errorStatus(st) {
			return fmt.Errorf("faults: statuses: %d is not a 4xx or 5xx status", st)
		}
	}
	if f.RetryAfter != "" {
		if _, err := strconv.ParseUint(f.RetryAfter, 10, 32); err != nil {
			if _, err := http.ParseTime(f.RetryAfter); err != nil {
				return fmt.Errorf("faults: retry_after %q is neither delay-seconds nor an HTTP date", f.RetryAfter)
			}
		}
	}
	for _, name := range f.Routes {
		if _, ok := routeByName(name); !ok {
			return fmt.Errorf("faults: routes: unknown route %q (known: %s)", name, strings.Join(RouteNames(), ", "))
		}
	}
	return nil
}

func errorStatus(s int) bool { return s >= 400 && s <= 599 }

// faultsJSON is the wire form of Faults.
type faultsJSON struct {
	Latency       jsonDuration `json:"latency"`
	LatencyJitter jsonDuration `json:"latency_jitter"`
	ErrorRate     float64      `json:"error_rate"`
	Status        int          `json:"status"`
	Statuses      []int        `json:"statuses,omitempty"`
	RetryAfter    string       `json:"retry_after,omitempty"`
	OutageStart   time.Time    `json:"outage_start,omitzero"`
	OutageEnd     time.Time    `json:"outage_end,omitzero"`
	Routes        []string     `json:"routes,omitempty"`
}

// MarshalJSON writes durations as Go duration strings.
func (f Faults) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(faultsJSON{
		Latency:       jsonDuration(f.Latency),
		LatencyJitter: jsonDuration(f.LatencyJitter),
		ErrorRate:     f.ErrorRate,
		Status:        f.Status,
		Statuses:      f.Statuses,
		RetryAfter:    f.RetryAfter,
		OutageStart:   f.OutageStart,
		OutageEnd:     f.OutageEnd,
		Routes:        f.Routes,
	})
	if err != nil {
		return nil, fmt.Errorf("encoding faults: %w", err)
	}
	return b, nil
}

// UnmarshalJSON reads f strictly: unknown fields and trailing data are
// errors. It does not Validate.
func (f *Faults) UnmarshalJSON(b []byte) error {
	var w faultsJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return fmt.Errorf("decoding faults: %w", err)
	}
	*f = Faults{
		Latency:       time.Duration(w.Latency),
		LatencyJitter: time.Duration(w.LatencyJitter),
		ErrorRate:     w.ErrorRate,
		Status:        w.Status,
		Statuses:      w.Statuses,
		RetryAfter:    w.RetryAfter,
		OutageStart:   w.OutageStart,
		OutageEnd:     w.OutageEnd,
		Routes:        w.Routes,
	}
	return nil
}

// jsonDuration is a duration written as "150ms" and read from either a
// duration string or a number of milliseconds.
type jsonDuration time.Duration

func (d jsonDuration) MarshalJSON() ([]byte, error) {
	return strconv.AppendQuote(nil, time.Duration(d).String()), nil
}

func (d *jsonDuration) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		*d = 0
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("decoding duration: %w", err)
		}
		v, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("decoding duration: %w", err)
		}
		*d = jsonDuration(v)
		return nil
	}
	var ms float64
	if err := json.Unmarshal(b, &ms); err != nil {
		return fmt.Errorf("decoding duration: want a duration string or milliseconds: %w", err)
	}
	if ms > float64(1<<63-1)/float64(time.Millisecond) || ms < -float64(1<<63-1)/float64(time.Millisecond) {
		return errors.New("decoding duration: out of range")
	}
	*d = jsonDuration(ms * float64(time.Millisecond))
	return nil
}

// faultState is a Faults ready for the hot path.
type faultState struct {
	f Faults
	// routes is the set of routes faults apply to, one bit per routeID; all
	// bits when Faults.Routes is empty.
	routes uint32
}

func (fs *faultState) applies(id routeID) bool { return fs.routes&(1<<id) != 0 }

// inject decides whether an injected error answers this request.
func (s *Server) inject(fs *faultState, now time.Time) (status int, retryAfter string, ok bool) {
	f := &fs.f
	if (!f.OutageStart.IsZero() || !f.OutageEnd.IsZero()) &&
		(f.OutageStart.IsZero() || !now.Before(f.OutageStart)) &&
		(f.OutageEnd.IsZero() || now.Before(f.OutageEnd)) {
		return http.StatusServiceUnavailable, f.RetryAfter, true
	}
	if f.ErrorRate <= 0 {
		return 0, "", false
	}
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	if f.ErrorRate < 1 && s.rng.Float64() >= f.ErrorRate {
		return 0, "", false
	}
	switch {
	case len(f.Statuses) > 0:
		status = f.Statuses[s.rng.IntN(len(f.Statuses))]
	case f.Status != 0:
		status = f.Status
	default:
		status = http.StatusServiceUnavailable
	}
	return status, f.RetryAfter, true
}

// SetFaults replaces the active faults. Values out of range are clamped
// (rates to [0, 1], negative durations to 0; an invalid status becomes 503);
// use Faults.Validate to reject them instead. Unknown route names match
// nothing.
func (s *Server) SetFaults(f Faults) {
	f.Statuses = slices.Clone(f.Statuses)
	f.Routes = slices.Clone(f.Routes)
	f.Latency = max(f.Latency, 0)
	f.LatencyJitter = max(f.LatencyJitter, 0)
	if f.ErrorRate != f.ErrorRate || f.ErrorRate < 0 {
		f.ErrorRate = 0
	}
	f.ErrorRate = min(f.ErrorRate, 1)
	if f.Status != 0 && !errorStatus(f.Status) {
		f.Status = http.StatusServiceUnavailable
	}
	f.Statuses = slices.DeleteFunc(f.Statuses, func(st int) bool { return !errorStatus(st) })

	if f.Latency == 0 && f.LatencyJitter == 0 && f.ErrorRate == 0 && f.OutageStart.IsZero() && f.OutageEnd.IsZero() {
		// Keep the other knobs for Faults(), skip the hot path.
		s.faults.Store(&faultState{f: f})
		return
	}
	fs := &faultState{f: f}
	if len(f.Routes) == 0 {
		fs.routes = 1<<numRoutes - 1
	}
	for _, name := range f.Routes {
		if id, ok := routeByName(name); ok {
			fs.routes |= 1 << id
		}
	}
	s.faults.Store(fs)
}

// Faults returns the active faults, as clamped by SetFaults.
func (s *Server) Faults() Faults {
	fs := s.faults.Load()
	if fs == nil {
		return Faults{}
	}
	f := fs.f
	f.Statuses = slices.Clone(f.Statuses)
	f.Routes = slices.Clone(f.Routes)
	return f
}
