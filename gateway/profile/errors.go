package profile

import "strings"

// Stable codes of a lookup the service will not run, as the API shows them.
const (
	// CodeBasisRequired: neither mandate_id nor consent_id.
	CodeBasisRequired = "basis_required"
	// CodeBasisConflict: both mandate_id and consent_id.
	CodeBasisConflict = "basis_conflict"
	// CodeBasisNotFound: no such mandate or consent for the tenant.
	CodeBasisNotFound = "basis_not_found"
	// CodeSourcesRequired: no source listed.
	CodeSourcesRequired = "sources_required"
	// CodeUnknownSource: a source no puller has the name of.
	CodeUnknownSource = "unknown_source"
	// CodeDuplicateSource: a source listed twice.
	CodeDuplicateSource = "duplicate_source"
	// CodeUnknownOperation: an operation the source does not offer.
	CodeUnknownOperation = "unknown_operation"
	// CodeValidationFailed: the identity or another field is invalid.
	CodeValidationFailed = "validation_failed"
)

// codeOrder ranks the codes a RequestError takes from its first problem of
// that code: the basis first, then the sources, then the fields.
var codeOrder = []string{
	CodeBasisRequired, CodeBasisConflict, CodeBasisNotFound, CodeSourcesRequired, CodeUnknownSource,
	CodeDuplicateSource, CodeUnknownOperation, CodeValidationFailed,
}

// FieldProblem is one invalid field of a request.
type FieldProblem struct {
	// Field is the JSON path, e.g. identity.birth_date or sources[1].name.
	Field string
	// Code is stable: one of the Code constants, or for identity fields the
	// canonical model's (required, invalid_format, ...).
	Code string
	// Detail explains, in English, without quoting the value.
	Detail string
}

// RequestError is a lookup the service will not run. Code is the most
// important of its problems' codes (the basis first), Field that problem's
// field; Problems lists them all.
type RequestError struct {
	Code     string
	Field    string
	Detail   string
	Problems []FieldProblem
}

func (e *RequestError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.Field + ": " + p.Code
	}
	return "profile: lookup refused: " + e.Code + " (" + strings.Join(parts, ", ") + ")"
}

// requestErrors collects problems, each with the request-level code it
// raises.
type requestErrors struct {
	problems []FieldProblem
	codes    []string
}

func (r *requestErrors) add(code, field, detail string) { r.addField(code, field, code, detail) }

func (r *requestErrors) addField(code, field, fieldCode, detail string) {
	r.problems = append(r.problems, FieldProblem{Field: field, Code: fieldCode, Detail: detail})
	r.codes = append(r.codes, code)
}

func (r *requestErrors) err() error {
	if len(r.problems) == 0 {
		return nil
	}
	for _, code := range codeOrder {
		for i, c := range r.codes {
			if c == code {
				return &RequestError{Code: code, Field: r.problems[i].Field, Detail: r.problems[i].Detail, Problems: r.problems}
			}
		}
	}
	return &RequestError{Code: CodeValidationFailed, Field: r.problems[0].Field, Detail: r.problems[0].Detail, Problems: r.problems}
}

func basisNotFound(field string) *RequestError {
	detail := "No mandate with this id for your organisation."
	if field == "consent_id" {
		detail = "No consent with this id for your organisation."
	}
	return &RequestError{Code: CodeBasisNotFound, Field: field, Detail: detail,
		Problems: []FieldProblem{{Field: field, Code: CodeBasisNotFound, Detail: detail}}}
}
