package contracts

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// buildRequest builds the request of case c: the path template filled from
// c.PathParams or the parameters' examples; the query from c.Query, or from
// every query parameter that has an example; the required header parameters
// from their examples; c.Header; the body from c.Body or the request body's
// example, JSON-encoded; then the credentials c.Auth asks for.
func (r *run) buildRequest(ctx context.Context, o *operation, c Case) (*http.Request, error) {
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
		case ok && isJSON(mt):
			raw, err := json.Marshal(ex)
			if err != nil {
				return nil, fmt.Errorf("building %s: encoding the request body example: %w", o.id, err)
			}
			contentType, body = mt, bytes.NewReader(raw)
		case ok:
			if s, isString := ex.(string); isString {
				contentType, body = mt, strings.NewReader(s)
				break
			}
			return nil, fmt.Errorf("building %s: the request body example of %s cannot be sent as is; give the case a Body", o.id, mt)
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
		if k.in != "header" || !p.Required {
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
