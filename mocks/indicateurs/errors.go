package indicateurs

import (
	"net/http"
	"strings"

	"github.com/relais-dev/relais/mocks/platform"
)

// problemBase prefixes the problem types.
const problemBase = "https://relais.invalid/problems/"

// problem is an RFC 9457 problem details body.
type problem struct {
	Type   string       `json:"type"`
	Title  string       `json:"title"`
	Status int          `json:"status"`
	Code   string       `json:"code"`
	Detail string       `json:"detail"`
	Errors []fieldError `json:"errors,omitempty"`
}

type fieldError struct {
	Pointer string `json:"pointer"`
	Detail  string `json:"detail"`
}

// The problem codes, their titles and types.
var problemKinds = map[string]struct{ title, slug string }{
	"INVALID_REQUEST":        {"Invalid request", "invalid-request"},
	"UNSUPPORTED_MEDIA_TYPE": {"Unsupported media type", "unsupported-media-type"},
	"PAYLOAD_TOO_LARGE":      {"Payload too large", "payload-too-large"},
	"UNAUTHORIZED":           {"Unauthorized", "unauthorized"},
	"NOT_FOUND":              {"Not found", "not-found"},
	"REPORT_NOT_FOUND":       {"Not found", "not-found"},
	"METHOD_NOT_ALLOWED":     {"Method not allowed", "method-not-allowed"},
	"IDEMPOTENCY_CONFLICT":   {"Conflict", "idempotency-conflict"},
	"VERSION_CONFLICT":       {"Version conflict", "version-conflict"},
	"OUTDATED_VERSION":       {"Outdated version", "outdated-version"},
	"INVALID_FINESS":         {"Invalid FINESS", "invalid-finess"},
	"FINESS_MISMATCH":        {"FINESS mismatch", "finess-mismatch"},
	"PERIOD_OUTSIDE_YEAR":    {"Period outside the year", "period-outside-year"},
	"RATE_LIMITED":           {"Too many requests", "rate-limited"},
	"INTERNAL_ERROR":         {"Internal error", "internal-error"},
	"BAD_GATEWAY":            {"Bad gateway", "bad-gateway"},
	"SERVICE_UNAVAILABLE":    {"Service unavailable", "service-unavailable"},
	"GATEWAY_TIMEOUT":        {"Gateway timeout", "gateway-timeout"},
}

func writeProblem(w http.ResponseWriter, status int, code, detail string, errs ...fieldError) {
	k := problemKinds[code]
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", "Bearer")
	}
	w.Header().Set("Content-Type", "application/problem+json")
	platform.WriteJSON(w, status, problem{Type: problemBase + k.slug, Title: k.title, Status: status, Code: code, Detail: detail, Errors: errs})
}

// writeError is the mock's platform.ErrorWriter: problem details for every
// refusal of the runtime.
func writeError(w http.ResponseWriter, _ *http.Request, p platform.Problem) {
	status := p.Status
	if status == 0 {
		status = http.StatusInternalServerError
	}
	var errs []fieldError
	code, detail := "INTERNAL_ERROR", "Une erreur technique est survenue."
	switch {
	case status == http.StatusRequestEntityTooLarge:
		code, detail = "PAYLOAD_TOO_LARGE", "Le corps de la requête est trop volumineux."
	case status == http.StatusUnsupportedMediaType:
		code, detail = "UNSUPPORTED_MEDIA_TYPE", "Le type de contenu de la requête n'est pas pris en charge."
	case p.Kind == platform.KindInvalidRequest:
		code, detail = "INVALID_REQUEST", "La requête est invalide."
		if p.Parameter != "" {
			detail = "La requête est invalide (" + p.Parameter + ")."
			if strings.HasPrefix(p.Parameter, "/") {
				errs = []fieldError{{Pointer: p.Parameter, Detail: "Valeur absente ou non conforme."}}
			}
		}
	case p.Kind == platform.KindUnauthorized:
		code, detail = "UNAUTHORIZED", "La clé d'API est absente ou inconnue."
	case p.Kind == platform.KindNotFound:
		code, detail = "NOT_FOUND", "Ressource inconnue."
	case p.Kind == platform.KindMethod:
		code, detail = "METHOD_NOT_ALLOWED", "Méthode non autorisée sur cette ressource."
	case p.Kind == platform.KindConflict:
		code, detail = "IDEMPOTENCY_CONFLICT", "Cette clé d'idempotence a déjà servi pour une autre requête."
	case p.Kind == platform.KindRateLimited:
		code, detail = "RATE_LIMITED", "Trop de requêtes ; réessayez plus tard."
	case status == http.StatusBadGateway:
		code, detail = "BAD_GATEWAY", "Le service a reçu une réponse invalide."
	case status == http.StatusServiceUnavailable:
		code, detail = "SERVICE_UNAVAILABLE", "Le service est momentanément indisponible."
	case status == http.StatusGatewayTimeout:
		code, detail = "GATEWAY_TIMEOUT", "Le service n'a pas répondu à temps."
	}
	writeProblem(w, status, code, detail, errs...)
}
