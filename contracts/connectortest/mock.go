package connectortest

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/relais-dev/relais/contracts"
)

// The helpers below run a platform's contract checks against its mock, the
// shape every contract's test shares: serve the mock, Verify, require a
// clean report.

// MockTarget serves mock under httptest until t ends and returns it as the
// target of the contract checks named name (Target.Mock set).
func MockTarget(t testing.TB, name string, mock http.Handler) contracts.Target {
	t.Helper()
	ts := httptest.NewServer(mock)
	t.Cleanup(ts.Close)
	base, err := url.Parse(ts.URL)
	if err != nil {
		t.Fatalf("parsing the mock's URL: %v", err)
	}
	return contracts.Target{Name: name, BaseURL: base, Client: ts.Client(), Mock: true}
}

// VerifyMock runs p's checks against mock, served by MockTarget, with the
// mock's default credentials (the environment is not read).
func VerifyMock(t testing.TB, p contracts.Platform, mock http.Handler) contracts.Report {
	t.Helper()
	return contracts.Verify(t.Context(), p, MockTarget(t, p.Name, mock), nil)
}

// RequirePass fails t, with the report as text, unless rep shows no
// violation and every case of p ran (none skipped, as none should be
// against the mock).
func RequirePass(t testing.TB, p contracts.Platform, rep contracts.Report) {
	t.Helper()
	var text strings.Builder
	if err := contracts.WriteText(&text, []contracts.Report{rep}); err != nil {
		t.Fatalf("writing the report: %v", err)
	}
	if testing.Verbose() {
		t.Log(text.String())
	}
	ran, skipped := 0, 0
	for _, r := range rep.Results {
		switch {
		case r.Skipped != "":
			skipped++
		case !r.Auto:
			ran++
		}
	}
	if rep.Failed() || skipped > 0 || ran != len(p.Cases) {
		t.Fatalf("%s: %d of %d cases ran, %d checks skipped, failed: %t:\n%s", p.Name, ran, len(p.Cases), skipped, rep.Failed(), text.String())
	}
}
