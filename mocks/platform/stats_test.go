package platform_test

import (
	"net/http"
	"testing"
	"time"
)

// TestPeakPerSecond: the stats give the most requests one caller made in
// any sliding second, 429s included, callers apart, and forget it on
// reset.
func TestPeakPerSecond(t *testing.T) {
	t.Parallel()
	f := setup(t)
	get := func(token string) {
		f.do(t, call{method: http.MethodGet, path: "/base/letters/L-000001", token: token})
	}
	for _, step := range []struct {
		advance time.Duration
		token   string
		n       int
		peak    int64
	}{
		{0, "good", 3, 3},
		{400 * time.Millisecond, "good", 2, 5},
		{0, "other", 4, 5}, // another caller
		// 1.0 s after the first three: they are out of the window, the
		// two at 0.4 s are in.
		{600 * time.Millisecond, "good", 3, 5},
		{300 * time.Millisecond, "good", 1, 6}, // 0.4 s .. 1.3 s
		{2 * time.Second, "good", 1, 6},
	} {
		f.clock.Advance(step.advance)
		for range step.n {
			get(step.token)
		}
		if got := f.srv.Stats().PeakPerSecond; got != step.peak {
			t.Fatalf("after %d requests of %s: peak %d a second, want %d", step.n, step.token, got, step.peak)
		}
	}
	// Unauthenticated requests have no caller to count.
	get("forged")
	f.srv.Reset()
	if got := f.srv.Stats().PeakPerSecond; got != 0 {
		t.Fatalf("peak %d after a reset", got)
	}
	get("good")
	if got := f.srv.Stats().PeakPerSecond; got != 1 {
		t.Fatalf("peak %d after a reset and one request", got)
	}
}
