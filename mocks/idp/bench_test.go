package idp

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkDiscovery is one metadata request through the whole mock:
// routing, the handler and the self-check against the contract.
func BenchmarkDiscovery(b *testing.B) {
	p := FranceConnectPlus()
	s := New(p, Options{Keys: keysFor(b, p)})
	b.ReportAllocs()
	for range b.N {
		r := httptest.NewRequest(http.MethodGet, p.IssuerPath+p.DiscoveryPath, nil)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
	}
}

// BenchmarkJWKS is one key set request through the whole mock.
func BenchmarkJWKS(b *testing.B) {
	p := ProSanteConnect()
	s := New(p, Options{Keys: keysFor(b, p)})
	b.ReportAllocs()
	for range b.N {
		r := httptest.NewRequest(http.MethodGet, p.IssuerPath+p.JWKSPath, nil)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
	}
}
