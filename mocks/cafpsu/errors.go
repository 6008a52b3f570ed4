package cafpsu

import (
	"net/http"
	"strings"

	"github.com/relais-dev/relais/mocks/platform"
)

// problems writes the service's problem details: the runtime's codes and
// the service's own, with their titles and types. Read-only.
var problems = platform.ProblemWriter{
	Codes: map[string]platform.ProblemCode{
		"NOT_YOUR_STRUCTURE":     {Title: "Forbidden", Slug: "forbidden"},
		"STRUCTURE_NOT_FOUND":    {Title: "Not found", Slug: "not-found"},
		"DECLARATION_NOT_FOUND":  {Title: "Not found", Slug: "not-found"},
		"PERIOD_NOT_OPEN":        {Title: "Period not open", Slug: "period-not-open"},
		"DEADLINE_PASSED":        {Title: "Deadline passed", Slug: "deadline-passed"},
		"MONTHS_MISMATCH":        {Title: "Months mismatch", Slug: "months-mismatch"},
		"INCONSISTENT_FIGURES":   {Title: "Inconsistent figures", Slug: "inconsistent-figures"},
		"ESTABLISHMENT_MISMATCH": {Title: "Establishment mismatch", Slug: "establishment-mismatch"},
	},
	Unauthorized: "Le jeton d'accès est absent, inconnu ou expiré.",
}

type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

func writeOAuth(w http.ResponseWriter, status int, code, description string) {
	platform.WriteJSON(w, status, oauthError{Error: code, Description: description})
}

// writeError is the mock's platform.ErrorWriter: RFC 6749 bodies for the
// token endpoint's client errors, problem details for everything else.
func writeError(w http.ResponseWriter, r *http.Request, p platform.Problem) {
	if p.OperationID == opToken && p.Status >= 400 && p.Status < 500 && p.Status != http.StatusTooManyRequests {
		switch {
		case strings.Contains(p.Parameter, "grant_type"):
			writeOAuth(w, http.StatusBadRequest, "unsupported_grant_type", "The grant type is not supported.")
		default:
			writeOAuth(w, http.StatusBadRequest, "invalid_request", "The request is missing a required parameter or is otherwise malformed.")
		}
		return
	}
	problems.WriteRefusal(w, r, p)
}
