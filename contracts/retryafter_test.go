package contracts

import (
	"net/http"
	"strconv"
	"testing"
	"time"
)

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		header http.Header
		want   time.Duration
	}{
		{"delay seconds", http.Header{"Retry-After": {"3"}}, 3 * time.Second},
		{"HTTP date", http.Header{"Retry-After": {now.Add(5 * time.Second).Format(http.TimeFormat)}}, 5 * time.Second},
		{"reset in seconds", http.Header{"Ratelimit-Reset": {"2"}}, 2 * time.Second},
		{"reset as a Unix time", http.Header{"Ratelimit-Reset": {strconv.FormatInt(now.Add(4*time.Second).Unix(), 10)}}, 4 * time.Second},
		{"reset as a past Unix time", http.Header{"Ratelimit-Reset": {strconv.FormatInt(now.Add(-time.Minute).Unix(), 10)}}, 0},
		{"nothing", http.Header{}, defaultRetryWait},
	} {
		got, ok := retryAfter(tc.header, now)
		if !ok || got != tc.want {
			t.Errorf("%s: retryAfter = %v, %v; want %v, true", tc.name, got, ok, tc.want)
		}
	}
}
