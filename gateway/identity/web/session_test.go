package web_test

import (
	"errors"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relais-dev/relais/gateway/identity/web"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestMemorySessionsExpiryAndBound(t *testing.T) {
	t.Parallel()
	clk := &clock{t: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
	m := web.NewMemorySessions(2, clk.Now)
	ctx := t.Context()
	s := web.Session{ID: "a", Expires: clk.Now().Add(10 * time.Minute), AccessToken: "tok", AccessTokenExpiry: clk.Now().Add(time.Minute)}
	if err := m.Create(ctx, s); err != nil {
		t.Fatal(err)
	}
	if err := m.Create(ctx, web.Session{ID: "b", Expires: clk.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := m.Create(ctx, web.Session{ID: "c", Expires: clk.Now().Add(time.Hour)}); !errors.Is(err, web.ErrSessionsFull) {
		t.Fatalf("third session: %v, want ErrSessionsFull", err)
	}
	clk.Advance(2 * time.Minute)
	got, err := m.Get(ctx, "a")
	if err != nil || got.AccessToken != "" {
		t.Fatalf("after the token's expiry: %+v, %v; want the session without its token", got, err)
	}
	clk.Advance(10 * time.Minute)
	if _, err := m.Get(ctx, "a"); !errors.Is(err, web.ErrSessionNotFound) {
		t.Fatalf("expired session: %v, want ErrSessionNotFound", err)
	}
	if err := m.Create(ctx, web.Session{ID: "c", Expires: clk.Now().Add(time.Hour)}); err != nil {
		t.Fatalf("after a sweep: %v", err)
	}
	if err := m.Delete(ctx, "b"); err != nil || m.Len() != 1 {
		t.Fatalf("Delete: %v, Len %d", err, m.Len())
	}
}

func TestValidCSRF(t *testing.T) {
	t.Parallel()
	s := web.Session{CSRF: "token-of-the-session"}
	for got, want := range map[string]bool{"token-of-the-session": true, "": false, "token-of-the-sessioN": false, "token": false} {
		if web.ValidCSRF(s, got) != want {
			t.Errorf("ValidCSRF(%q) = %v, want %v", got, !want, want)
		}
	}
	if web.ValidCSRF(web.Session{}, "") {
		t.Error("an empty token matched a session without one")
	}
}

func TestLocalPath(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]string{
		"/compte": "/compte", "/compte?a=1": "/compte?a=1", "/a%20b": "/a%20b",
		"": "", "compte": "", "//evil.example": "", "/\\evil.example": "", "https://evil.example/": "",
		"/a\nb": "", "http:/x": "", "/\x7f": "",
	} {
		got, ok := web.LocalPath(raw)
		if got != want || ok != (want != "") {
			t.Errorf("LocalPath(%q) = %q, %v; want %q", raw, got, ok, want)
		}
	}
}

func FuzzLocalPath(f *testing.F) {
	for _, s := range []string{"/compte", "//x", "/\\x", "https://x/", "/a?b=c#d", "/%2F%2Fx", "/\t/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, ok := web.LocalPath(raw)
		if !ok {
			return
		}
		base, _ := url.Parse("https://relais.example/")
		ref, err := url.Parse(got)
		if err != nil {
			t.Fatalf("LocalPath(%q) = %q, which does not parse: %v", raw, got, err)
		}
		if u := base.ResolveReference(ref); u.Host != "relais.example" || !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") ||
			strings.ContainsAny(got, "\\\r\n\t") {
			t.Fatalf("LocalPath(%q) = %q leaves the host (%s)", raw, got, u)
		}
	})
}

func BenchmarkMemorySessionsGet(b *testing.B) {
	m := web.NewMemorySessions(0, nil)
	ctx := b.Context()
	if err := m.Create(ctx, web.Session{ID: "s", Expires: time.Now().Add(time.Hour)}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Get(ctx, "s"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLocalPath(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := web.LocalPath("/compte?onglet=consentements"); !ok {
			b.Fatal("refused")
		}
	}
}
