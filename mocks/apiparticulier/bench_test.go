package apiparticulier_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/relais-dev/relais/mocks/apiparticulier"
)

// benchmarkQuotientFamilial serves the quotient familial by civil status
// through the whole pipeline (routing, authentication, validation against
// the contract, handler, self-check of the answer), from the cache or not.
func benchmarkQuotientFamilial(b *testing.B, header http.Header) {
	srv := apiparticulier.New(apiparticulier.Options{RateLimit: -1, IPRateLimit: -1})
	target := "/v3/dss/quotient_familial/identite?" + dupontSophie().Encode()
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodGet, target, nil)
		req.Header.Set("Authorization", "Bearer "+apiparticulier.DefaultToken)
		for k, v := range header {
			req.Header[k] = v
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}

func BenchmarkQuotientFamilialCached(b *testing.B) { benchmarkQuotientFamilial(b, nil) }

func BenchmarkQuotientFamilialNoCache(b *testing.B) {
	benchmarkQuotientFamilial(b, http.Header{"Cache-Control": {"no-cache"}})
}
