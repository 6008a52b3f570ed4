package francetravail

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/relais-dev/relais/connectors"
)

func answer(status int, contentType, body string) *http.Response {
	h := http.Header{}
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(strings.NewReader(body))}
}

func business(status int, code string) *http.Response {
	return answer(status, "application/json", `{"codeErreur":"`+code+`","codeHttp":`+strconv.Itoa(status)+`,"message":"Un message pour les agents."}`)
}

// Every business error code, and the answers without one, map to a class
// and an outcome; the body is kept.
func TestClassify(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name    string
		resp    *http.Response
		class   connectors.Class
		outcome connectors.Outcome
		code    string
	}{
		{"invalid_token", business(401, "INVALID_TOKEN"), connectors.Permanent, connectors.OutcomeRefused, "INVALID_TOKEN"},
		{"insufficient_scope", business(403, "INSUFFICIENT_SCOPE"), connectors.Permanent, connectors.OutcomeRefused, "INSUFFICIENT_SCOPE"},
		{"invalid_nir", business(400, "INVALID_NIR"), connectors.Permanent, connectors.OutcomeRefused, "INVALID_NIR"},
		{"invalid_request", business(400, "INVALID_REQUEST"), connectors.Permanent, connectors.OutcomeError, "INVALID_REQUEST"},
		{"invalid_period", business(400, "INVALID_PERIOD"), connectors.Permanent, connectors.OutcomeError, "INVALID_PERIOD"},
		{"route_not_found", business(404, "NOT_FOUND"), connectors.Permanent, connectors.OutcomeError, "NOT_FOUND"},
		{"method_not_allowed", business(405, "METHOD_NOT_ALLOWED"), connectors.Permanent, connectors.OutcomeError, "METHOD_NOT_ALLOWED"},
		{"person_token_invalid", business(403, "USER_TOKEN_INVALID"), connectors.Retryable, connectors.OutcomeError, "USER_TOKEN_INVALID"},
		{"person_token_expired", business(403, "USER_TOKEN_EXPIRED"), connectors.Retryable, connectors.OutcomeError, "USER_TOKEN_EXPIRED"},
		{"internal_error", business(500, "INTERNAL_ERROR"), connectors.Retryable, connectors.OutcomeError, "INTERNAL_ERROR"},
		{"bad_gateway", business(502, "BAD_GATEWAY"), connectors.Retryable, connectors.OutcomeUnavailable, "BAD_GATEWAY"},
		{"service_unavailable", business(503, "SERVICE_UNAVAILABLE"), connectors.Retryable, connectors.OutcomeUnavailable, "SERVICE_UNAVAILABLE"},
		{"gateway_timeout", business(504, "GATEWAY_TIMEOUT"), connectors.Retryable, connectors.OutcomeTimeout, "GATEWAY_TIMEOUT"},
		{"unknown_code_by_status", business(503, "MAINTENANCE"), connectors.Retryable, connectors.OutcomeUnavailable, "MAINTENANCE"},
		{"rate_limited_text", answer(429, "text/plain; charset=utf-8", "Too Many Requests"), connectors.Retryable, connectors.OutcomeRateLimited, ""},
		{"proxy_page", answer(502, "text/html", "<html>Bad Gateway</html>"), connectors.Retryable, connectors.OutcomeUnavailable, ""},
		{"404_without_body", answer(404, "", ""), connectors.Permanent, connectors.OutcomeError, ""},
		{"json_without_code", answer(500, "application/json", `{"message":"?"}`), connectors.Retryable, connectors.OutcomeError, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ce := classify(tt.resp, "reading", now)
			if ce.Class != tt.class || connectors.OutcomeOf(ce) != tt.outcome || ce.Code != tt.code {
				t.Errorf("class %s, outcome %s, code %q; want %s, %s, %q", ce.Class, connectors.OutcomeOf(ce), ce.Code, tt.class, tt.outcome, tt.code)
			}
			if ce.Status != tt.resp.StatusCode {
				t.Errorf("status %d, want %d", ce.Status, tt.resp.StatusCode)
			}
		})
	}
}

// The search's codes and the contract breaks of its answer.
func TestParseSearch(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, body string
		token      string
		outcome    connectors.Outcome
		names      string // what the error must name
	}{
		{"found", `{"codeRetour":"S001","message":"Approchant trouvé","jetonUsager":"abcdefghijklmnopqrstuv","topIdentiteCertifiee":"O"}`, "abcdefghijklmnopqrstuv", connectors.OutcomeOK, ""},
		{"nobody", `{"codeRetour":"S002","message":"Aucun","jetonUsager":null,"topIdentiteCertifiee":null}`, "", connectors.OutcomeNotFound, "S002"},
		{"several", `{"codeRetour":"S003","message":"Plusieurs","jetonUsager":null,"topIdentiteCertifiee":null}`, "", connectors.OutcomeNotFound, "S003"},
		{"found_without_token", `{"codeRetour":"S001","message":"","jetonUsager":null,"topIdentiteCertifiee":"O"}`, "", connectors.OutcomeError, "jetonUsager"},
		{"no_code", `{"message":"","jetonUsager":"x","topIdentiteCertifiee":"O"}`, "", connectors.OutcomeError, "codeRetour"},
		{"unknown_code", `{"codeRetour":"S009","message":""}`, "", connectors.OutcomeError, "S009"},
		{"code_retyped", `{"codeRetour":{},"message":""}`, "", connectors.OutcomeError, "codeRetour"},
		{"not_json", `<html>`, "", connectors.OutcomeError, "decoding"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tok, err := parseSearch("searching person", []byte(tt.body))
			if got := connectors.OutcomeOf(err); got != tt.outcome || tok.Reveal() != tt.token {
				t.Fatalf("outcome %s (%v), token %q; want %s, %q", got, err, tok.Reveal(), tt.outcome, tt.token)
			}
			if err != nil && !strings.Contains(err.Error(), tt.names) {
				t.Errorf("error %q does not name %s", err, tt.names)
			}
		})
	}
}

// FuzzParseSearch feeds the search's answer parser outside input: it never
// panics, returns a token only for S001, and never returns both a token and
// an error.
func FuzzParseSearch(f *testing.F) {
	f.Add([]byte(`{"codeRetour":"S001","jetonUsager":"abc"}`))
	f.Add([]byte(`{"codeRetour":"S002","jetonUsager":null}`))
	f.Add([]byte(`{"codeRetour":["S001"]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, body []byte) {
		tok, err := parseSearch("searching person", body)
		if (tok == "") == (err == nil) {
			t.Fatalf("token %q and error %v: want exactly one", tok.Reveal(), err)
		}
	})
}

// FuzzParseBusinessError feeds the error body parser outside input: it
// never panics, and a code it returns is short and non-empty.
func FuzzParseBusinessError(f *testing.F) {
	f.Add("application/json", []byte(`{"codeErreur":"INVALID_NIR","codeHttp":400,"message":"x"}`))
	f.Add("application/json; charset=utf-8", []byte(`{"codeErreur":1}`))
	f.Add("text/plain", []byte("Too Many Requests"))
	f.Add("application/json", []byte(`[]`))
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		be, ok := parseBusinessError(contentType, body)
		if ok && (be.Code == "" || len(be.Code) > 64) {
			t.Fatalf("code %q accepted", be.Code)
		}
	})
}
