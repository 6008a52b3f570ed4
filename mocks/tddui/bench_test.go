package tddui_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/relais-dev/relais/mocks/tddui"
)

// BenchmarkTransaction measures one Bundle of 40 presences through the whole
// runtime (routing, validation of the Bundle, analysis, storage and the
// self-check of the answer).
func BenchmarkTransaction(b *testing.B) {
	mock := tddui.New(tddui.Options{})
	entries := []string{org, patient, sejour, event}
	for i := range 40 {
		entries = append(entries, strings.Replace(absence, "DUI500-PA-1", fmt.Sprintf("DUI500-PA-%d", i), 1))
	}
	body := bundleOf(entries...)
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/fhir", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/fhir+json")
		req.Header.Set("Authorization", "Bearer "+tddui.DefaultToken)
		rec := httptest.NewRecorder()
		mock.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}
