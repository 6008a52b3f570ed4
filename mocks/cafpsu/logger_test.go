package cafpsu_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/relais-dev/relais/contracts/connectortest"
	"github.com/relais-dev/relais/mocks/cafpsu"
)

func TestLoggerIsWarnedOfAnswersThatBreakTheContract(t *testing.T) {
	t.Parallel()
	var logs connectortest.LogBuffer
	structures := cafpsu.SandboxStructures()
	structures[0].History[0].Kind = "annuel" // not a kind of the contract
	mock := cafpsu.New(cafpsu.Options{
		Structures: structures,
		Now:        func() time.Time { return paris("2025-09-15 10:00:00") },
		Logger:     slog.New(slog.NewTextHandler(&logs, nil)),
	})
	ts := httptest.NewServer(mock)
	t.Cleanup(ts.Close)
	f := &fixture{t: t, mock: mock, ts: ts}
	f.token = f.tokenOf(cafpsu.DefaultClientID, cafpsu.DefaultClientSecret)
	a := f.get("/v1/structures/" + structures[0].PartnerNumber + "/declarations")
	if a.status != http.StatusOK {
		t.Fatalf("declarations: %d %s", a.status, a.body)
	}
	if n := mock.Stats().ResponseViolations; n == 0 {
		t.Error("no response violation counted")
	}
	out := logs.String()
	for _, want := range []string{"level=WARN", "mock answer breaks the contract", "operation=declarations.list"} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %q:\n%s", want, out)
		}
	}
}
