package francetravail

import (
	"net/http"
	"strings"

	"github.com/relais-dev/relais/mocks/platform"
)

// Business error codes (designed by Relais; see the contract).
const (
	codeInvalidRequest     = "INVALID_REQUEST"
	codeInvalidNIR         = "INVALID_NIR"
	codeInvalidPeriod      = "INVALID_PERIOD"
	codeInvalidToken       = "INVALID_TOKEN"
	codeInsufficientScope  = "INSUFFICIENT_SCOPE"
	codeUserTokenInvalid   = "USER_TOKEN_INVALID"
	codeUserTokenExpired   = "USER_TOKEN_EXPIRED"
	codeNotFound           = "NOT_FOUND"
	codeMethodNotAllowed   = "METHOD_NOT_ALLOWED"
	codeConflict           = "CONFLICT"
	codeInternalError      = "INTERNAL_ERROR"
	codeBadGateway         = "BAD_GATEWAY"
	codeServiceUnavailable = "SERVICE_UNAVAILABLE"
	codeGatewayTimeout     = "GATEWAY_TIMEOUT"
)

// businessError is France Travail's error body.
type businessError struct {
	CodeErreur string `json:"codeErreur"`
	CodeHTTP   int    `json:"codeHttp"`
	Message    string `json:"message"`
}

// oauthError is the RFC 6749 error body of the token endpoint.
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

func writeBusiness(w http.ResponseWriter, status int, code, message string) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", "Bearer")
	}
	platform.WriteJSON(w, status, businessError{CodeErreur: code, CodeHTTP: status, Message: message})
}

func writeOAuth(w http.ResponseWriter, status int, code, description string) {
	platform.WriteJSON(w, status, oauthError{Error: code, Description: description})
}

// writeError is the mock's platform.ErrorWriter: OAuth2 bodies for the
// token endpoint's 400 and 401, text/plain for 429, the business format for
// everything else.
func writeError(w http.ResponseWriter, _ *http.Request, p platform.Problem) {
	status := p.Status
	if status == 0 {
		status = http.StatusInternalServerError
	}
	if status == http.StatusTooManyRequests {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		_, _ = w.Write([]byte("Too Many Requests"))
		return
	}
	if p.OperationID == opToken && status >= 400 && status < 500 {
		// An OAuth2 server answers every client error with 400 or 401 and
		// an RFC 6749 body (a wrong content type or an oversized body
		// included).
		switch {
		case status == http.StatusUnauthorized:
			writeOAuth(w, status, "invalid_client", "Client authentication failed.")
		case strings.Contains(p.Parameter, "grant_type"):
			writeOAuth(w, http.StatusBadRequest, "unsupported_grant_type", "Grant type is not supported.")
		case p.Parameter == "realm":
			writeOAuth(w, http.StatusBadRequest, "invalid_request", "Invalid realm: only /partenaire is served.")
		default:
			writeOAuth(w, http.StatusBadRequest, "invalid_request", "The request is missing a required parameter or is otherwise malformed.")
		}
		return
	}
	code, msg := businessOf(p, status)
	writeBusiness(w, status, code, msg)
}

// businessOf picks the code and French message of a runtime refusal.
func businessOf(p platform.Problem, status int) (string, string) {
	switch {
	case status == http.StatusRequestEntityTooLarge:
		return codeInvalidRequest, "Le corps de la requête est trop volumineux."
	case status == http.StatusUnsupportedMediaType:
		return codeInvalidRequest, "Le type de contenu de la requête n'est pas pris en charge."
	case p.Kind == platform.KindInvalidRequest || status == http.StatusBadRequest:
		if p.Parameter != "" {
			return codeInvalidRequest, "La requête est invalide (" + strings.TrimPrefix(p.Parameter, "/") + ")."
		}
		return codeInvalidRequest, "La requête est invalide."
	case p.Kind == platform.KindUnauthorized || status == http.StatusUnauthorized:
		return codeInvalidToken, "Le jeton d'accès est absent, invalide ou expiré."
	case p.Kind == platform.KindForbidden || status == http.StatusForbidden:
		if p.Parameter != "" { // the scope missing, set by authenticate
			return codeInsufficientScope, "Le jeton d'accès ne porte pas le scope " + p.Parameter + "."
		}
		return codeInsufficientScope, "Le jeton d'accès ne porte pas le scope requis."
	case p.Kind == platform.KindNotFound || status == http.StatusNotFound:
		return codeNotFound, "Ressource inconnue."
	case p.Kind == platform.KindMethod || status == http.StatusMethodNotAllowed:
		return codeMethodNotAllowed, "Méthode non autorisée sur cette ressource."
	case p.Kind == platform.KindConflict || status == http.StatusConflict:
		return codeConflict, "Requête en conflit avec une requête précédente."
	case status == http.StatusBadGateway:
		return codeBadGateway, "Le service partenaire n'a pas répondu correctement."
	case status == http.StatusServiceUnavailable:
		return codeServiceUnavailable, "Le service est momentanément indisponible."
	case status == http.StatusGatewayTimeout:
		return codeGatewayTimeout, "Le service partenaire n'a pas répondu à temps."
	}
	return codeInternalError, "Une erreur technique est survenue."
}
