package platform

import (
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// limiter is a fixed-window rate limit per key: a window opens with the
// first request of a key and lasts Window.
type limiter struct {
	limit  int
	window time.Duration
	unix   bool // RateLimit-Reset as a Unix time

	mu      sync.Mutex
	windows map[string]*rateWindow
	sweepAt int // sweep expired windows when the map reaches this size
}

type rateWindow struct {
	start time.Time
	count int
}

const minSweep = 1024

func newLimiter(rl RateLimit) *limiter {
	return &limiter{limit: rl.Limit, window: rl.Window, unix: rl.ResetFormat == ResetUnix, windows: map[string]*rateWindow{}, sweepAt: minSweep}
}

// take counts a request of key at now. It returns the requests left in the
// window, the time until it resets, and whether the request is allowed.
func (l *limiter) take(key string, now time.Time) (remaining int, reset time.Duration, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.windows[key]
	if w == nil || !now.Before(w.start.Add(l.window)) {
		if w == nil {
			if len(l.windows) >= l.sweepAt {
				l.sweep(now)
			}
			w = &rateWindow{}
			l.windows[key] = w
		}
		w.start, w.count = now, 0
	}
	reset = w.start.Add(l.window).Sub(now)
	if w.count >= l.limit {
		return 0, reset, false
	}
	w.count++
	return l.limit - w.count, reset, true
}

// sweep forgets the windows that ended; l.mu is held.
func (l *limiter) sweep(now time.Time) {
	for k, w := range l.windows {
		if !now.Before(w.start.Add(l.window)) {
			delete(l.windows, k)
		}
	}
	l.sweepAt = max(minSweep, 2*len(l.windows))
}

func (l *limiter) reset() {
	l.mu.Lock()
	l.windows = map[string]*rateWindow{}
	l.sweepAt = minSweep
	l.mu.Unlock()
}

// setHeaders writes the RateLimit-* headers (draft-ietf-httpapi-ratelimit-headers)
// of a window that resets in reset from now.
func (l *limiter) setHeaders(h http.Header, remaining int, reset time.Duration, now time.Time) {
	h["Ratelimit-Limit"] = []string{strconv.Itoa(l.limit)}
	h["Ratelimit-Remaining"] = []string{strconv.Itoa(remaining)}
	if l.unix {
		end := now.Add(reset)
		sec := end.Unix()
		if end.Nanosecond() > 0 {
			sec++
		}
		h["Ratelimit-Reset"] = []string{strconv.FormatInt(sec, 10)}
		return
	}
	h["Ratelimit-Reset"] = []string{strconv.FormatInt(int64(math.Ceil(reset.Seconds())), 10)}
}

// clientIP is the rate-limit key of an unauthenticated request.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
