package platform_test

import (
	"testing"
	"time"

	"github.com/relais-dev/relais/mocks/platform"
)

func TestTokens(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	var tokens platform.Tokens[string]
	a := tokens.Issue("client-a", now, now.Add(time.Minute))
	b := tokens.Issue("client-b", now, now.Add(time.Hour))
	if a == "" || a == b {
		t.Fatalf("tokens %q and %q", a, b)
	}
	check := func(tok string, at time.Time, wantGrant string, wantKnown, wantLive bool) {
		t.Helper()
		g, known, live := tokens.Lookup(tok, at)
		if g != wantGrant || known != wantKnown || live != wantLive {
			t.Errorf("Lookup(%q, %s) = %q, %t, %t; want %q, %t, %t", tok, at.Format(time.TimeOnly), g, known, live, wantGrant, wantKnown, wantLive)
		}
	}
	check(a, now, "client-a", true, true)
	check(b, now, "client-b", true, true)
	check(a, now.Add(time.Minute), "client-a", true, false) // expired at its expiry
	check("unknown", now, "", false, false)

	// Expired tokens are swept out as tokens are issued; live ones stay.
	later := now.Add(2 * time.Minute)
	for range 1024 {
		tokens.Issue("client-c", later, later.Add(time.Hour))
	}
	check(a, later, "", false, false)
	check(b, later, "client-b", true, true)

	tokens.Reset()
	check(b, now, "", false, false)
}
