package connectors

import (
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// FuzzRateLimitHeaders reads any RateLimit-* and Retry-After headers, on
// any status: never a panic, never a pause longer than MaxPause nor one
// the headers did not ask for.
func FuzzRateLimitHeaders(f *testing.F) {
	f.Add(429, "1", "", "")
	f.Add(200, "", "0", "1700000030")
	f.Add(200, "", "0", "3")
	f.Add(429, "Tue, 03 Mar 2026 09:00:02 GMT", "0", "2")
	f.Add(401, "", "0", "99999999999999999999")
	f.Add(200, "", "-1", "+5")
	f.Add(503, "3600", "5", "1")
	f.Fuzz(func(t *testing.T, status int, retryAfter, remaining, reset string) {
		if status < 100 || status > 999 {
			t.Skip()
		}
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		cfg := RateLimitConfig{MaxPause: 5 * time.Second}.WithDefaults()
		deps := Deps{Now: func() time.Time { return now }, Metrics: NewMetrics(prometheus.NewRegistry())}.WithDefaults()
		lt := newRateLimitTransport(nil, cfg, "fuzz", AuthConfig{}, deps)
		h := http.Header{}
		for k, v := range map[string]string{"Retry-After": retryAfter, "RateLimit-Remaining": remaining, "RateLimit-Reset": reset} {
			if v != "" {
				h.Set(k, v)
			}
		}
		lt.observe(&http.Response{StatusCode: status, Header: h})
		left := lt.pauseLeft(time.Now())
		if left > cfg.MaxPause {
			t.Fatalf("paused %s, more than MaxPause", left)
		}
		spent, ok := parseCount(remaining)
		if left > 0 && status != http.StatusTooManyRequests && (!ok || spent != 0) {
			t.Fatalf("paused %s on a %d whose window is not spent (%q)", left, status, remaining)
		}
	})
}
