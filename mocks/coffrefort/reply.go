package coffrefort

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
)

const (
	contentTypeJSON    = "application/json"
	contentTypeProblem = "application/problem+json"

	headerIdempotencyKey = "Idempotency-Key"
	// headerReplayed is set (canonical form) on the replay of a request
	// whose Idempotency-Key was already processed.
	headerReplayed = "Idempotent-Replayed"

	// maxJSONBody bounds JSON request bodies.
	maxJSONBody = 1 << 20
)

// problem is an RFC 9457 problem details body, API-Platform style.
type problem struct {
	Type       string      `json:"type"`
	Title      string      `json:"title"`
	Status     int         `json:"status"`
	Detail     string      `json:"detail"`
	Violations []violation `json:"violations,omitempty"`
	// ExistingID names the beneficiary that already holds a distant_id
	// (409 only).
	ExistingID int64 `json:"existing_id,omitempty"`
}

type violation struct {
	PropertyPath string `json:"propertyPath"`
	Message      string `json:"message"`
}

// Violation messages, in Symfony's words.
const (
	msgNotBlank    = "This value should not be blank."
	msgInvalid     = "This value is not valid."
	msgInvalidDate = "This value is not a valid date."
	msgEmail       = "This value is not a valid email address."
)

func jsonReply(status int, v any) reply {
	body, err := json.Marshal(v)
	if err != nil {
		// Only our own wire types are marshalled; this cannot happen.
		panic(fmt.Sprintf("coffrefort: encoding reply: %v", err))
	}
	return reply{status: status, contentType: contentTypeJSON, body: body}
}

func problemReplyOf(p problem) reply {
	if p.Type == "" {
		p.Type = "/errors/" + strconv.Itoa(p.Status)
	}
	if p.Title == "" {
		p.Title = "An error occurred"
	}
	rp := jsonReply(p.Status, p)
	rp.contentType = contentTypeProblem
	return rp
}

func problemReply(status int, detail string) reply {
	return problemReplyOf(problem{Status: status, Detail: detail})
}

func validationReply(vs []violation) reply {
	msgs := make([]string, len(vs))
	for i, v := range vs {
		msgs[i] = v.PropertyPath + ": " + v.Message
	}
	return problemReplyOf(problem{
		Type:       "/validation_errors/" + strconv.Itoa(http.StatusUnprocessableEntity),
		Title:      "Validation failed",
		Status:     http.StatusUnprocessableEntity,
		Detail:     strings.Join(msgs, "\n"),
		Violations: vs,
	})
}

// jwtError is the body of a 401 on /api/v3, lexik-JWT style.
type jwtError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// hasMediaType reports whether the Content-Type of r is one of types.
func hasMediaType(r *http.Request, types ...string) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return false
	}
	for _, t := range types {
		if mt == t {
			return true
		}
	}
	return false
}

// decodeJSON strictly decodes the body of c into v: one JSON value, no
// unknown field, at most maxJSONBody bytes. On failure it returns the reply
// to send.
func decodeJSON(c *call, v any, types ...string) (reply, bool) {
	if len(types) == 0 {
		types = []string{contentTypeJSON}
	}
	if !hasMediaType(c.r, types...) {
		return problemReply(http.StatusUnsupportedMediaType, fmt.Sprintf("The content-type %q is not supported. Supported MIME types are %q.", c.r.Header.Get("Content-Type"), strings.Join(types, `", "`))), false
	}
	body, err := io.ReadAll(io.LimitReader(c.r.Body, maxJSONBody+1))
	if err != nil {
		return problemReply(http.StatusBadRequest, "Reading the body: "+err.Error()), false
	}
	if len(body) > maxJSONBody {
		return problemReply(http.StatusRequestEntityTooLarge, fmt.Sprintf("The body exceeds %d bytes.", maxJSONBody)), false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err = dec.Decode(v)
	if err == nil {
		if _, tokErr := dec.Token(); !errors.Is(tokErr, io.EOF) {
			err = errors.New("trailing data after the JSON value")
		}
	}
	if err == nil {
		return reply{}, true
	}
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typeErr):
		return problemReply(http.StatusBadRequest, fmt.Sprintf("The type of the %q attribute must be %q, %q given.", typeErr.Field, typeErr.Type.String(), typeErr.Value)), false
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return problemReply(http.StatusBadRequest, fmt.Sprintf("Extra attributes are not allowed (%s is unknown).", strings.TrimPrefix(err.Error(), "json: unknown field "))), false
	default:
		return problemReply(http.StatusBadRequest, "Syntax error: "+err.Error()), false
	}
}
