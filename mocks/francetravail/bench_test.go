package francetravail_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/relais-dev/relais/mocks/francetravail"
	"github.com/relais-dev/relais/mocks/platform"
)

// BenchmarkSearchByNIR measures one search through the whole runtime
// (routing, authentication, validation, the handler and the self-check).
func BenchmarkSearchByNIR(b *testing.B) {
	mock := francetravail.New(francetravail.Options{RateLimit: platform.RateLimit{Limit: -1}})
	form := "grant_type=client_credentials&client_id=PAR_relais_sandbox&client_secret=relais-sandbox-secret&scope=application_PAR_relais_sandbox+api_rechercher-usagerv2"
	req := httptest.NewRequest(http.MethodPost, "/connexion/oauth2/access_token?realm=%2Fpartenaire", strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	mock.ServeHTTP(rec, req)
	tok := rec.Body.String()
	tok = tok[strings.Index(tok, `"access_token":"`)+16:]
	tok = tok[:strings.IndexByte(tok, '"')]

	const body = `{"dateNaissance":"1990-01-06","nir":"290013155501226"}`
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/rechercher-usager/v2/usagers/par-datenaissance-et-nir", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		mock.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}
