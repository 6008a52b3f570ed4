package api_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"net/http"
	"testing"

	"github.com/relais-dev/relais/gateway/api"
)

// fuzzLimit is the body limit the fuzz target decodes with.
const fuzzLimit = 64 << 10

// FuzzDecodeSubmission: whatever the body, DecodeSubmission never panics
// and returns either a request with the body's SHA-256, or a client error
// with a code.
func FuzzDecodeSubmission(f *testing.F) {
	f.Add(validBody(f))
	f.Add(encode(f, set(deposit(samplePDF), "destinations", []any{"coffrefort", "archiviste"})))
	f.Add(encode(f, set(deposit(bytes.Repeat([]byte{0xff}, 3000)), "document_deposit.document.sha256", "")))
	for _, tc := range badInputCases(f, badFixtures{}) {
		if tc.call.body != nil && len(tc.call.body) <= fuzzLimit {
			f.Add(tc.call.body)
		}
	}
	f.Add(append(validBody(f), bytes.Repeat([]byte(" "), fuzzLimit)...)) // within limit, then whitespace past it
	f.Add([]byte(`{"document_deposit":{"content":"` + string(bytes.Repeat([]byte("QUFB"), fuzzLimit/4)) + `"}}`))
	f.Add([]byte(`{"destinations":["coffrefort"],"destinations":["archiviste"]}`))
	f.Add([]byte(`{"document_deposit":{"beneficiary":{"first_name":"\ud800"}}}`))
	f.Add([]byte(`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[`))

	f.Fuzz(func(t *testing.T, data []byte) {
		req, sum, err := api.DecodeSubmission(bytes.NewReader(data), fuzzLimit)
		if err == nil {
			if req == nil {
				t.Fatal("no request and no error")
			}
			if len(data) > fuzzLimit {
				t.Fatalf("accepted %d bytes, over the %d limit", len(data), fuzzLimit)
			}
			if sum != sha256.Sum256(data) {
				t.Fatal("the hash is not the body's SHA-256")
			}
			return
		}
		var e *api.Error
		if !errors.As(err, &e) {
			t.Fatalf("error %T %v is not an *api.Error", err, err)
		}
		if req != nil {
			t.Fatalf("a request with an error: %v", err)
		}
		if e.Status < 400 || e.Status > 499 || e.Code == "" || e.Title == "" || e.Detail == "" {
			t.Fatalf("not a client error with a code: %+v", e)
		}
		if e.Status == http.StatusRequestEntityTooLarge && len(data) <= fuzzLimit {
			t.Fatalf("%d bytes is within the %d limit, yet %s", len(data), fuzzLimit, e.Code)
		}
	})
}
