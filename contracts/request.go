package contracts

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// buildRequest builds the request of case c: the path template filled from
// c.PathParams or the parameters' examples; the query from c.Query, or from
// every query parameter that has an example; the required header parameters
// (every header parameter when allHeaders is set) from their examples; the
// body from c.Body or the request body's example (see encodeExample); the
// credentials c.Auth asks for; then c.Header, whose keys mapped to nil (or
// to no value) are removed.
func (r *run) buildRequest(ctx context.Context, o *operation, c Case, allHeaders bool) (*http.Request, error) {
	params := parameters(o)

	// Path.
	var b strings.Builder
	rest := o.path
	for {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			b.WriteString(rest)
			break
		}
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			return nil, fmt.Errorf("building %s: unbalanced braces in path %q", o.id, o.path)
		}
		name := rest[open+1 : open+end]
		b.WriteString(rest[:open])
		rest = rest[open+end+1:]
		v, ok := c.PathParams[name]
		if !ok {
			p := params[paramKey{"path", name}]
			ex, found := parameterExample(p)
			if !found {
				return nil, fmt.Errorf("building %s: the case gives no path parameter %q and the contract no example of it", o.id, name)
			}
			v = strings.Join(exampleStrings(ex), ",")
		}
		b.WriteString(url.PathEscape(v))
	}

	u := *r.t.BaseURL
	u.RawPath = strings.TrimSuffix(r.t.BaseURL.EscapedPath(), "/") + b.String()
	unescaped, err := url.PathUnescape(u.RawPath)
	if err != nil {
		return nil, fmt.Errorf("building %s: path %q: %w", o.id, u.RawPath, err)
	}
	u.Path = unescaped

	// Query.
	query := c.Query
	if query == nil {
		query = url.Values{}
		for _, k := range slices.SortedFunc(maps.Keys(params), paramKey.compare) {
			p := params[k]
			if k.in != "query" {
				continue
			}
			ex, ok := parameterExample(p)
			if !ok {
				if p.Required {
					return nil, fmt.Errorf("building %s: the case gives no query and the contract no example of the required parameter %q", o.id, p.Name)
				}
				continue
			}
			values := exampleStrings(ex)
			if p.Explode != nil && !*p.Explode {
				values = []string{strings.Join(values, ",")}
			}
			query[p.Name] = values
		}
	}
	u.RawQuery = query.Encode()

	// Body.
	var (
		body        io.Reader = http.NoBody
		contentType string
	)
	switch {
	case c.Body != nil:
		contentType, body = c.Body()
	case o.op.RequestBody != nil && o.op.RequestBody.Value != nil:
		mt, media, ex, ok := requestExample(o.op.RequestBody.Value)
		switch {
		case ok:
			ct, raw, err := encodeExample(mt, o.op.RequestBody.Value.Content[mt], ex)
			if err != nil {
				return nil, fmt.Errorf("building %s: %w", o.id, err)
			}
			contentType, body = ct, bytes.NewReader(raw)
		case o.op.RequestBody.Value.Required:
			return nil, fmt.Errorf("building %s: the request body is required and the contract has no example of it (media types: %s); give the case a Body", o.id, media)
		}
	}

	req, err := http.NewRequestWithContext(ctx, o.method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("building %s: %w", o.id, err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for _, k := range slices.SortedFunc(maps.Keys(params), paramKey.compare) {
		p := params[k]
		if k.in != "header" || (!p.Required && !allHeaders) {
			continue
		}
		if ex, ok := parameterExample(p); ok {
			req.Header.Set(p.Name, strings.Join(exampleStrings(ex), ","))
		}
	}

	switch c.Auth {
	case AuthValid:
		if r.auth != nil {
			r.auth(req)
		}
	case AuthInvalid:
		if r.p.InvalidAuth != nil {
			r.p.InvalidAuth(req)
		} else {
			req.Header.Set("Authorization", "Bearer "+InvalidToken)
		}
	case AuthNone:
	}
	for k, vs := range c.Header {
		if len(vs) == 0 {
			req.Header.Del(k)
			continue
		}
		req.Header[http.CanonicalHeaderKey(k)] = slices.Clone(vs)
	}
	return req, nil
}

// paramKey identifies a parameter: its location and name.
type paramKey struct{ in, name string }

func (k paramKey) compare(o paramKey) int {
	if c := strings.Compare(k.in, o.in); c != 0 {
		return c
	}
	return strings.Compare(k.name, o.name)
}

// parameters returns the parameters of o, the operation's overriding the
// path item's.
func parameters(o *operation) map[paramKey]*openapi3.Parameter {
	out := map[paramKey]*openapi3.Parameter{}
	for _, list := range []openapi3.Parameters{o.item.Parameters, o.op.Parameters} {
		for _, ref := range list {
			if ref == nil || ref.Value == nil {
				continue
			}
			p := ref.Value
			key := paramKey{p.In, p.Name}
			if p.In == "header" {
				key.name = http.CanonicalHeaderKey(p.Name)
			}
			out[key] = p
		}
	}
	return out
}

// parameterExample is the parameter's example: example, else the first of
// examples (by name), else its schema's example or first examples entry.
func parameterExample(p *openapi3.Parameter) (any, bool) {
	if p == nil {
		return nil, false
	}
	if p.Example != nil {
		return p.Example, true
	}
	if ex, ok := firstExample(p.Examples); ok {
		return ex, true
	}
	if p.Schema != nil && p.Schema.Value != nil {
		s := p.Schema.Value
		if s.Example != nil {
			return s.Example, true
		}
		if len(s.Examples) > 0 {
			return s.Examples[0], true
		}
	}
	return nil, false
}

func firstExample(examples openapi3.Examples) (any, bool) {
	for _, name := range slices.Sorted(maps.Keys(examples)) {
		if ref := examples[name]; ref != nil && ref.Value != nil && ref.Value.Value != nil {
			return ref.Value.Value, true
		}
	}
	return nil, false
}

// mediaExamples returns every example of a media type: example, then the
// examples by name.
func mediaExamples(mt *openapi3.MediaType) []any {
	if mt == nil {
		return nil
	}
	var out []any
	if mt.Example != nil {
		out = append(out, mt.Example)
	}
	for _, name := range slices.Sorted(maps.Keys(mt.Examples)) {
		if ref := mt.Examples[name]; ref != nil && ref.Value != nil && ref.Value.Value != nil {
			out = append(out, ref.Value.Value)
		}
	}
	return out
}

// requestExample picks the media type to send (application/json first,
// then other JSON types, then the rest, by name) that has an example.
func requestExample(rb *openapi3.RequestBody) (mediaType, all string, example any, ok bool) {
	types := slices.Sorted(maps.Keys(rb.Content))
	slices.SortStableFunc(types, func(a, b string) int {
		rank := func(t string) int {
			switch {
			case t == "application/json":
				return 0
			case isJSON(t):
				return 1
			}
			return 2
		}
		return rank(a) - rank(b)
	})
	for _, t := range types {
		if ex := mediaExamples(rb.Content[t]); len(ex) > 0 {
			return t, strings.Join(types, ", "), ex[0], true
		}
	}
	return "", strings.Join(types, ", "), nil, false
}

// exampleStrings renders an example value as parameter values: one per
// element of an array.
func exampleStrings(v any) []string {
	if a, ok := v.([]any); ok {
		out := make([]string, 0, len(a))
		for _, e := range a {
			out = append(out, scalarString(e))
		}
		return out
	}
	return []string{scalarString(v)}
}

func scalarString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	case bool:
		return strconv.FormatBool(x)
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return strconv.FormatInt(int64(x), 10)
		}
		return strconv.FormatFloat(x, 'f', -1, 64)
	case json.Number:
		return x.String()
	case int, int64, int32, uint64, uint32, uint:
		return fmt.Sprint(x)
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(raw)
}

// encodeExample encodes the request body example ex of media type mt
// (described by media, which may be nil) and returns the Content-Type to
// send with it:
//   - JSON media types: the example, JSON-encoded;
//   - a string example, of any media type: the string as is;
//   - application/x-www-form-urlencoded, an object example: its properties
//     as form values (see formValues);
//   - multipart/form-data, an object example: one part per property (see
//     writeMultipart).
//
// Any other example cannot be sent without knowing the format: the case
// must give a Body.
func encodeExample(mt string, media *openapi3.MediaType, ex any) (contentType string, body []byte, err error) {
	if isJSON(mt) {
		raw, err := json.Marshal(ex)
		if err != nil {
			return "", nil, fmt.Errorf("encoding the request body example: %w", err)
		}
		return mt, raw, nil
	}
	if s, ok := ex.(string); ok {
		return mt, []byte(s), nil
	}
	obj, isObject := ex.(map[string]any)
	switch baseMediaType(mt) {
	case "application/x-www-form-urlencoded":
		if isObject {
			form, err := formValues(media, obj)
			if err != nil {
				return "", nil, err
			}
			return mt, []byte(form.Encode()), nil
		}
	case "multipart/form-data":
		if isObject {
			return writeMultipart(media, obj)
		}
	}
	return "", nil, fmt.Errorf("the request body example of %s cannot be sent as is; give the case a Body", mt)
}

// baseMediaType is mt without its parameters, in lower case.
func baseMediaType(mt string) string {
	base, _, _ := strings.Cut(mt, ";")
	return strings.ToLower(strings.TrimSpace(base))
}

// formValues turns an object example into form values, each property by
// its encoding object (style and explode; form and explode by default),
// as OpenAPI serializes form bodies:
//   - a scalar is one value (a null property is left out);
//   - an array repeats the key when exploded (form), else is one value
//     joined by "," (form), " " (spaceDelimited) or "|" (pipeDelimited);
//   - an object gives one key per property when exploded (form),
//     name[key]=value pairs (deepObject), else one value "k1,v1,k2,v2";
//   - a property whose encoding has a JSON contentType (and no style) is
//     sent JSON-encoded.
//
// Nested values that are neither scalars nor handled above are sent as
// JSON.
func formValues(media *openapi3.MediaType, obj map[string]any) (url.Values, error) {
	form := url.Values{}
	for _, name := range slices.Sorted(maps.Keys(obj)) {
		v := obj[name]
		if v == nil {
			continue
		}
		var enc *openapi3.Encoding
		if media != nil {
			enc = media.Encoding[name]
		}
		if enc != nil && enc.Style == "" && enc.Explode == nil && isJSON(enc.ContentType) {
			raw, err := json.Marshal(v)
			if err != nil {
				return nil, fmt.Errorf("encoding the form value %q of the request body example: %w", name, err)
			}
			form.Add(name, string(raw))
			continue
		}
		sm := enc.SerializationMethod() // form, exploded, when enc is nil
		switch x := v.(type) {
		case []any:
			items := exampleStrings(x)
			if sm.Explode {
				form[name] = append(form[name], items...)
				continue
			}
			form.Add(name, strings.Join(items, delimiter(sm.Style)))
		case map[string]any:
			keys := slices.Sorted(maps.Keys(x))
			switch {
			case sm.Style == openapi3.SerializationDeepObject:
				for _, k := range keys {
					form.Add(name+"["+k+"]", scalarString(x[k]))
				}
			case sm.Explode:
				for _, k := range keys {
					form.Add(k, scalarString(x[k]))
				}
			default:
				pairs := make([]string, 0, 2*len(keys))
				for _, k := range keys {
					pairs = append(pairs, k, scalarString(x[k]))
				}
				form.Add(name, strings.Join(pairs, delimiter(sm.Style)))
			}
		default:
			form.Add(name, scalarString(v))
		}
	}
	return form, nil
}

// delimiter joins the values of an array that is not exploded.
func delimiter(style string) string {
	switch style {
	case openapi3.SerializationSpaceDelimited:
		return " "
	case openapi3.SerializationPipeDelimited:
		return "|"
	}
	return ","
}

// writeMultipart turns an object example into a multipart/form-data body:
// one part per property, in name order (a null property is left out, an
// array gives one part per element). A part's Content-Type is its
// encoding's contentType (the first of a list, application/octet-stream
// for a wildcard), else application/json for objects and
// application/octet-stream for binary strings (format binary or a
// contentMediaType), else none (text/plain). A part that is not text or
// JSON is sent as a file named after the property ("file.pdf").
func writeMultipart(media *openapi3.MediaType, obj map[string]any) (string, []byte, error) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, name := range slices.Sorted(maps.Keys(obj)) {
		v := obj[name]
		if v == nil {
			continue
		}
		values := []any{v}
		if a, ok := v.([]any); ok {
			values = a
		}
		for _, value := range values {
			ct := partContentType(media, name, value)
			var content []byte
			if s, ok := value.(string); ok {
				content = []byte(s)
			} else if isJSON(ct) {
				raw, err := json.Marshal(value)
				if err != nil {
					return "", nil, fmt.Errorf("encoding the part %q of the request body example: %w", name, err)
				}
				content = raw
			} else {
				content = []byte(scalarString(value))
			}
			h := textproto.MIMEHeader{}
			disposition := fmt.Sprintf(`form-data; name=%q`, name)
			if ct != "" && !isJSON(ct) && !strings.HasPrefix(ct, "text/") {
				disposition += fmt.Sprintf(`; filename=%q`, name+extension(ct))
			}
			h.Set("Content-Disposition", disposition)
			if ct != "" {
				h.Set("Content-Type", ct)
			}
			w, err := mw.CreatePart(h)
			if err == nil {
				_, err = w.Write(content)
			}
			if err != nil {
				return "", nil, fmt.Errorf("writing the part %q of the request body example: %w", name, err)
			}
		}
	}
	if err := mw.Close(); err != nil {
		return "", nil, fmt.Errorf("closing the multipart request body example: %w", err)
	}
	return mw.FormDataContentType(), buf.Bytes(), nil
}

// partContentType is the Content-Type of the multipart part of property
// name holding value ("" for plain text).
func partContentType(media *openapi3.MediaType, name string, value any) string {
	if media == nil {
		return ""
	}
	if enc := media.Encoding[name]; enc != nil && enc.ContentType != "" {
		first, _, _ := strings.Cut(enc.ContentType, ",")
		first = strings.TrimSpace(first)
		if strings.Contains(first, "*") {
			return "application/octet-stream"
		}
		return first
	}
	if _, ok := value.(map[string]any); ok {
		return "application/json"
	}
	if media.Schema != nil && media.Schema.Value != nil {
		prop := media.Schema.Value.Properties[name]
		if prop != nil && prop.Value != nil {
			s := prop.Value
			if s.Type.Is("array") && s.Items != nil && s.Items.Value != nil {
				s = s.Items.Value
			}
			switch {
			case s.ContentMediaType != "":
				return s.ContentMediaType
			case s.Format == "binary":
				return "application/octet-stream"
			}
		}
	}
	return ""
}

// extension is the usual file name extension of the media type mt, with
// its dot ("" when there is none).
func extension(mt string) string {
	exts, err := mime.ExtensionsByType(mt)
	if err != nil || len(exts) == 0 {
		return ""
	}
	slices.Sort(exts) // the order of several is not stable
	return exts[0]
}
