package connectors

import (
	"bytes"
	"io"
	"net/http"
	"testing"
	"time"
)

// roundTripFunc adapts a function to http.RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// FuzzJSONTokenResponse feeds the JSON token source any answer: it returns
// a usable token or an error, never a panic nor an empty token.
func FuzzJSONTokenResponse(f *testing.F) {
	f.Add(200, []byte(`{"access_token":"abc","token_type":"Bearer","expires_in":3600,"scope":"documents_read"}`))
	f.Add(200, []byte(`{"access_token":"","expires_in":-5}`))
	f.Add(200, []byte(`{"access_token":"abc","expires_in":9223372036854775807}`))
	f.Add(200, []byte(`<html>maintenance</html>`))
	f.Add(401, []byte(`{"error":"invalid_client","error_description":"Client authentication failed."}`))
	f.Add(503, []byte{})
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		if status < 100 || status > 999 {
			t.Skip()
		}
		src := &jsonTokenSource{
			client: &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
				return &http.Response{StatusCode: status, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(body))}, nil
			})},
			url: "https://safe.example/api/token", clientID: "id", clientSecret: "secret",
		}
		tok, err := src.Token()
		if err == nil && (tok == nil || tok.AccessToken == "") {
			t.Fatalf("Token() = %+v with no error", tok)
		}
		if err != nil && bytes.Contains([]byte(err.Error()), []byte("secret")) && !bytes.Contains(body, []byte("secret")) {
			t.Fatalf("error quotes the client secret: %v", err)
		}
	})
}

// FuzzClassify checks that any answer is classified with a bounded body.
func FuzzClassify(f *testing.F) {
	f.Add(503, "120", []byte(`{"status":503}`))
	f.Add(429, "Wed, 21 Oct 2015 07:28:00 GMT", []byte{})
	f.Add(422, "-1", []byte(`{"violations":[]}`))
	f.Fuzz(func(t *testing.T, status int, retryAfter string, body []byte) {
		resp := &http.Response{StatusCode: status, Header: http.Header{"Retry-After": {retryAfter}}, Body: io.NopCloser(bytes.NewReader(body))}
		e := Classify(resp, "op", testNow)
		if e.Class < Retryable || e.Class > NotFound || len(e.Body) > MaxErrorBody || e.RetryAfter < 0 {
			t.Fatalf("Classify = %+v", e)
		}
	})
}

var testNow = mustParseTime("2026-03-02T09:00:00Z")

func mustParseTime(s string) (t time.Time) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}
