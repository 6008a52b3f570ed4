package platform

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
)

// validationOptions are the kin-openapi options of request and response
// validation. Authentication is Config.Authenticate's business, and the
// handler sees the request as sent (no defaults filled in).
func validationOptions() (req, resp openapi3filter.Options) {
	req = openapi3filter.Options{
		AuthenticationFunc:  openapi3filter.NoopAuthenticationFunc,
		SkipSettingDefaults: true,
	}
	resp = openapi3filter.Options{
		AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
		IncludeResponseStatus: true,
	}
	return req, resp
}

// invalidRequest turns a kin-openapi request validation error into the
// Problem the platform answers with. Detail names the parameter or body
// field and the broken rule, never the value sent (it may be personal data).
func invalidRequest(opID string, err error) Problem {
	p := Problem{Kind: KindInvalidRequest, Status: http.StatusBadRequest, OperationID: opID, Detail: "The request does not match the contract."}
	re, ok := errors.AsType[*openapi3filter.RequestError](err)
	if !ok {
		return p
	}
	se, isSchema := errors.AsType[*openapi3.SchemaError](re.Err)
	switch {
	case re.Parameter != nil:
		p.Parameter = re.Parameter.Name
		where := fmt.Sprintf("%s parameter %q", re.Parameter.In, re.Parameter.Name)
		switch {
		case errors.Is(re.Err, openapi3filter.ErrInvalidRequired):
			p.Detail = "The required " + where + " is missing."
		case isSchema:
			p.Detail = fmt.Sprintf("The %s does not match its schema (%s).", where, schemaRule(se))
		default:
			p.Detail = fmt.Sprintf("The %s cannot be parsed.", where)
		}
	case re.RequestBody != nil:
		switch {
		case errors.Is(re.Err, openapi3filter.ErrInvalidRequired):
			p.Detail = "The request body is required."
		case isSchema:
			p.Parameter = schemaPointer(se)
			if se.SchemaField == "required" {
				p.Detail = fmt.Sprintf("The body field %s is missing.", orRoot(p.Parameter))
			} else {
				p.Detail = fmt.Sprintf("The body field %s does not match its schema (%s).", orRoot(p.Parameter), schemaRule(se))
			}
		case re.Err == nil && re.Reason != "":
			// kin's own reasons (content type) quote no request data.
			p.Detail = "The request body is refused: " + re.Reason + "."
			p.Status = http.StatusUnsupportedMediaType
		default:
			p.Detail = "The request body cannot be parsed as " + mediaType(re.Input) + "."
		}
	}
	return p
}

func orRoot(ptr string) string {
	if ptr == "" {
		return "(the body itself)"
	}
	return ptr
}

func mediaType(in *openapi3filter.RequestValidationInput) string {
	if in == nil || in.Request == nil {
		return "declared"
	}
	ct, _, _ := strings.Cut(in.Request.Header.Get("Content-Type"), ";")
	if ct = strings.TrimSpace(ct); ct == "" {
		return "declared"
	}
	return ct
}

// schemaRule is the schema keyword a value broke, for Detail.
func schemaRule(se *openapi3.SchemaError) string {
	if se.SchemaField == "" {
		return "schema"
	}
	return se.SchemaField
}

// schemaPointer is the JSON pointer of the field a SchemaError is about.
// With the JSON Schema 2020-12 validator (OpenAPI 3.1) a missing required
// property is reported at its parent object: the property is appended.
func schemaPointer(se *openapi3.SchemaError) string {
	var b strings.Builder
	for _, tok := range se.JSONPointer() {
		b.WriteByte('/')
		b.WriteString(escapePointer(tok))
	}
	if se.SchemaField == "required" {
		if verr, ok := errors.AsType[*jsonschema.ValidationError](se); ok {
			if missing := firstMissing(verr); missing != "" {
				b.WriteByte('/')
				b.WriteString(escapePointer(missing))
			}
		}
	}
	return b.String()
}

// firstMissing is the first missing property of a "required" failure.
func firstMissing(verr *jsonschema.ValidationError) string {
	for verr != nil {
		if req, ok := verr.ErrorKind.(*kind.Required); ok && len(req.Missing) > 0 {
			return req.Missing[0]
		}
		if len(verr.Causes) == 0 {
			return ""
		}
		verr = verr.Causes[0]
	}
	return ""
}

func escapePointer(tok string) string {
	if !strings.ContainsAny(tok, "~/") {
		return tok
	}
	return strings.ReplaceAll(strings.ReplaceAll(tok, "~", "~0"), "/", "~1")
}

// validateRequest validates the request of in, whose body is body, against
// the contract: kin-openapi validates its parameters (and, for an OpenAPI
// 3.0 contract, its body), the compiled validators its body. It returns
// nil when the request is valid.
func (c *contract) validateRequest(ctx context.Context, in *openapi3filter.RequestValidationInput, opID string, body []byte) *Problem {
	if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
		p := invalidRequest(opID, err)
		return &p
	}
	if c.bodies == nil {
		return nil
	}
	rb := in.Route.Operation.RequestBody
	if rb == nil || rb.Value == nil {
		return nil
	}
	return c.bodies.checkRequest(ctx, in, opID, rb.Value, body)
}

// validateResponse validates an answer to the request of in against the
// contract: kin-openapi its status and headers (and, for an OpenAPI 3.0
// contract, its body), the compiled validators its body.
func (c *contract) validateResponse(ctx context.Context, in *openapi3filter.RequestValidationInput, status int, header http.Header, body []byte) error {
	err := openapi3filter.ValidateResponse(ctx, &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 status,
		Header:                 header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                &c.respOpts,
	})
	if err != nil || c.bodies == nil {
		return err
	}
	return c.bodies.checkResponse(ctx, in, status, header, body)
}

// checkAnswer validates an answer against the contract and counts (and
// logs) a violation.
func (s *Server) checkAnswer(ctx context.Context, in *openapi3filter.RequestValidationInput, op *operation, status int, header http.Header, body []byte) {
	err := s.c.validateResponse(ctx, in, status, header, body)
	if err == nil {
		return
	}
	s.stats.responseViolations.Add(1)
	if s.cfg.Logger != nil {
		s.cfg.Logger.WarnContext(ctx, "mock answer breaks the contract",
			"platform", s.cfg.Name, "operation", op.id, "status", status, "error", err.Error())
	}
}
