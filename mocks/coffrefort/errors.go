package coffrefort

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/relais-dev/relais/mocks/platform"
)

// writeError is the mock's platform.ErrorWriter: it answers what the
// runtime refuses (routing, faults, authentication, rate limit, contract
// validation) in the safe's own formats, as an API-Platform application
// would:
//
//   - 401: the lexik-JWT body {code, message} with WWW-Authenticate;
//   - the token endpoint's client errors: RFC 6749 bodies (400);
//   - a body that breaks a constraint (a missing or blank field, a bad
//     date, email or identifier): 422 with Symfony's violations; a body
//     that does not deserialise (syntax, type, unknown field or part): 400;
//   - an {id} that is not an identifier: 404, like a route requirement;
//   - everything else, injected errors included: an RFC 9457 problem with
//     the runtime's status (an injected 401 or 422 has the body the
//     contract documents for it).
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, p platform.Problem) {
	if tr := traceOf(r); tr != nil {
		tr.refused(p)
	}
	s.errorReply(r, p).write(w)
}

func (s *Server) errorReply(r *http.Request, p platform.Problem) reply {
	switch {
	case p.Kind == platform.KindUnauthorized, p.Kind == platform.KindInjected && p.Status == http.StatusUnauthorized:
		msg := p.Detail
		if !slices.Contains([]string{msgTokenMissing, msgTokenInvalid, msgTokenExpired}, msg) {
			msg = msgTokenInvalid
		}
		rp := jsonReply(http.StatusUnauthorized, jwtError{Code: http.StatusUnauthorized, Message: msg})
		rp.challenge = true
		return rp
	case p.Kind == platform.KindInvalidRequest:
		if p.OperationID == opToken {
			return tokenRequestError(p)
		}
		return s.invalidRequest(r, p)
	case p.Kind == platform.KindMethod:
		return problemReply(http.StatusMethodNotAllowed, fmt.Sprintf("No route found for %q: Method Not Allowed (Allow: %s).", r.Method+" "+r.URL.Path, strings.Join(p.Allow, ", ")))
	case p.Kind == platform.KindNotFound:
		return problemReply(http.StatusNotFound, fmt.Sprintf("No route found for %q.", r.Method+" "+r.URL.Path))
	case p.Kind == platform.KindInjected, p.Kind == platform.KindOutage, p.Kind == platform.KindRateLimited:
		return injectedReply(p)
	default:
		return problemReply(p.Status, p.Detail)
	}
}

// tokenRequestError is the RFC 6749 answer to a token request the contract
// refuses. An OAuth2 server answers every malformed request with 400.
func tokenRequestError(p platform.Problem) reply {
	if p.Parameter == "/grant_type" && schemaKeyword(p) == "enum" {
		return oauthReply(http.StatusBadRequest, "unsupported_grant_type", "The authorization grant type is not supported by the authorization server.")
	}
	return oauthReply(http.StatusBadRequest, "invalid_request", "The request body must be a JSON object with grant_type, scope, client_id and client_secret.")
}

// invalidRequest maps a request the contract refuses to the safe's answer.
func (s *Server) invalidRequest(r *http.Request, p platform.Problem) reply {
	switch p.Status {
	case http.StatusRequestEntityTooLarge:
		return problemReply(http.StatusRequestEntityTooLarge, fmt.Sprintf("The body is too large: the maximum allowed size is %d bytes.", s.maxBody()))
	case http.StatusUnsupportedMediaType:
		return problemReply(http.StatusUnsupportedMediaType, fmt.Sprintf("The content-type %q is not supported.", r.Header.Get("Content-Type")))
	}
	if slices.Contains(s.ix.pathParams[p.OperationID], p.Parameter) {
		return problemReply(http.StatusNotFound, operations[p.OperationID].notFound)
	}
	field, isBody := strings.CutPrefix(p.Parameter, "/")
	if !isBody || field == "" || strings.Contains(field, "/") {
		return problemReply(http.StatusBadRequest, p.Detail)
	}
	switch schemaKeyword(p) {
	case "required", "minLength", "minItems":
		return validationReply([]violation{{field, msgNotBlank}})
	case "format":
		switch s.ix.fieldFormat(p.OperationID, field) {
		case "date":
			return validationReply([]violation{{field, msgInvalidDate}})
		case "email":
			return validationReply([]violation{{field, msgEmail}})
		}
		return validationReply([]violation{{field, msgInvalid}})
	case "minimum", "maximum", "maxLength", "pattern", "enum", "const":
		return validationReply([]violation{{field, msgInvalid}})
	default: // type, additionalProperties...: the body does not deserialise
		return problemReply(http.StatusBadRequest, p.Detail)
	}
}

// schemaKeyword is the JSON Schema keyword a body or parameter broke, as
// the runtime's Detail names it: "The body field /x is missing." for
// "required", "... does not match its schema (minLength)." otherwise; ""
// when the Detail names none.
func schemaKeyword(p platform.Problem) string {
	if strings.HasSuffix(p.Detail, " is missing.") && strings.HasPrefix(p.Parameter, "/") {
		return "required"
	}
	rest, ok := strings.CutSuffix(p.Detail, ").")
	if !ok {
		return ""
	}
	i := strings.LastIndexByte(rest, '(')
	if i < 0 {
		return ""
	}
	return rest[i+1:]
}

// injectedReply answers an injected error, an outage or a rate limit with
// a problem shaped as the contract documents the status: an injected 422
// carries a violation (an injected 401 is the JWT body, above).
func injectedReply(p platform.Problem) reply {
	title := http.StatusText(p.Status)
	if title == "" {
		title = "An error occurred"
	}
	detail := "Injected fault."
	switch p.Kind {
	case platform.KindOutage:
		detail = "The service is under maintenance."
	case platform.KindRateLimited:
		detail = "Slow down."
	}
	pb := problem{Status: p.Status, Title: title, Detail: detail}
	if p.Status == http.StatusUnprocessableEntity {
		pb.Type = "/validation_errors/422"
		pb.Violations = []violation{{PropertyPath: "", Message: detail}}
	}
	return problemReplyOf(pb)
}
