package dmp

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

var fixedNow = time.Date(2025, 3, 12, 15, 10, 0, 0, time.UTC)

// stampBase is the arc of a benchmark body's masterIdentifier that
// stampedBody rewrites in place: ten digits without a leading zero, so that
// every stamp stays a valid OID arc of the same length.
const stampBase = 1_000_000_000

// stampedBody is a provide bundle whose masterIdentifier ends with a
// ten-digit arc the benchmark rewrites before each submission: a new
// document without building a new bundle.
type stampedBody struct {
	body  []byte
	stamp int // offset of the ten digits in body
}

// newStampedBody prepares the bundle of one document with content for
// patientNoDocs; slot makes its masterIdentifiers differ from the other
// bodies' of a pool.
func newStampedBody(b *testing.B, slot int, content string) stampedBody {
	b.Helper()
	tag := fmt.Sprintf("%d.%d", slot, stampBase)
	body := mustJSON(bundleFor(b, patientNoDocs, tag, content))
	// bundleFor writes "urn:oid:1.2.250.1.999.9.<tag>.<index>".
	marker := []byte(fmt.Sprintf("urn:oid:1.2.250.1.999.9.%s.", tag))
	if bytes.Count(body, marker) != 1 {
		b.Fatalf("the bundle of slot %d does not hold its masterIdentifier once", slot)
	}
	return stampedBody{body: body, stamp: bytes.Index(body, marker) + len(marker) - len(".") - len(strconv.Itoa(stampBase))}
}

// next writes round into the masterIdentifier and returns the body. The
// mock has read the previous request's body by the time ServeHTTP returns,
// so the buffer is reused.
func (s *stampedBody) next(round int) []byte {
	strconv.AppendInt(s.body[s.stamp:s.stamp], int64(stampBase+round), 10)
	return s.body
}

// BenchmarkProvide is one ITI-65 request through the whole mock: routing,
// validation against the contract, the business rules, storage and the
// self-check of the answer. Each iteration submits a new document: the
// bodies of a small pool are sent in turn, each with a masterIdentifier
// stamped with the round, so the store never sees one twice.
func BenchmarkProvide(b *testing.B) {
	s := New(Options{Now: func() time.Time { return fixedNow }})
	pool := make([]stampedBody, 8)
	for i := range pool {
		pool[i] = newStampedBody(b, i, fmt.Sprintf("Compte rendu de consultation n° %d", i+1))
	}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		body := pool[n%len(pool)].next(n / len(pool))
		n++
		r := httptest.NewRequest(http.MethodPost, "/fhir", bytes.NewReader(body))
		r.Header.Set("Authorization", "Bearer "+DefaultToken)
		r.Header.Set("Content-Type", "application/fhir+json")
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("submission %d: status %d: %s", n, w.Code, w.Body)
		}
	}
	if st := s.Stats(); st.Accepted != int64(n) || st.Replayed != 0 {
		b.Fatalf("%d submissions: %d accepted, %d replayed", n, st.Accepted, st.Replayed)
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
	for b.Loop() {
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
	for b.Loop() {
		if _, ferr := parseBundle(body); ferr != nil {
			b.Fatal(ferr)
		}
	}
}
