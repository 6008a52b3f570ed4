package platform_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/relais-dev/relais/mocks/platform"
)

func TestRateLimitResetAsUnixTime(t *testing.T) {
	t.Parallel()
	f := setup(t, func(c *platform.Config) {
		c.RateLimit = platform.RateLimit{Limit: 2, Window: 2 * time.Second, ResetFormat: platform.ResetUnix}
	})
	get := call{method: http.MethodGet, path: "/base/letters/L-000001", token: "good"}
	end := strconv.FormatInt(epoch.Add(2*time.Second).Unix(), 10)
	r := f.do(t, get)
	if got := r.header.Get("RateLimit-Reset"); got != end {
		t.Errorf("RateLimit-Reset %q, want the Unix time of the window's end %s", got, end)
	}
	// Within the window the end does not move; a fraction of a second
	// rounds up.
	f.clock.Advance(700 * time.Millisecond)
	r = f.do(t, get)
	if got := r.header.Get("RateLimit-Reset"); got != end || r.header.Get("RateLimit-Remaining") != "0" {
		t.Errorf("RateLimit-Reset %q Remaining %q, want %s 0", got, r.header.Get("RateLimit-Remaining"), end)
	}
	r = f.do(t, get)
	expect(t, r, http.StatusTooManyRequests)
	if r.header.Get("RateLimit-Reset") != end || r.header.Get("Retry-After") != "2" {
		t.Errorf("429: RateLimit-Reset %q Retry-After %q, want %s and 2 (1.3s rounded up)", r.header.Get("RateLimit-Reset"), r.header.Get("Retry-After"), end)
	}
	f.clock.Advance(1300*time.Millisecond + 250*time.Millisecond) // a new window at a fraction of a second
	r = f.do(t, get)
	want := strconv.FormatInt(epoch.Add(2*time.Second+2250*time.Millisecond).Unix()+1, 10)
	if got := r.header.Get("RateLimit-Reset"); got != want {
		t.Errorf("new window: RateLimit-Reset %q, want %s", got, want)
	}
}

func TestRateLimitPerAddressBeforeAuthentication(t *testing.T) {
	t.Parallel()
	f := setup(t, func(c *platform.Config) {
		c.IPRateLimit = platform.RateLimit{Limit: 3, Window: time.Minute}
		c.RateLimit = platform.RateLimit{Limit: 10, Window: time.Second}
	})
	get := func(token string) response {
		return f.do(t, call{method: http.MethodGet, path: "/base/letters/L-000001", token: token})
	}
	// A refused caller sees the limit per address.
	r := get("forged")
	expect(t, r, http.StatusUnauthorized)
	if r.header.Get("RateLimit-Limit") != "3" || r.header.Get("RateLimit-Remaining") != "2" || r.header.Get("RateLimit-Reset") != "60" {
		t.Errorf("401: RateLimit headers %v", r.header)
	}
	r = get("readonly")
	expect(t, r, http.StatusForbidden)
	if r.header.Get("RateLimit-Remaining") != "1" {
		t.Errorf("403: RateLimit-Remaining %q, want 1", r.header.Get("RateLimit-Remaining"))
	}
	// An authenticated caller sees its token's limit.
	r = get("good")
	expect(t, r, http.StatusNotFound)
	if r.header.Get("RateLimit-Limit") != "10" || r.header.Get("RateLimit-Remaining") != "9" || r.header.Get("RateLimit-Reset") != "1" {
		t.Errorf("authenticated: RateLimit headers %v", r.header)
	}
	// The address is spent: even a good token is refused, unauthenticated.
	r = get("good")
	expect(t, r, http.StatusTooManyRequests)
	if r.header.Get("RateLimit-Limit") != "3" || r.header.Get("Retry-After") != "60" {
		t.Errorf("429 per address: headers %v", r.header)
	}
	if p := r.problem(t); p.Code != string(platform.KindRateLimited) {
		t.Errorf("429 code %q", p.Code)
	}
	// Exempt operations are counted by neither limit.
	r = f.do(t, call{method: http.MethodGet, path: "/base/health"})
	expect(t, r, http.StatusOK)
	if r.header.Get("RateLimit-Limit") != "" {
		t.Errorf("exempt operation sent RateLimit headers")
	}
	st := f.srv.Stats()
	if st.RateLimited != 1 || st.ResponseViolations != 0 {
		t.Errorf("stats %+v", st)
	}
	f.clock.Advance(time.Minute)
	expect(t, get("good"), http.StatusNotFound)
	f.srv.Reset()
	for range 3 {
		expect(t, get("forged"), http.StatusUnauthorized)
	}
}

func TestRateLimitConfigIsValidated(t *testing.T) {
	t.Parallel()
	l := &letters{byID: map[string]letter{}}
	for name, tc := range map[string]struct {
		edit func(*platform.Config)
		want string
	}{
		"reset format":    {func(c *platform.Config) { c.RateLimit = platform.RateLimit{Limit: 1, ResetFormat: "epoch"} }, `Config.RateLimit.ResetFormat is "epoch"`},
		"ip limit":        {func(c *platform.Config) { c.IPRateLimit = platform.RateLimit{Limit: -1} }, "Config.IPRateLimit.Limit is negative"},
		"ip limit window": {func(c *platform.Config) { c.IPRateLimit = platform.RateLimit{Limit: 1, Window: -time.Second} }, "Config.IPRateLimit.Window is negative"},
		"both authenticators": {func(c *platform.Config) {
			c.Authenticate = authenticate
			c.AuthenticateFunc = func(*http.Request, string) (string, any, *platform.Problem) { return "", nil, nil }
		}, "Config.Authenticate and Config.AuthenticateFunc are both set"},
	} {
		cfg := platform.Config{Name: "p", Contract: testContract, Operations: l.handlers(), Errors: writeProblem}
		tc.edit(&cfg)
		if err := cfg.WithDefaults().Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Validate() = %v, want %q", name, err, tc.want)
		}
	}
	cfg := platform.Config{RateLimit: platform.RateLimit{Limit: 1}, IPRateLimit: platform.RateLimit{Limit: 5}}.WithDefaults()
	if cfg.RateLimit.ResetFormat != platform.ResetSeconds || cfg.IPRateLimit.Window != platform.DefaultRateWindow {
		t.Errorf("defaults: %+v %+v", cfg.RateLimit, cfg.IPRateLimit)
	}
}
