package coffrefort

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

func FuzzFaultsJSON(f *testing.F) {
	f.Add([]byte(`{"latency":"150ms","latency_jitter":20,"error_rate":0.5,"statuses":[503,429],"retry_after":"2","routes":["token"]}`))
	f.Add([]byte(`{"outage_start":"2025-03-14T10:00:00Z","outage_end":"2025-03-14T11:00:00+01:00"}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, in []byte) {
		var faults Faults
		if err := json.Unmarshal(in, &faults); err != nil {
			return
		}
		_ = faults.Validate()
		out, err := json.Marshal(faults)
		if err != nil {
			// Years outside 0..9999 do not encode; nothing else may fail.
			if faults.OutageStart.Year() >= 0 && faults.OutageStart.Year() <= 9999 && faults.OutageEnd.Year() >= 0 && faults.OutageEnd.Year() <= 9999 {
				t.Fatalf("encoding %+v: %v", faults, err)
			}
			return
		}
		var back Faults
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("decoding our own %s: %v", out, err)
		}
		again, err := json.Marshal(back)
		if err != nil || !bytes.Equal(out, again) {
			t.Fatalf("round trip: %s became %s (%v)", out, again, err)
		}
		s := New(Options{})
		s.SetFaults(faults)
		if err := s.Faults().Validate(); err != nil && faults.Validate() == nil {
			t.Fatalf("SetFaults broke valid faults: %v", err)
		}
	})
}

// fuzzServer answers API requests in process, with a token for every scope
// and one beneficiary.
func fuzzServer(f *testing.F) (*Server, string) {
	s := New(Options{})
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, jsonRequest("/api/token", `{"grant_type":"client_credentials","client_id":"relais-sandbox","client_secret":"relais-sandbox-secret"}`))
	var tok tokenResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &tok); err != nil || tok.AccessToken == "" {
		f.Fatalf("getting a token: %v", err)
	}
	s.createBeneficiary(&call{r: jsonRequest("/api/v3/beneficiaries", `{"first_name":"A","last_name":"B","birth_date":"2000-01-01"}`)})
	return s, tok.AccessToken
}

func jsonRequest(path, body string) *http.Request {
	r := httptest.NewRequest("POST", path, bytes.NewReader([]byte(body)))
	r.Header.Set("Content-Type", "application/json")
	return r
}

func FuzzCreateBeneficiary(f *testing.F) {
	s, tok := fuzzServer(f)
	f.Add([]byte(`{"birth_date":"1987-02-28","first_name":"Élodie","last_name":"D","email":"e@example.org","centers":[1],"external_center":3}`))
	f.Add([]byte(`{"first_name":1}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r := jsonRequest("/api/v3/beneficiaries", string(body))
		r.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, r)
		switch rec.Code {
		case 201, 400, 409, 413, 422:
		default:
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body)
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("invalid JSON answer %s", rec.Body)
		}
	})
}

func FuzzUpload(f *testing.F) {
	s, tok := fuzzServer(f)
	ct, body := multipartBody(f,
		part{name: "beneficiary_id", content: []byte("1")},
		part{name: "issue_date", content: []byte("2025-01-31")},
		part{name: "file", filename: "a.pdf", contentType: "application/pdf", content: []byte("%PDF")},
	)
	boundary := ct[len("multipart/form-data; boundary="):]
	f.Add(boundary, body)
	f.Add(boundary, []byte("--"+boundary+"--\r\n"))
	f.Fuzz(func(t *testing.T, boundary string, body []byte) {
		r := httptest.NewRequest("POST", "/api/v3/documents", bytes.NewReader(body))
		r.Header.Set("Authorization", "Bearer "+tok)
		r.Header.Set("Content-Type", "multipart/form-data; boundary=\""+boundary+"\"")
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, r)
		switch rec.Code {
		case 201, 400, 413, 415, 422:
		default:
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("invalid JSON answer %s", rec.Body)
		}
	})
}
