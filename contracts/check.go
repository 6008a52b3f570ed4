package contracts

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// check compares one answer with the case and the contract.
func (r *run) check(ctx context.Context, o *operation, c Case, req *http.Request, rsp *http.Response, body []byte) []Violation {
	var out []Violation
	if rsp.StatusCode != c.Status {
		out = append(out, Violation{Kind: KindStatus, Detail: fmt.Sprintf("answered %d, want %d%s", rsp.StatusCode, c.Status, excerpt(body))})
	}
	resp, ok := r.response(o, rsp.StatusCode)
	if !ok {
		return append(out, Violation{Kind: KindStatus, Detail: fmt.Sprintf("status %d is not documented for %s", rsp.StatusCode, o.id)})
	}

	out = append(out, checkHeaders(resp, rsp.Header, r.doc.IsOpenAPI31OrLater())...)
	if rsp.StatusCode >= 200 && rsp.StatusCode < 300 && documentsHeader(resp, "RateLimit-Limit") {
		out = append(out, checkRateLimit(rsp.Header)...)
	}

	if len(resp.Content) == 0 {
		return out
	}
	ct := rsp.Header.Get("Content-Type")
	mt := resp.Content.Get(ct)
	if mt == nil {
		return append(out, Violation{Kind: KindContentType, Path: "Content-Type",
			Detail: fmt.Sprintf("%q is not documented for %d (documented: %s)", ct, rsp.StatusCode, strings.Join(slices.Sorted(maps.Keys(resp.Content)), ", "))})
	}
	if mt.Schema == nil {
		return out
	}

	var decoded any
	jsonBody := isJSON(ct)
	if jsonBody {
		v, err := decodeJSON(body)
		if err != nil {
			return append(out, Violation{Kind: KindBody, Path: "$", Detail: err.Error() + excerpt(body)})
		}
		decoded = v
	}
	out = append(out, r.validateBody(ctx, o, req, rsp, resp, body, decoded)...)

	if jsonBody {
		changes := Compare(mt.Schema, mediaExamples(mt), decoded)
		for _, ch := range changes {
			ch.Case, ch.Operation, ch.Status = c.Name, o.id, rsp.StatusCode
			r.changes = append(r.changes, ch)
			out = append(out, Violation{Kind: ch.Kind, Path: ch.Path, Detail: fmt.Sprintf("want %s, got %s", ch.Want, ch.Got)})
		}
	}
	return out
}

// validateBody runs openapi3filter.ValidateResponse on the body alone (the
// headers are checked by checkHeaders, which does not stop at the first)
// and turns each schema error into a violation with its JSONPath.
func (r *run) validateBody(ctx context.Context, o *operation, req *http.Request, rsp *http.Response, resp *openapi3.Response, body []byte, decoded any) []Violation {
	bare := *resp
	bare.Headers = nil
	op := *o.op
	op.Responses = openapi3.NewResponses()
	op.Responses.Set(strconv.Itoa(rsp.StatusCode), &openapi3.ResponseRef{Value: &bare})
	route := &routers.Route{Spec: r.doc, Path: o.path, PathItem: o.item, Method: o.method, Operation: &op}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, Route: route},
		Status:                 rsp.StatusCode,
		Header:                 rsp.Header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	err := openapi3filter.ValidateResponse(ctx, in)
	if err == nil {
		return nil
	}
	var re *openapi3filter.ResponseError
	if errors.As(err, &re) && re.Err != nil {
		var leaves []*openapi3.SchemaError
		var others []error
		flattenSchemaErrors(re.Err, &leaves, &others)
		if len(leaves) > 0 || len(others) > 0 {
			var out []Violation
			for _, se := range leaves {
				out = append(out, Violation{Kind: KindSchema, Path: pointerPath(decoded, se.JSONPointer()).String(), Detail: schemaReason(se)})
			}
			for _, e := range others {
				kind := KindSchema
				if strings.Contains(re.Reason, "decode") {
					kind = KindBody
				}
				out = append(out, Violation{Kind: kind, Path: "$", Detail: re.Reason + ": " + e.Error()})
			}
			return out
		}
	}
	return []Violation{{Kind: KindSchema, Path: "$", Detail: err.Error()}}
}

// flattenSchemaErrors collects the innermost schema errors of err.
func flattenSchemaErrors(err error, leaves *[]*openapi3.SchemaError, others *[]error) {
	var me openapi3.MultiError
	switch e := err.(type) {
	case openapi3.MultiError:
		for _, sub := range e {
			flattenSchemaErrors(sub, leaves, others)
		}
		return
	case *openapi3.SchemaError:
		if e.Origin != nil && errors.As(e.Origin, &me) && len(me) > 0 {
			before := len(*leaves) + len(*others)
			for _, sub := range me {
				flattenSchemaErrors(sub, leaves, others)
			}
			if len(*leaves)+len(*others) > before {
				return
			}
		}
		*leaves = append(*leaves, e)
		return
	}
	if errors.As(err, &me) {
		flattenSchemaErrors(me, leaves, others)
		return
	}
	*others = append(*others, err)
}

// schemaReason is the reason of a schema error without the location the
// JSON Schema 2020 validator puts in front (the violation has the path).
func schemaReason(se *openapi3.SchemaError) string {
	reason := se.Reason
	if reason == "" {
		reason = fmt.Sprintf("does not match the schema's %q", se.SchemaField)
	}
	if rest, ok := strings.CutPrefix(reason, "error at \""); ok {
		if i := strings.Index(rest, "\": "); i >= 0 {
			reason = rest[i+3:]
		}
	}
	if rest, ok := strings.CutPrefix(reason, "at '"); ok {
		if i := strings.Index(rest, "': "); i >= 0 {
			reason = rest[i+3:]
		}
	}
	return reason
}

// checkHeaders checks every header the response documents: present when
// required, valid against its schema when present.
func checkHeaders(resp *openapi3.Response, h http.Header, jsonSchema2020 bool) []Violation {
	var out []Violation
	var opts []openapi3.SchemaValidationOption
	if jsonSchema2020 {
		opts = append(opts, openapi3.EnableJSONSchema2020())
	}
	for _, name := range slices.Sorted(maps.Keys(resp.Headers)) {
		if strings.EqualFold(name, "Content-Type") {
			continue
		}
		ref := resp.Headers[name]
		if ref == nil || ref.Value == nil {
			continue
		}
		hdr := ref.Value
		values := h.Values(name)
		if len(values) == 0 {
			if hdr.Required {
				out = append(out, Violation{Kind: KindHeader, Path: name, Detail: "required header missing"})
			}
			continue
		}
		if hdr.Schema == nil || hdr.Schema.Value == nil {
			continue
		}
		value, err := headerValue(hdr.Schema.Value, strings.Join(values, ","))
		if err == nil {
			err = hdr.Schema.Value.VisitJSON(value, opts...)
		}
		if err != nil {
			out = append(out, Violation{Kind: KindHeader, Path: name, Detail: fmt.Sprintf("value %q breaks its schema: %s", truncate(strings.Join(values, ","), 60), firstLine(err.Error()))})
		}
	}
	return out
}

// headerValue decodes a header value as its schema's type (simple style).
func headerValue(s *openapi3.Schema, raw string) (any, error) {
	raw = strings.TrimSpace(raw)
	types := schemaTypes(s)
	switch {
	case types["integer"]:
		i, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("not an integer")
		}
		return float64(i), nil
	case types["number"]:
		f, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			return nil, fmt.Errorf("not a number")
		}
		return f, nil
	case types["boolean"]:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return nil, fmt.Errorf("not a boolean")
		}
		return b, nil
	case types["array"]:
		parts := strings.Split(raw, ",")
		out := make([]any, 0, len(parts))
		for _, p := range parts {
			out = append(out, strings.TrimSpace(p))
		}
		return out, nil
	}
	return raw, nil
}

func documentsHeader(resp *openapi3.Response, name string) bool {
	for k := range resp.Headers {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

// checkRateLimit checks the RateLimit-* headers of a success: integers,
// with Remaining <= Limit.
func checkRateLimit(h http.Header) []Violation {
	var out []Violation
	vals := map[string]int64{}
	for _, name := range []string{"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"} {
		raw := h.Get(name)
		if raw == "" {
			if name != "RateLimit-Reset" {
				out = append(out, Violation{Kind: KindHeader, Path: name, Detail: "the contract documents rate-limit headers; this one is missing"})
			}
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
		if err != nil || n < 0 {
			out = append(out, Violation{Kind: KindHeader, Path: name, Detail: fmt.Sprintf("%q is not a non-negative integer", truncate(raw, 40))})
			continue
		}
		vals[name] = n
	}
	limit, okL := vals["RateLimit-Limit"]
	remaining, okR := vals["RateLimit-Remaining"]
	if okL && okR && remaining > limit {
		out = append(out, Violation{Kind: KindHeader, Path: "RateLimit-Remaining", Detail: fmt.Sprintf("remaining %d is above the limit %d", remaining, limit)})
	}
	return out
}

// excerpt quotes the start of a body for a violation's detail.
func excerpt(body []byte) string {
	if len(body) == 0 {
		return ""
	}
	return ": " + strconv.Quote(truncate(string(body), 160))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
