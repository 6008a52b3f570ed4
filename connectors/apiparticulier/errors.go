package apiparticulier

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/relais-dev/relais/connectors"
)

// errorBody is the platform's error answer:
// {"errors":[{"code","title","detail","source","meta"}]}. Only the code is
// read: titles and details are kept as the raw body, never logged.
type errorBody struct {
	Errors []struct {
		Code string `json:"code"`
	} `json:"errors"`
}

// classify turns an answer that is not a success into a *connectors.Error
// carrying the platform's code and the canonical outcome it stands for;
// the class follows the outcome. An answer without a known code (a proxy's
// page, a code the platform added) keeps the class of its status and lets
// connectors.OutcomeOf decide from it.
func classify(resp *http.Response, op string, now time.Time) *connectors.Error {
	e := connectors.Classify(resp, op, now)
	var body errorBody
	if json.Unmarshal(e.Body, &body) == nil && len(body.Errors) > 0 && plausibleCode(body.Errors[0].Code) {
		e.Code = body.Errors[0].Code
	}
	if o, ok := outcomeOfCode(e.Code); ok {
		e.Outcome = o
		e.Class = classOfOutcome(o)
	}
	return e
}

// outcomeOfCode maps every code the platform documents for the CAF/MSA and
// France Travail routes to a canonical outcome; the package documentation
// has the table. It reports false for any other code.
func outcomeOfCode(code string) (connectors.Outcome, bool) {
	switch code {
	// The token: invalid or missing, expired, blacklisted; valid but
	// without the scope. The recipient: missing, or not a SIRET.
	case "00101", "00103", "00105", "00100", "00203", "00210":
		return connectors.OutcomeRefused, true
	// The identity parameters (00366), or the France Travail identifier
	// (00380), are malformed: the query is at fault.
	case "00366", "00380":
		return connectors.OutcomeError, true
	// Too many requests: the token's or the IP address's limit (00429),
	// the same request still being processed (00015), or the provider's
	// own limit (37008).
	case "00429", "00015", "37008":
		return connectors.OutcomeRateLimited, true
	// Nobody: at the CNAV (37003), CNAF (23003), MSA (10003), among the
	// funds (35003, whichever its wording), in the RNCPS (40003), at France
	// Travail (24003).
	case "37003", "23003", "10003", "35003", "40003", "24003":
		return connectors.OutcomeNotFound, true
	// The provider is down, unreachable or answered nonsense: CNAV 37001,
	// 37004 (DNS), 37999; France Travail 24001, 24004 (DNS), 24999; the
	// network between the platform and the provider (00501).
	case "37001", "37004", "37999", "24001", "24004", "24999", "00501":
		return connectors.OutcomeUnavailable, true
	// The provider did not answer in time.
	case "37002", "24002":
		return connectors.OutcomeTimeout, true
	}
	return "", false
}

// classOfOutcome keeps an error's class coherent with its outcome: what may
// pass with time is Retryable, a missing person NotFound, the rest
// Permanent.
func classOfOutcome(o connectors.Outcome) connectors.Class {
	switch o {
	case connectors.OutcomeNotFound:
		return connectors.NotFound
	case connectors.OutcomeUnavailable, connectors.OutcomeTimeout, connectors.OutcomeRateLimited:
		return connectors.Retryable
	default:
		return connectors.Permanent
	}
}

// plausibleCode reports whether a code looks like one of the platform's
// (five digits today): short, letters, digits and dashes. Anything else is
// not kept, as operators read codes in the connector's status.
func plausibleCode(code string) bool {
	if code == "" || len(code) > 16 {
		return false
	}
	for _, r := range code {
		if !(r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
