package coffrefort

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

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
	r := jsonRequest("/api/v3/beneficiaries", `{"first_name":"A","last_name":"B","birth_date":"2000-01-01"}`)
	r.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	rec = httptest.NewRecorder()
	s.ServeHTTP(rec, r)
	if rec.Code != http.StatusCreated {
		f.Fatalf("creating the beneficiary: %d %s", rec.Code, rec.Body)
	}
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
		if n := s.Stats().ResponseViolations; n != 0 {
			t.Fatalf("the answer %d %s breaks the contract", rec.Code, rec.Body)
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
		if n := s.Stats().ResponseViolations; n != 0 {
			t.Fatalf("the answer %d %s breaks the contract", rec.Code, rec.Body)
		}
	})
}
