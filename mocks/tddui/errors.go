package tddui

import (
	"encoding/json"
	"net/http"

	"github.com/relais-dev/relais/mocks/platform"
)

const contentTypeFHIR = "application/fhir+json"

// writeFHIR writes v as FHIR JSON.
func writeFHIR(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", contentTypeFHIR)
	platform.WriteJSON(w, status, v)
}

// writeRaw writes an already encoded FHIR answer.
func writeRaw(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", contentTypeFHIR)
	w.WriteHeader(status)
	_, _ = w.Write(body) // the client may be gone; nothing to do about it
}

func outcome(issues ...issue) operationOutcome {
	return operationOutcome{ResourceType: "OperationOutcome", Issue: issues}
}

func writeOutcome(w http.ResponseWriter, status int, code, diagnostics string, expression ...string) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", "Bearer")
	}
	writeFHIR(w, status, outcome(issue{Severity: "error", Code: code, Diagnostics: diagnostics, Expression: expression}))
}

// writeError is the mock's platform.ErrorWriter: every refusal of the
// runtime as an OperationOutcome, its issue code by kind.
func writeError(w http.ResponseWriter, _ *http.Request, p platform.Problem) {
	status := p.Status
	if status == 0 {
		status = http.StatusInternalServerError
	}
	code := "exception"
	switch {
	case status == http.StatusRequestEntityTooLarge:
		code = "too-costly"
	case status == http.StatusUnsupportedMediaType:
		code = "not-supported"
	case p.Kind == platform.KindInvalidRequest:
		code = "structure"
	case p.Kind == platform.KindUnauthorized:
		code = "login"
	case p.Kind == platform.KindForbidden:
		code = "forbidden"
	case p.Kind == platform.KindNotFound:
		code = "not-found"
	case p.Kind == platform.KindMethod:
		code = "not-supported"
	case p.Kind == platform.KindConflict:
		code = "duplicate"
	case p.Kind == platform.KindRateLimited:
		code = "throttled"
	case status >= 500:
		code = "transient"
	}
	writeOutcome(w, status, code, p.Detail)
}

// mustJSON encodes one of our own wire values.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("tddui: encoding an answer: " + err.Error()) // our own types always encode
	}
	return b
}
