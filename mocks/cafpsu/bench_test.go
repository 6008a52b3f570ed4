package cafpsu_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/relais-dev/relais/mocks/cafpsu"
)

// BenchmarkDeclare measures one 12-month declaration through the whole
// runtime (authentication, validation, the business rules, a new version
// and the self-check of the receipt).
func BenchmarkDeclare(b *testing.B) {
	mock := cafpsu.New(cafpsu.Options{})
	req := httptest.NewRequest(http.MethodPost, "/oauth/token", strings.NewReader("grant_type=client_credentials&client_id=relais-sandbox&client_secret=relais-sandbox-secret"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	mock.ServeHTTP(rec, req)
	tok := rec.Body.String()
	tok = tok[strings.Index(tok, `"access_token":"`)+16:]
	tok = tok[:strings.IndexByte(tok, '"')]
	decl := body(2025, "reel", sandboxEst, 12, nil)
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/v1/structures/99000001/declarations", strings.NewReader(decl))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		mock.ServeHTTP(rec, req)
		if rec.Code != http.StatusCreated {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}
