package apiparticulier

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/relais-dev/relais/connectors"
)

// FuzzClassify reads any error answer: never a panic, the code only from
// the platform's error format, a class that agrees with the outcome.
func FuzzClassify(f *testing.F) {
	f.Add(404, []byte(`{"errors":[{"code":"23003","title":"Dossier allocataire absent CNAF","detail":"…","source":null,"meta":{"provider":"CNAF"}}]}`))
	f.Add(429, []byte(`{"errors":[{"code":"00429","title":"Trop de requêtes","detail":"…","source":null,"meta":{}}]}`))
	f.Add(502, []byte(`<html>Bad Gateway</html>`))
	f.Add(504, []byte(`{"errors":[]}`))
	f.Add(401, []byte(`{"errors":[{"code":7}]}`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		if status < 100 || status > 999 {
			return
		}
		resp := &http.Response{StatusCode: status, Header: http.Header{"Retry-After": {"1"}}, Body: io.NopCloser(bytes.NewReader(body))}
		e := classify(resp, "pulling", time.Unix(0, 0))
		if e.Code != "" && !plausibleCode(e.Code) {
			t.Fatalf("code %q kept", e.Code)
		}
		if e.Outcome != "" && e.Class != classOfOutcome(e.Outcome) {
			t.Fatalf("outcome %s with class %s", e.Outcome, e.Class)
		}
		if e.Outcome == "" && e.Class != connectors.ClassifyStatus(status) {
			t.Fatalf("no outcome, class %s, want the status's %s", e.Class, connectors.ClassifyStatus(status))
		}
	})
}

// FuzzFreshness reads any cache headers: a fetch time never after now nor
// before the cache's lifetime.
func FuzzFreshness(f *testing.F) {
	f.Add("true", "9001")
	f.Add("false", "")
	f.Add("true", "")
	f.Add("TRUE", "-5")
	f.Add("1", "1e308")
	f.Add("true", "NaN")
	f.Fuzz(func(t *testing.T, cached, expires string) {
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		c := &Client{cfg: Config{CacheTTL: DefaultCacheTTL}, now: func() time.Time { return now }}
		h := http.Header{"X-Response-Cached": {cached}, "X-Cache-Expires-In": {expires}}
		_, at := c.freshness(h)
		if at.After(now) || at.Before(now.Add(-DefaultCacheTTL)) {
			t.Fatalf("fetched at %s for %q %q", at, cached, expires)
		}
	})
}

// FuzzNormalizeName normalises any name the platform returns: idempotent,
// upper case, no hyphen or apostrophe, no double space.
func FuzzNormalizeName(f *testing.F) {
	for _, s := range []string{"N'Guessan-Lefèvre", "JEAN  PHILIPPE", "Élodie’s", "\u0301", "ǅ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := normalizeName(s)
		if normalizeName(n) != n {
			t.Fatalf("normalizeName(%q) = %q is not stable", s, n)
		}
		if strings.ContainsAny(n, "-'’") || strings.Contains(n, "  ") || strings.TrimSpace(n) != n {
			t.Fatalf("normalizeName(%q) = %q", s, n)
		}
	})
}
