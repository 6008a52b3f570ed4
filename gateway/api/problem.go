package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
)

// Error is a failed request, rendered as an RFC 9457 problem.
type Error struct {
	Status int
	// Code is stable and English: clients switch on it.
	Code   string
	Title  string
	Detail string
	// Field is the JSON path of the offending field, when there is one.
	Field string
	// Offset is the byte offset of a syntax error in the body.
	Offset int64
	// Errors lists every invalid field of a validation failure.
	Errors []FieldProblem
	// Err is the internal cause: logged, never shown.
	Err error
}

// FieldProblem is one invalid field.
type FieldProblem struct {
	Field  string `json:"field"`
	Code   string `json:"code"`
	Detail string `json:"detail"`
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Code + ": " + e.Err.Error()
	}
	return e.Code + ": " + e.Detail
}

func (e *Error) Unwrap() error { return e.Err }

// problem is the wire form.
type problem struct {
	Type      string         `json:"type"`
	Title     string         `json:"title"`
	Status    int            `json:"status"`
	Code      string         `json:"code"`
	Detail    string         `json:"detail,omitempty"`
	Instance  string         `json:"instance,omitempty"`
	Field     string         `json:"field,omitempty"`
	Offset    *int64         `json:"offset,omitempty"`
	Errors    []FieldProblem `json:"errors,omitempty"`
	RequestID string         `json:"request_id"`
}

func problemType(code string) string {
	return "https://relais.dev/problems/" + strings.ReplaceAll(code, "_", "-")
}

// writeError renders err as a problem and logs it: server errors at Error
// level with their internal cause, client errors at Debug.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var e *Error
	if !errors.As(err, &e) {
		e = &Error{Status: http.StatusInternalServerError, Code: "internal_error", Title: "Internal error",
			Detail: "The request could not be completed; it is safe to retry with the same Idempotency-Key.", Err: err}
	}
	if e.Title == "" {
		e.Title = http.StatusText(e.Status)
	}
	reqID := requestID(r.Context())
	level := slog.LevelDebug
	if e.Status >= 500 {
		level = slog.LevelError
	}
	attrs := []slog.Attr{
		slog.String("request_id", reqID), slog.String("code", e.Code), slog.Int("status", e.Status),
		slog.String("method", r.Method), slog.String("path", r.URL.Path),
	}
	if e.Err != nil {
		attrs = append(attrs, slog.String("error", e.Err.Error()))
	}
	s.logger.LogAttrs(r.Context(), level, "request failed", attrs...)

	p := problem{
		Type: problemType(e.Code), Title: e.Title, Status: e.Status, Code: e.Code, Detail: e.Detail,
		Instance: r.URL.Path, Field: e.Field, Errors: e.Errors, RequestID: reqID,
	}
	if e.Offset > 0 {
		p.Offset = &e.Offset
	}
	if e.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="relais"`)
	}
	writeJSON(w, e.Status, "application/problem+json", p)
}

func writeJSON(w http.ResponseWriter, status int, contentType string, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		contentType = "application/problem+json"
		body = []byte(`{"type":"https://relais.dev/problems/internal-error","title":"Internal error","status":500,"code":"internal_error"}`)
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

func notFound(what string) *Error {
	return &Error{Status: http.StatusNotFound, Code: "not_found", Title: "Not found", Detail: "No " + what + " with this id for your tenant."}
}
