package platform

import (
	"net/http"
	"strings"
)

// ProblemTypeBase prefixes the problem types of the platforms whose error
// format Relais designed (the indicators endpoint, the CAF PSU service).
const ProblemTypeBase = "https://relais.invalid/problems/"

// ProblemDetails is an RFC 9457 problem details body with a stable code:
// the error format of the platforms whose API Relais designed.
type ProblemDetails struct {
	Type   string         `json:"type"`
	Title  string         `json:"title"`
	Status int            `json:"status"`
	Code   string         `json:"code"`
	Detail string         `json:"detail"`
	Errors []ProblemField `json:"errors,omitempty"`
}

// ProblemField is one invalid field of a ProblemDetails.
type ProblemField struct {
	// Pointer is the field's JSON pointer ("/period/end").
	Pointer string `json:"pointer"`
	// Detail says what is wrong with it, in French.
	Detail string `json:"detail"`
}

// ProblemCode is the title and type of a problem code: its type is
// ProblemTypeBase + Slug.
type ProblemCode struct{ Title, Slug string }

// ProblemWriter writes the problem details of a platform whose error
// format Relais designed. It knows the codes of the runtime's refusals
// (INVALID_REQUEST, UNSUPPORTED_MEDIA_TYPE, PAYLOAD_TOO_LARGE,
// UNAUTHORIZED, INSUFFICIENT_SCOPE, NOT_FOUND, METHOD_NOT_ALLOWED,
// IDEMPOTENCY_CONFLICT, RATE_LIMITED, INTERNAL_ERROR, BAD_GATEWAY,
// SERVICE_UNAVAILABLE, GATEWAY_TIMEOUT); Codes adds the platform's own. It
// is safe for concurrent use as long as nobody modifies Codes.
type ProblemWriter struct {
	// Codes are the platform's own codes (its business refusals); one that
	// is also a runtime code replaces it. Default: none.
	Codes map[string]ProblemCode
	// Unauthorized is the French detail of UNAUTHORIZED, which names the
	// platform's credential ("La clé d'API est absente ou inconnue.").
	// Required.
	Unauthorized string
}

// Write answers status with the problem of code; an unknown code gets an
// empty title and the bare ProblemTypeBase. A 401 carries
// `WWW-Authenticate: Bearer`.
func (pw ProblemWriter) Write(w http.ResponseWriter, status int, code, detail string, errs ...ProblemField) {
	k, ok := pw.Codes[code]
	if !ok {
		k = runtimeProblemCode(code)
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", "Bearer")
	}
	w.Header().Set("Content-Type", "application/problem+json")
	WriteJSON(w, status, ProblemDetails{Type: ProblemTypeBase + k.Slug, Title: k.Title, Status: status, Code: code, Detail: detail, Errors: errs})
}

// WriteRefusal is an ErrorWriter: the runtime's refusals as problem
// details, their details in French. An invalid body field (a Parameter
// that is a JSON pointer) is named in Errors too; KindForbidden, which only
// an Authenticate returns, is INSUFFICIENT_SCOPE; an injected status
// without a code of its own is INTERNAL_ERROR.
func (pw ProblemWriter) WriteRefusal(w http.ResponseWriter, _ *http.Request, p Problem) {
	status := p.Status
	if status == 0 {
		status = http.StatusInternalServerError
	}
	var errs []ProblemField
	code, detail := "INTERNAL_ERROR", "Une erreur technique est survenue."
	switch {
	case status == http.StatusRequestEntityTooLarge:
		code, detail = "PAYLOAD_TOO_LARGE", "Le corps de la requête est trop volumineux."
	case status == http.StatusUnsupportedMediaType:
		code, detail = "UNSUPPORTED_MEDIA_TYPE", "Le type de contenu de la requête n'est pas pris en charge."
	case p.Kind == KindInvalidRequest:
		code, detail = "INVALID_REQUEST", "La requête est invalide."
		if p.Parameter != "" {
			detail = "La requête est invalide (" + p.Parameter + ")."
			if strings.HasPrefix(p.Parameter, "/") {
				errs = []ProblemField{{Pointer: p.Parameter, Detail: "Valeur absente ou non conforme."}}
			}
		}
	case p.Kind == KindUnauthorized:
		code, detail = "UNAUTHORIZED", pw.Unauthorized
	case p.Kind == KindForbidden:
		code, detail = "INSUFFICIENT_SCOPE", "Le jeton d'accès ne permet pas cette opération."
	case p.Kind == KindNotFound:
		code, detail = "NOT_FOUND", "Ressource inconnue."
	case p.Kind == KindMethod:
		code, detail = "METHOD_NOT_ALLOWED", "Méthode non autorisée sur cette ressource."
	case p.Kind == KindConflict:
		code, detail = "IDEMPOTENCY_CONFLICT", "Cette clé d'idempotence a déjà servi pour une autre requête."
	case p.Kind == KindRateLimited:
		code, detail = "RATE_LIMITED", "Trop de requêtes ; réessayez plus tard."
	case status == http.StatusBadGateway:
		code, detail = "BAD_GATEWAY", "Le service a reçu une réponse invalide."
	case status == http.StatusServiceUnavailable:
		code, detail = "SERVICE_UNAVAILABLE", "Le service est momentanément indisponible."
	case status == http.StatusGatewayTimeout:
		code, detail = "GATEWAY_TIMEOUT", "Le service n'a pas répondu à temps."
	}
	pw.Write(w, status, code, detail, errs...)
}

// runtimeProblemCode is the title and type of a runtime refusal's code.
func runtimeProblemCode(code string) ProblemCode {
	switch code {
	case "INVALID_REQUEST":
		return ProblemCode{"Invalid request", "invalid-request"}
	case "UNSUPPORTED_MEDIA_TYPE":
		return ProblemCode{"Unsupported media type", "unsupported-media-type"}
	case "PAYLOAD_TOO_LARGE":
		return ProblemCode{"Payload too large", "payload-too-large"}
	case "UNAUTHORIZED":
		return ProblemCode{"Unauthorized", "unauthorized"}
	case "INSUFFICIENT_SCOPE":
		return ProblemCode{"Forbidden", "forbidden"}
	case "NOT_FOUND":
		return ProblemCode{"Not found", "not-found"}
	case "METHOD_NOT_ALLOWED":
		return ProblemCode{"Method not allowed", "method-not-allowed"}
	case "IDEMPOTENCY_CONFLICT":
		return ProblemCode{"Conflict", "idempotency-conflict"}
	case "RATE_LIMITED":
		return ProblemCode{"Too many requests", "rate-limited"}
	case "INTERNAL_ERROR":
		return ProblemCode{"Internal error", "internal-error"}
	case "BAD_GATEWAY":
		return ProblemCode{"Bad gateway", "bad-gateway"}
	case "SERVICE_UNAVAILABLE":
		return ProblemCode{"Service unavailable", "service-unavailable"}
	case "GATEWAY_TIMEOUT":
		return ProblemCode{"Gateway timeout", "gateway-timeout"}
	}
	return ProblemCode{}
}

// StaticToken returns a Config.Authenticate that accepts one bearer token,
// the one the platform gave its caller (an API key, an establishment's
// token), sent exactly as `Authorization: Bearer <token>`; the token is
// the rate-limit key. detail says why any other request is refused
// (English, as every Problem.Detail).
func StaticToken(token, detail string) func(r *http.Request, operationID string) (string, *Problem) {
	want := "Bearer " + token
	return func(r *http.Request, operationID string) (string, *Problem) {
		if r.Header.Get("Authorization") != want {
			return "", &Problem{Kind: KindUnauthorized, Status: http.StatusUnauthorized, OperationID: operationID, Detail: detail}
		}
		return token, nil
	}
}
