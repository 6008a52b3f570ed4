package dmp

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

var fixedNow = time.Date(2025, 3, 12, 15, 10, 0, 0, time.UTC)

// BenchmarkProvide is one ITI-65 request through the whole mock: routing,
// validation against the contract, the business rules, storage and the
// self-check of the answer. Each iteration submits a new document.
func BenchmarkProvide(b *testing.B) {
	s := New(Options{Now: func() time.Time { return fixedNow }})
	bodies := make([][]byte, b.N)
	for i := range bodies {
		bodies[i] = mustJSON(bundleFor(b, patientNoDocs, fmt.Sprint(i), "Compte rendu de consultation"))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		r := httptest.NewRequest(http.MethodPost, "/fhir", bytes.NewReader(bodies[i]))
		r.Header.Set("Authorization", "Bearer "+DefaultToken)
		r.Header.Set("Content-Type", "application/fhir+json")
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}

// BenchmarkFind is one ITI-67 search of a record of 20 documents.
func BenchmarkFind(b *testing.B) {
	s := New(Options{Now: func() time.Time { return fixedNow }})
	sub, ferr := parseBundle(mustJSON(bundleFor(b, patientNoDocs, "find", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10",
		"11", "12", "13", "14", "15", "16", "17", "18", "19", "20")))
	if ferr != nil {
		b.Fatal(ferr)
	}
	if _, _, ferr := s.st.commit(sub, fixedNow); ferr != nil {
		b.Fatal(ferr)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		r := httptest.NewRequest(http.MethodGet, "/fhir/DocumentReference?patient.identifier=urn:oid:1.2.250.1.213.1.4.10%7C279036912304582&status=current", nil)
		r.Header.Set("Authorization", "Bearer "+DefaultToken)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}

// BenchmarkParseBundle is the business-rule check of a provide bundle
// alone, without the contract validation.
func BenchmarkParseBundle(b *testing.B) {
	body := mustJSON(exampleBundle(b))
	b.ReportAllocs()
	for range b.N {
		if _, ferr := parseBundle(body); ferr != nil {
			b.Fatal(ferr)
		}
	}
}
