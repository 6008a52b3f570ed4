package dmp

import (
	"encoding/json"
	"testing"
)

// FuzzParseBundle feeds arbitrary bodies to the provide bundle's parser:
// it never panics, and what it accepts is consistent.
func FuzzParseBundle(f *testing.F) {
	f.Add(mustJSON(exampleBundle(f)))
	f.Add(mustJSON(bundleFor(f, patientNoDocs, "f", "un", "deux")))
	f.Add([]byte(`{"resourceType":"Bundle","type":"transaction","entry":[{"fullUrl":"a","resource":{"resourceType":"Binary","data":"!!"},"request":{"method":"POST","url":"Binary"}}]}`))
	f.Add([]byte(`{"resourceType":"Bundle","type":"transaction","entry":[{"resource":null}]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, body []byte) {
		p, ferr := parseBundle(body)
		if ferr != nil {
			if ferr.status != 400 && ferr.status != 422 {
				t.Fatalf("status %d", ferr.status)
			}
			if !json.Valid(mustJSON(ferr.outcome())) {
				t.Fatal("invalid OperationOutcome")
			}
			return
		}
		if len(p.docs) == 0 || p.patient == "" {
			t.Fatalf("accepted a bundle without documents or patient: %s", body)
		}
		for _, d := range p.docs {
			if _, ok := p.binaries[d.binaryURL]; !ok {
				t.Fatalf("accepted a document whose attachment is no Binary: %s", body)
			}
		}
		st := newStore(FixturePatients())
		if _, _, ferr := st.commit(p, fixedNow); ferr == nil && len(st.docs) != len(p.docs) {
			t.Fatalf("stored %d documents for %d", len(st.docs), len(p.docs))
		}
	})
}

// FuzzAccept checks that content negotiation never panics and answers the
// Binary resource only when FHIR JSON is acceptable.
func FuzzAccept(f *testing.F) {
	for _, s := range []string{"", "*/*", "application/fhir+json", "application/pdf;q=0.5, application/json", "text/*;q=0,*/*", ";;,q=", "a/b;q=2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, accept string) {
		asFHIR, ok := negotiate(accept, "application/pdf")
		if asFHIR && !ok {
			t.Fatal("FHIR chosen while nothing is acceptable")
		}
		if asFHIR {
			if q, _ := bestQuality(parseAccept(accept), fhirJSONTypes...); q <= 0 {
				t.Fatalf("FHIR chosen for %q, which does not accept it", accept)
			}
		}
	})
}
