package platform

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
)

// readContracts returns the test contract and every platform contract of
// the repository, by name.
func readContracts(t testing.TB) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	data, err := os.ReadFile(filepath.Join("testdata", "contract.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	out["testdata"] = data
	files, err := filepath.Glob(filepath.Join("..", "..", "contracts", "*", "openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(filepath.Dir(f))] = data
	}
	return out
}

// mediaTypes lists the media types with a schema of doc's request bodies
// and responses, each once, by a readable location.
func mediaTypes(doc *openapi3.T) map[*openapi3.MediaType]string {
	out := map[*openapi3.MediaType]string{}
	add := func(at string, content openapi3.Content) {
		for name, mt := range content {
			if _, seen := out[mt]; !seen && mt.Schema != nil {
				out[mt] = at + " " + name
			}
		}
	}
	for path, item := range doc.Paths.Map() {
		for method, o := range item.Operations() {
			if o.RequestBody != nil {
				add(method+" "+path+" request", o.RequestBody.Value.Content)
			}
			for code, r := range o.Responses.Map() {
				add(method+" "+path+" "+code, r.Value.Content)
			}
		}
	}
	return out
}

// TestEveryContractTakesTheFastPath checks that every body schema of every
// contract is compiled once (none is left to kin-openapi's per-call
// compilation) and that every parameter and header schema can be checked
// by kin's 3.0 validator.
func TestEveryContractTakesTheFastPath(t *testing.T) {
	t.Parallel()
	for name, data := range readContracts(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, err := loadContract(data)
			if err != nil {
				t.Fatal(err)
			}
			if c.bodies == nil {
				t.Fatalf("%s (OpenAPI %s) has no compiled validators", name, c.doc.OpenAPI)
			}
			if len(c.bodies.uncompiled) > 0 {
				t.Errorf("body schemas left to kin-openapi (slow): %s", strings.Join(c.bodies.uncompiled, "; "))
			}
			for mt, at := range mediaTypes(c.doc) {
				if c.bodies.byMedia[mt] == nil {
					t.Errorf("%s: no compiled schema", at)
				}
			}
			if !legacyCompatible(c.doc) {
				t.Errorf("a parameter or header schema needs JSON Schema 2020-12: kin compiles it on every request")
			}
			if c.router == nil || len(c.ops) == 0 {
				t.Errorf("no router or no operations")
			}
		})
	}
}

func TestRoutedCopyLeavesTheDocumentAlone(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("testdata", "contract.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := loadContract(data)
	if err != nil {
		t.Fatal(err)
	}
	if c.doc.OpenAPI != "3.1.0" || len(c.doc.Security) != 1 || c.doc.Servers[0].URL != "https://sandbox.example.test/base" {
		t.Errorf("the loaded document was changed: openapi %s, security %v, servers %v", c.doc.OpenAPI, c.doc.Security, c.doc.Servers[0].URL)
	}
	req := httptest.NewRequest(http.MethodGet, "http://elsewhere/base/letters/L-000001", nil)
	route, _, err := c.router.FindRoute(req)
	if err != nil {
		t.Fatal(err)
	}
	if route.Spec.OpenAPI != legacyVersion || route.Operation.Security == nil || len(*route.Operation.Security) != 0 {
		t.Errorf("route: openapi %s, security %v; want %s and none", route.Spec.OpenAPI, route.Operation.Security, legacyVersion)
	}
	if orig := c.doc.Paths.Value("/letters/{id}").Get; orig == route.Operation || orig.Security != nil {
		t.Errorf("the document's operation was changed or shared")
	}
	for name, tc := range map[string]struct {
		schema string
		legacy bool
	}{
		"plain":         {`{type: string, minLength: 1, pattern: "^a"}`, true},
		"const":         {`{type: string, const: v1}`, false},
		"type list":     {`{type: [integer, "null"]}`, false},
		"exclusive min": {`{type: integer, exclusiveMinimum: 0}`, false},
		"nested":        {`{type: array, items: {type: string, prefixItems: [{type: string}]}}`, false},
		"enum in items": {`{type: array, items: {type: string, enum: [a, b]}, maxItems: 3}`, true},
	} {
		doc, err := openapi3.NewLoader().LoadFromData(fmt.Appendf(nil, `openapi: 3.1.0
info: {title: t, version: "1"}
paths:
  /x:
    get:
      operationId: x
      parameters: [{name: q, in: query, schema: %s}]
      responses: {"200": {description: ok}}
`, tc.schema))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := legacyCompatible(doc); got != tc.legacy {
			t.Errorf("%s: legacyCompatible = %v, want %v", name, got, tc.legacy)
		}
	}
}

// mutations returns v and variants of it, each breaking or changing one
// member: removed, or replaced by a value of another type.
func mutations(v any, limit int) []any {
	out := []any{v}
	var walk func(path []string, node any)
	replace := func(path []string, with func(any) (any, bool)) any {
		cp := deepCopy(v)
		parent := cp
		for _, tok := range path[:len(path)-1] {
			parent = child(parent, tok)
		}
		last := path[len(path)-1]
		switch p := parent.(type) {
		case map[string]any:
			nv, keep := with(p[last])
			if keep {
				p[last] = nv
			} else {
				delete(p, last)
			}
		case []any:
			var i int
			_, _ = fmt.Sscan(last, &i)
			nv, _ := with(p[i])
			p[i] = nv
		}
		return cp
	}
	walk = func(path []string, node any) {
		if len(out) >= limit {
			return
		}
		if len(path) > 0 {
			out = append(out,
				replace(path, func(any) (any, bool) { return nil, false }),
				replace(path, func(old any) (any, bool) {
					switch old.(type) {
					case string:
						return json.Number("12345"), true
					case json.Number:
						return "12345", true
					case bool:
						return "true", true
					case map[string]any:
						return []any{}, true
					case []any:
						return map[string]any{}, true
					}
					return "", true
				}),
				replace(path, func(old any) (any, bool) {
					if s, ok := old.(string); ok {
						return s + "!~", true
					}
					return old, true
				}),
			)
		}
		switch n := node.(type) {
		case map[string]any:
			keys := make([]string, 0, len(n))
			for k := range n {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				walk(append(slices.Clone(path), k), n[k])
			}
		case []any:
			for i, e := range n {
				walk(append(slices.Clone(path), fmt.Sprint(i)), e)
			}
		}
	}
	walk(nil, v)
	return out
}

func child(node any, tok string) any {
	switch n := node.(type) {
	case map[string]any:
		return n[tok]
	case []any:
		var i int
		_, _ = fmt.Sscan(tok, &i)
		return n[i]
	}
	return nil
}

func deepCopy(v any) any {
	b, _ := json.Marshal(v)
	out, _ := decodeJSON(b)
	return out
}

// TestCompiledValidatorsAgreeWithKin is a differential test: for every
// example of every JSON body of every contract, and a few hundred
// mutations of each, the compiled validator and kin-openapi's JSON Schema
// 2020-12 validator give the same verdict.
func TestCompiledValidatorsAgreeWithKin(t *testing.T) {
	t.Parallel()
	for name, data := range readContracts(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, err := loadContract(data)
			if err != nil {
				t.Fatal(err)
			}
			checked, invalid := 0, 0
			for mt, at := range mediaTypes(c.doc) {
				if !strings.Contains(at, "json") || c.bodies.byMedia[mt] == nil {
					continue
				}
				var examples []any
				if mt.Example != nil {
					examples = append(examples, mt.Example)
				}
				for _, ex := range mt.Examples {
					if ex.Value != nil && ex.Value.Value != nil {
						examples = append(examples, ex.Value.Value)
					}
				}
				for _, ex := range examples {
					for _, v := range mutations(deepCopy(ex), 150) {
						ours := c.bodies.byMedia[mt].Validate(v)
						kins := mt.Schema.Value.VisitJSON(v, openapi3.EnableJSONSchema2020(), openapi3.MultiErrors())
						if (ours == nil) != (kins == nil) {
							b, _ := json.Marshal(v)
							t.Errorf("%s: %s: compiled %v, kin %v", at, b, ours, kins)
						}
						checked++
						if ours != nil {
							invalid++
						}
					}
				}
			}
			t.Logf("%d bodies checked, %d invalid", checked, invalid)
		})
	}
}

// FuzzRequestBodyAgreesWithKin sends arbitrary JSON bodies to createLetter:
// the compiled validator and kin-openapi's 3.1 validation agree on
// whether the body is valid, the Problem never quotes the body, and its
// Parameter is a pointer into the body.
func FuzzRequestBodyAgreesWithKin(f *testing.F) {
	for _, seed := range []string{
		`{"recipient":{"nom":"Dupont","prenoms":["Jeanne"]},"pages":2}`,
		`{"recipient":{"nom":"Dupont","prenoms":[]},"pages":2}`,
		`{"recipient":{"nom":"","prenoms":["Jeanne","Luc"]},"pages":51}`,
		`{"recipient":{"nom":"Dupont","prenoms":["Jeanne"]},"pages":2,"x":null}`,
		`{"recipient":"Dupont","pages":2.5}`, `[]`, `null`, `"x"`, `{}`, `{"pages":1e2}`,
	} {
		f.Add([]byte(seed))
	}
	data, err := os.ReadFile(filepath.Join("testdata", "contract.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	c, err := loadContract(data)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) == 0 {
			return
		}
		if _, err := decodeJSON(body); err != nil {
			return // not one JSON value: both refuse it, kin with another detail
		}
		req := httptest.NewRequest(http.MethodPost, "http://mock/base/letters", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		route, params, err := c.router.FindRoute(req)
		if err != nil {
			t.Fatal(err)
		}
		in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: &c.reqOpts}
		rb := route.Operation.RequestBody.Value
		p := c.bodies.checkRequest(context.Background(), in, "createLetter", rb, body)
		req.Body = http.NoBody
		setBody(req, body)
		kerr := openapi3filter.ValidateRequestBody(context.Background(), c.bodies.withDocument(in), rb)
		if (p == nil) != (kerr == nil) {
			t.Fatalf("body %s: compiled %+v, kin %v", body, p, kerr)
		}
		if p == nil {
			return
		}
		if p.Parameter != "" {
			if _, err := splitPointer(p.Parameter); err != nil {
				t.Errorf("parameter %q: %v", p.Parameter, err)
			}
		}
		if len(body) > 3 && strings.Contains(p.Detail, string(body)) {
			t.Errorf("detail %q quotes the body", p.Detail)
		}
	})
}

func TestContractCacheSharesOneLoad(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("testdata", "contract.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cc := &contractCache{entries: map[[32]byte]*contract{}}
	first, err := cc.load(data)
	if err != nil {
		t.Fatal(err)
	}
	again, err := cc.load(bytes.Clone(data))
	if err != nil || again != first {
		t.Fatalf("second load: %p %v, want the cached %p", again, err, first)
	}
	other, err := cc.load(append(bytes.Clone(data), "\n# another text\n"...))
	if err != nil || other == first {
		t.Fatalf("another text: %p %v, want a new load", other, err)
	}
	if _, err := cc.load([]byte("{")); err == nil || len(cc.entries) != 2 {
		t.Errorf("broken contract: %v, %d entries; want an error, not cached", err, len(cc.entries))
	}
	for i := range maxCachedContracts + 5 {
		if _, err := cc.load(fmt.Appendf(bytes.Clone(data), "\n# %d\n", i)); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(cc.entries); n > maxCachedContracts {
		t.Errorf("%d cached contracts, bound %d", n, maxCachedContracts)
	}
}

// BenchmarkLoadContract is what New cost each time before contracts were
// cached: parsing, validating the examples, building the router and
// compiling the body schemas, for the test contract and two large ones.
func BenchmarkLoadContract(b *testing.B) {
	all := readContracts(b)
	for _, name := range []string{"testdata", "apiparticulier", "dmp"} {
		data, ok := all[name]
		if !ok {
			continue
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := loadContract(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
