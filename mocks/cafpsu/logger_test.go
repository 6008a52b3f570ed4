package cafpsu_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relais-dev/relais/mocks/cafpsu"
)

// lockedBuffer is a log destination the server's goroutines and the test
// share.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestLoggerIsWarnedOfAnswersThatBreakTheContract(t *testing.T) {
	t.Parallel()
	var logs lockedBuffer
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
