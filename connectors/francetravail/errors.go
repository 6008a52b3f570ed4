package francetravail

import (
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"time"

	"golang.org/x/oauth2"

	"github.com/relais-dev/relais/connectors"
)

// businessError is France Travail's error body.
type businessError struct {
	Code     string `json:"codeErreur"`
	HTTPCode int    `json:"codeHttp"`
	Message  string `json:"message"`
}

// codeOutcomes maps the business error codes to canonical outcomes; a code
// not listed is decided by its HTTP status (connectors.OutcomeOf).
var codeOutcomes = map[string]struct {
	class   connectors.Class
	outcome connectors.Outcome
}{
	// Our credentials or scopes: retrying as is will not help.
	"INVALID_TOKEN":      {connectors.Permanent, connectors.OutcomeRefused},
	"INSUFFICIENT_SCOPE": {connectors.Permanent, connectors.OutcomeRefused},
	// The platform refuses the NIR we sent (its key): the identity asked
	// for, not the platform, is at fault.
	"INVALID_NIR": {connectors.Permanent, connectors.OutcomeRefused},
	// Requests Relais built wrong, or a route that moved: a defect to fix.
	"INVALID_REQUEST":    {connectors.Permanent, connectors.OutcomeError},
	"INVALID_PERIOD":     {connectors.Permanent, connectors.OutcomeError},
	"NOT_FOUND":          {connectors.Permanent, connectors.OutcomeError},
	"METHOD_NOT_ALLOWED": {connectors.Permanent, connectors.OutcomeError},
	// The person token died between the search and the read: the next
	// pull searches again.
	"USER_TOKEN_INVALID": {connectors.Retryable, connectors.OutcomeError},
	"USER_TOKEN_EXPIRED": {connectors.Retryable, connectors.OutcomeError},
	// The platform's own failures.
	"INTERNAL_ERROR":      {connectors.Retryable, connectors.OutcomeError},
	"BAD_GATEWAY":         {connectors.Retryable, connectors.OutcomeUnavailable},
	"SERVICE_UNAVAILABLE": {connectors.Retryable, connectors.OutcomeUnavailable},
	"GATEWAY_TIMEOUT":     {connectors.Retryable, connectors.OutcomeTimeout},
}

// classify turns an answer that is not a success into a classified error:
// the status's class, the platform's body kept, and, when the body is a
// business error, its code and the outcome the code means. A 404 is the
// platform not knowing a route, never a person (that is S002): Permanent.
// A 429 (text/plain) keeps its Retry-After; the stack holds later tries
// until it has passed.
func classify(resp *http.Response, op string, now time.Time) *connectors.Error {
	ce := connectors.Classify(resp, op, now)
	if ce.Class == connectors.NotFound {
		ce.Class, ce.Outcome = connectors.Permanent, connectors.OutcomeError
	}
	be, ok := parseBusinessError(ce.ContentType, ce.Body)
	if !ok {
		return ce
	}
	ce.Code = be.Code
	if o, known := codeOutcomes[be.Code]; known {
		ce.Class, ce.Outcome = o.class, o.outcome
	}
	return ce
}

// parseBusinessError reads a business error body; it reports false for
// anything else (the 429's text, a proxy's page).
func parseBusinessError(contentType string, body []byte) (businessError, bool) {
	if mt, _, err := mime.ParseMediaType(contentType); err != nil || mt != "application/json" {
		return businessError{}, false
	}
	var be businessError
	if err := json.Unmarshal(body, &be); err != nil || be.Code == "" || len(be.Code) > 64 {
		return businessError{}, false
	}
	return be, true
}

// oauthRefusals are the token endpoint's errors that mean our credentials
// or scopes are refused.
var oauthRefusals = map[string]bool{
	"invalid_client": true, "unauthorized_client": true, "invalid_scope": true, "invalid_grant": true,
}

// classifyTransport completes the stack's classification of a call that got
// no answer of its own: a token endpoint's refusal gets its OAuth2 error
// code, and refused when it is about our credentials or scopes.
func classifyTransport(err error) error {
	ce, ok := errors.AsType[*connectors.Error](err)
	if !ok {
		return err
	}
	re, ok := errors.AsType[*oauth2.RetrieveError](ce.Err)
	if !ok || re.ErrorCode == "" || len(re.ErrorCode) > 64 {
		return err
	}
	ce.Code = re.ErrorCode
	if oauthRefusals[re.ErrorCode] {
		ce.Class, ce.Outcome = connectors.Permanent, connectors.OutcomeRefused
	}
	return ce
}
