package platform

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"go.yaml.in/yaml/v3"
)

// Bodies of OpenAPI 3.1 contracts are validated here rather than by
// kin-openapi: for a 3.1 document, kin v0.153 marshals the schema and
// compiles a JSON Schema 2020-12 validator on every call (70% of a
// request's cost). bodySchemas compiles each body schema of the contract
// once, with the same library kin uses (santhosh-tekuri/jsonschema/v6):
// the whole contract is one resource, each schema is compiled at its JSON
// pointer ("#/paths/~1letters/post/requestBody/content/application~1json/schema"),
// so "$ref: '#/components/schemas/X'" resolves natively and shared
// components are compiled once.
//
// Format assertions follow kin's: a format is asserted when kin knows it
// (openapi3.SchemaStringFormats, SchemaIntegerFormats, SchemaNumberFormats:
// date, date-time, byte, int32, int64 by default); others (uri, email,
// binary, ...) are annotations.
//
// JSON bodies (application/json and any +json type) are decoded here
// (unlike kin, which reads the first value, data after the JSON value is
// refused); multipart and form bodies with kin's own decoders, to the
// value kin would validate. Any other media type, a binary schema, or a schema the
// compiler refuses is left to kin (slower, same verdict as before).

// contractURL is the base URL of the contract resource. Nothing is ever
// fetched from it: the compiler has no loader for https.
const contractURL = "https://contract.relais.invalid/openapi.json"

// bodySchemas holds the compiled body validators of a contract.
type bodySchemas struct {
	// byMedia maps a media type object of the loaded document (a request
	// body's or a response's) to its compiled schema.
	byMedia map[*openapi3.MediaType]*jsonschema.Schema
	// uncompiled lists the schema locations left to kin, with the reason.
	uncompiled []string
	// doc is the loaded document, for kin's own validation of what
	// byMedia lacks (with its 3.1 validator).
	doc *openapi3.T
	// fullRespOpts are the response options of that validation.
	fullRespOpts openapi3filter.Options
}

// compileBodies compiles the body schemas of doc, whose JSON-compatible
// form is raw.
func compileBodies(doc *openapi3.T, raw any) (*bodySchemas, error) {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	formats := map[string]bool{}
	collectFormats(raw, formats)
	for name := range formats {
		c.RegisterFormat(kinFormat(name))
	}
	if len(formats) > 0 {
		c.AssertFormat()
	}
	if err := c.AddResource(contractURL, raw); err != nil {
		return nil, fmt.Errorf("adding the contract to the JSON Schema compiler: %w", err)
	}
	b := &bodySchemas{byMedia: map[*openapi3.MediaType]*jsonschema.Schema{}, doc: doc}
	_, b.fullRespOpts = validationOptions()
	paths := doc.Paths.InMatchingOrder()
	slices.Sort(paths)
	for _, path := range paths {
		for method, o := range doc.Paths.Value(path).Operations() {
			at := []string{"paths", path, strings.ToLower(method)}
			if o.RequestBody != nil && o.RequestBody.Value != nil {
				b.compileContent(c, raw, append(slices.Clone(at), "requestBody"), o.RequestBody.Value.Content)
			}
			if o.Responses == nil {
				continue
			}
			for code, r := range o.Responses.Map() {
				if r.Value != nil {
					b.compileContent(c, raw, append(slices.Clone(at), "responses", code), r.Value.Content)
				}
			}
		}
	}
	slices.Sort(b.uncompiled)
	return b, nil
}

// compileContent compiles the schemas of content, found at the location at
// of raw (references followed).
func (b *bodySchemas) compileContent(c *jsonschema.Compiler, raw any, at []string, content openapi3.Content) {
	if len(content) == 0 {
		return
	}
	ptr, ok := locate(raw, at)
	if !ok {
		b.uncompiled = append(b.uncompiled, pointerString(at)+": not found in the contract text")
		return
	}
	for name, mt := range content {
		if mt == nil || mt.Schema == nil || b.byMedia[mt] != nil {
			continue
		}
		loc := pointerString(append(slices.Clone(ptr), "content", name, "schema"))
		sch, err := c.Compile(contractURL + "#" + loc)
		if err != nil {
			b.uncompiled = append(b.uncompiled, loc+": "+err.Error())
			continue
		}
		b.byMedia[mt] = sch
	}
}

// locate follows the tokens from the root of raw and returns the pointer
// of the object they lead to, following OpenAPI references ($ref to
// "#/...") on the way and at the end.
func locate(raw any, tokens []string) ([]string, bool) {
	node, ptr, ok := raw, []string(nil), true
	for _, tok := range tokens {
		if node, ptr, ok = deref(raw, node, ptr); !ok {
			return nil, false
		}
		m, isMap := node.(map[string]any)
		if !isMap {
			return nil, false
		}
		if node, ok = m[tok]; !ok {
			return nil, false
		}
		ptr = append(ptr, tok)
	}
	_, ptr, ok = deref(raw, node, ptr)
	return ptr, ok
}

// maxRefHops bounds a chain of references.
const maxRefHops = 32

// deref follows node's "$ref" (if any, repeatedly) within raw.
func deref(raw, node any, ptr []string) (any, []string, bool) {
	for range maxRefHops {
		m, isMap := node.(map[string]any)
		if !isMap {
			return node, ptr, true
		}
		ref, isRef := m["$ref"].(string)
		if !isRef {
			return node, ptr, true
		}
		frag, internal := strings.CutPrefix(ref, "#")
		if !internal {
			return nil, nil, false
		}
		frag, err := url.PathUnescape(frag)
		if err != nil {
			return nil, nil, false
		}
		if ptr, err = splitPointer(frag); err != nil {
			return nil, nil, false
		}
		if node, err = lookupPointer(raw, ptr); err != nil {
			return nil, nil, false
		}
	}
	return nil, nil, false
}

// lookupPointer is the value at tokens in raw.
func lookupPointer(raw any, tokens []string) (any, error) {
	node := raw
	for _, tok := range tokens {
		switch n := node.(type) {
		case map[string]any:
			v, ok := n[tok]
			if !ok {
				return nil, fmt.Errorf("no member %q", tok)
			}
			node = v
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(n) {
				return nil, fmt.Errorf("no element %q", tok)
			}
			node = n[i]
		default:
			return nil, fmt.Errorf("no member %q in a scalar", tok)
		}
	}
	return node, nil
}

// pointerString writes tokens as a JSON pointer, each token escaped for
// the pointer and for a URL fragment.
func pointerString(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(escapePointer(t)))
	}
	return b.String()
}

// collectFormats adds every "format" string of node to formats.
func collectFormats(node any, formats map[string]bool) {
	switch n := node.(type) {
	case map[string]any:
		if f, ok := n["format"].(string); ok && f != "" {
			formats[f] = true
		}
		for _, v := range n {
			collectFormats(v, formats)
		}
	case []any:
		for _, v := range n {
			collectFormats(v, formats)
		}
	}
}

// kinFormat asserts format name the way kin-openapi does: with the string,
// integer or number validator kin has for it, nothing when it has none.
func kinFormat(name string) *jsonschema.Format {
	str := openapi3.SchemaStringFormats[name]
	integer := openapi3.SchemaIntegerFormats[name]
	number := openapi3.SchemaNumberFormats[name]
	numeric := func(f float64) error {
		if integer != nil && f == math.Trunc(f) && !math.IsInf(f, 0) {
			return integer.Validate(int64(f))
		}
		if number != nil {
			return number.Validate(f)
		}
		return nil
	}
	return &jsonschema.Format{Name: name, Validate: func(v any) error {
		switch v := v.(type) {
		case string:
			if str != nil {
				return str.Validate(v)
			}
		case json.Number:
			if f, err := v.Float64(); err == nil {
				return numeric(f)
			}
		case float64:
			return numeric(v)
		case int64:
			return numeric(float64(v))
		case int:
			return numeric(float64(v))
		}
		return nil
	}}
}

// rawDocument parses a contract (YAML or JSON) into JSON-compatible values
// (map[string]any, []any, string, json.Number, bool, nil), the form the
// JSON Schema compiler reads.
func rawDocument(data []byte) (any, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("parsing contract for the JSON Schema compiler: %w", err)
	}
	v, err := jsonValue(&root, 0)
	if err != nil {
		return nil, fmt.Errorf("converting contract for the JSON Schema compiler: %w", err)
	}
	return v, nil
}

// maxYAMLDepth bounds the nesting (and alias expansion) of a contract.
const maxYAMLDepth = 1000

// jsonValue converts a YAML node to a JSON-compatible value.
func jsonValue(n *yaml.Node, depth int) (any, error) {
	if depth > maxYAMLDepth {
		return nil, fmt.Errorf("line %d: nested too deeply", n.Line)
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return jsonValue(n.Content[0], depth+1)
	case yaml.AliasNode:
		return jsonValue(n.Alias, depth+1)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := jsonValue(c, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		var merges []*yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.ShortTag() == "!!merge" {
				merges = append(merges, v)
				continue
			}
			if k.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: a mapping key must be a scalar", k.Line)
			}
			val, err := jsonValue(v, depth+1)
			if err != nil {
				return nil, err
			}
			out[k.Value] = val
		}
		// Merged mappings ("<<: *base") never override explicit keys.
		for _, m := range merges {
			srcs := []*yaml.Node{m}
			if m.Kind == yaml.SequenceNode {
				srcs = m.Content
			}
			for _, src := range srcs {
				v, err := jsonValue(src, depth+1)
				if err != nil {
					return nil, err
				}
				mm, ok := v.(map[string]any)
				if !ok {
					return nil, fmt.Errorf("line %d: a merge key needs a mapping", m.Line)
				}
				for k, x := range mm {
					if _, set := out[k]; !set {
						out[k] = x
					}
				}
			}
		}
		return out, nil
	case yaml.ScalarNode:
		return jsonScalar(n)
	}
	return nil, fmt.Errorf("line %d: unexpected YAML node", n.Line)
}

// jsonScalar converts a YAML scalar by its resolved tag.
func jsonScalar(n *yaml.Node) (any, error) {
	switch n.ShortTag() {
	case "!!null":
		return nil, nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
		}
		return b, nil
	case "!!int":
		var i int64
		if err := n.Decode(&i); err == nil {
			return json.Number(strconv.FormatInt(i, 10)), nil
		}
		var u uint64
		if err := n.Decode(&u); err == nil {
			return json.Number(strconv.FormatUint(u, 10)), nil
		}
		return nil, fmt.Errorf("line %d: integer %q out of range", n.Line, n.Value)
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
		}
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, fmt.Errorf("line %d: %s is not a JSON number", n.Line, n.Value)
		}
		return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), nil
	default: // !!str, !!timestamp, !!binary and custom tags: the text
		return n.Value, nil
	}
}

// mediaTypeOf is the lowercased media type of a Content-Type, without
// parameters.
func mediaTypeOf(contentType string) string {
	mt, _, _ := strings.Cut(contentType, ";")
	return strings.ToLower(strings.TrimSpace(mt))
}

// errNotDecoded says a body is left to kin-openapi.
var errNotDecoded = errors.New("body left to kin-openapi")

// decode decodes body of media type mt (declared by mto) into the value
// its compiled schema validates, or returns errNotDecoded when kin must
// validate it.
func (b *bodySchemas) decode(mto *openapi3.MediaType, header http.Header, body []byte) (*jsonschema.Schema, any, error) {
	sch := b.byMedia[mto]
	if sch == nil || isBinarySchema(mto.Schema) {
		return nil, nil, errNotDecoded
	}
	mt := mediaTypeOf(header.Get("Content-Type"))
	switch {
	case isJSON(mt):
		v, err := decodeJSON(body)
		return sch, v, err
	case mt == "multipart/form-data" || mt == "application/x-www-form-urlencoded":
		dec := openapi3filter.RegisteredBodyDecoder(mt)
		if dec == nil {
			return nil, nil, errNotDecoded
		}
		encFn := func(name string) *openapi3.Encoding { return mto.Encoding[name] }
		v, err := dec(bytes.NewReader(body), header, mto.Schema, encFn)
		return sch, v, err
	}
	return nil, nil, errNotDecoded
}

// isBinarySchema reports a schema kin reads as raw bytes.
func isBinarySchema(s *openapi3.SchemaRef) bool {
	return s != nil && s.Value != nil && s.Value.Type.Is("string") && s.Value.Format == "binary"
}

// decodeJSON decodes one JSON value (numbers as json.Number); anything but
// white space after it is an error.
func decodeJSON(body []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("decoding JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("decoding JSON: data after the value")
	}
	return v, nil
}

// checkRequest validates the body of a request routed to opID against rb.
// It returns nil when the body is valid.
func (b *bodySchemas) checkRequest(ctx context.Context, in *openapi3filter.RequestValidationInput, opID string, rb *openapi3.RequestBody, body []byte) *Problem {
	p := &Problem{Kind: KindInvalidRequest, Status: http.StatusBadRequest, OperationID: opID}
	if len(body) == 0 {
		if !rb.Required {
			return nil
		}
		p.Detail = "The request body is required."
		return p
	}
	if len(rb.Content) == 0 {
		return nil
	}
	ct := in.Request.Header.Get("Content-Type")
	mto := rb.Content.Get(ct)
	if mto == nil {
		p.Status = http.StatusUnsupportedMediaType
		p.Detail = fmt.Sprintf("The request body is refused: header Content-Type has unexpected value %q.", ct)
		return p
	}
	if mto.Schema == nil {
		return nil
	}
	sch, v, err := b.decode(mto, in.Request.Header, body)
	switch {
	case errors.Is(err, errNotDecoded):
		if err := openapi3filter.ValidateRequestBody(ctx, b.withDocument(in), rb); err != nil {
			kp := invalidRequest(opID, err)
			return &kp
		}
		return nil
	case err != nil:
		p.Detail = "The request body cannot be parsed as " + mediaType(in) + "."
		return p
	}
	verr := sch.Validate(v)
	if verr == nil {
		return nil
	}
	f := failure(verr)
	p.Parameter = f.pointer
	switch f.keyword {
	case "required":
		p.Detail = fmt.Sprintf("The body field %s is missing.", orRoot(f.pointer))
	case "additionalProperties":
		p.Detail = fmt.Sprintf("The body field %s is not allowed (additionalProperties).", orRoot(f.pointer))
	default:
		p.Detail = fmt.Sprintf("The body field %s does not match its schema (%s).", orRoot(f.pointer), f.keyword)
	}
	return p
}

// withDocument returns in with a route whose document is the loaded one,
// so kin validates with its 3.1 validator (the router's copy may claim
// 3.0.3).
func (b *bodySchemas) withDocument(in *openapi3filter.RequestValidationInput) *openapi3filter.RequestValidationInput {
	route := *in.Route
	route.Spec = b.doc
	cp := *in
	cp.Route = &route
	return &cp
}

// checkResponse validates the body of an answer to the request of in;
// kin-openapi has validated its status and headers.
func (b *bodySchemas) checkResponse(ctx context.Context, in *openapi3filter.RequestValidationInput, status int, header http.Header, body []byte) error {
	if in.Request.Method == http.MethodHead {
		return nil
	}
	switch status {
	case http.StatusNotModified, http.StatusPermanentRedirect, http.StatusTemporaryRedirect, http.StatusMovedPermanently:
		return nil // never validated by kin either
	}
	responses := in.Route.Operation.Responses
	if responses.Len() == 0 {
		return nil
	}
	ref := responses.Status(status)
	if ref == nil {
		ref = responses.Default()
	}
	if ref == nil || ref.Value == nil || len(ref.Value.Content) == 0 {
		return nil // an undocumented status was reported by kin
	}
	ct := header.Get("Content-Type")
	mto := ref.Value.Content.Get(ct)
	if mto == nil {
		return fmt.Errorf("response header Content-Type has unexpected value %q", ct)
	}
	if mto.Schema == nil {
		return nil
	}
	sch, v, err := b.decode(mto, header, body)
	switch {
	case errors.Is(err, errNotDecoded):
		return openapi3filter.ValidateResponse(ctx, &openapi3filter.ResponseValidationInput{
			RequestValidationInput: b.withDocument(in),
			Status:                 status,
			Header:                 header,
			Body:                   io.NopCloser(bytes.NewReader(body)),
			Options:                &b.fullRespOpts,
		})
	case err != nil:
		return fmt.Errorf("decoding response body: %w", err)
	}
	if verr := sch.Validate(v); verr != nil {
		f := failure(verr)
		return fmt.Errorf("response body doesn't match the schema at %s (%s): %s", orRoot(f.pointer), f.keyword, f.message)
	}
	return nil
}

// bodyFailure is the failure a body error is reported by.
type bodyFailure struct {
	pointer string // JSON pointer of the field
	keyword string // the schema keyword it breaks
	message string // the validator's message (may quote the value: logs only)
	depth   int
}

// failure picks the deepest cause of err (a *jsonschema.ValidationError):
// the one whose field is the most nested (a missing required property or a
// property refused by additionalProperties counting as its own field), the
// first in pointer order among equals, so the answer does not depend on
// the order the validator visited the properties in.
func failure(err error) bodyFailure {
	verr, ok := errors.AsType[*jsonschema.ValidationError](err)
	if !ok {
		return bodyFailure{keyword: "schema", message: err.Error()}
	}
	var best *bodyFailure
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				walk(c)
			}
			return
		}
		f := leafFailure(e)
		if best == nil || f.depth > best.depth || (f.depth == best.depth && f.pointer < best.pointer) {
			best = &f
		}
	}
	walk(verr)
	return *best
}

// leafFailure describes one cause without causes.
func leafFailure(e *jsonschema.ValidationError) bodyFailure {
	loc := e.InstanceLocation
	keyword := "schema"
	if kp := e.ErrorKind.KeywordPath(); len(kp) > 0 {
		keyword = kp[len(kp)-1]
	}
	switch k := e.ErrorKind.(type) {
	case *kind.Required:
		if len(k.Missing) > 0 {
			loc = append(slices.Clone(loc), k.Missing[0])
		}
	case *kind.AdditionalProperties:
		if len(k.Properties) > 0 {
			loc = append(slices.Clone(loc), slices.Min(k.Properties))
		}
	}
	var b strings.Builder
	for _, tok := range loc {
		b.WriteByte('/')
		b.WriteString(escapePointer(tok))
	}
	msg := e.Error()
	if _, after, ok := strings.Cut(msg, "\n- "); ok {
		msg = after
	}
	return bodyFailure{pointer: b.String(), keyword: keyword, message: msg, depth: len(loc)}
}
