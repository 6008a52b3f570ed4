package platform_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/relais-dev/relais/mocks/platform"
)

// BenchmarkValidatedRequest measures one plain request through the runtime:
// routing, rate limit, request validation, the handler, the self-check of
// its answer and the write, in memory.
func BenchmarkValidatedRequest(b *testing.B) {
	l := &letters{byID: map[string]letter{}}
	srv := platform.New(platform.Config{
		Name: "bench", Contract: testContract, Operations: l.handlers(), Errors: writeProblem,
		RateLimit: platform.RateLimit{Limit: 1 << 30},
	})
	b.Run("GET query", func(b *testing.B) {
		req := httptest.NewRequest(http.MethodGet, "http://mock"+peoplePath, nil)
		b.ReportAllocs()
		for b.Loop() {
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
		}
	})
	b.Run("POST JSON", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			req := httptest.NewRequest(http.MethodPost, "http://mock/base/letters", strings.NewReader(letterBody))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer good")
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			if rec.Code != http.StatusCreated {
				b.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
		}
	})
	if v := srv.Stats().ResponseViolations; v != 0 {
		b.Fatalf("ResponseViolations = %d", v)
	}
}

// BenchmarkDrift measures a drift fault on a typical answer.
func BenchmarkDrift(b *testing.B) {
	body := []byte(`{"data":{"items":[{"age":34,"nom":"Dupont","prenom":"Jeanne"},{"age":7,"nom":"Dupont","prenom":"Luc"}],"total":2}}`)
	d := platform.Drift{Kind: "retype", Path: "/data/items/*/age", To: "string"}
	b.ReportAllocs()
	for b.Loop() {
		if _, changed, err := platform.ApplyDrift(body, d); err != nil || !changed {
			b.Fatal(changed, err)
		}
	}
}

// BenchmarkNew measures building a mock of a contract already loaded once
// in the process (the contract cache): what every test and every `relais
// mocks` platform pays after the first.
func BenchmarkNew(b *testing.B) {
	l := &letters{byID: map[string]letter{}}
	ops := l.handlers()
	b.ReportAllocs()
	for b.Loop() {
		platform.New(platform.Config{Name: "bench", Contract: testContract, Operations: ops, Errors: writeProblem})
	}
}
