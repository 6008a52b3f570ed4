package engine

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestDecodeAgreesWithEncodingJSON compares the decoder with encoding/json
// on documents valid and not.
func TestDecodeAgreesWithEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		`{}`, `{"a":1}`, `{"a":-0.5e3,"b":[true,false,null,"x"]}`, ` {"a" : { "b" : [ ] } } `,
		`{"a":"\u00e9\ud83d\ude00\n\t\"\\\/"}`, `{"a":12345678901234567890}`, `{"a":-9223372036854775808}`,
		`{"a":1.0}`, `{"a":1e2}`, `{"é":"ï"}`, `{"a\u0062":1}`,
		`{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `[1,]`, `{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":-}`, `{"a":1e}`,
		`{"a":tru}`, `{"a":"\x01"}`, `{"a":"\q"}`, `{"a":"\u12"}`, `{} {}`, `{"a":1}x`, `"x"`, ``, `nul`,
		`{"a":"` + "\xff" + `"}`, `{"a":"\ud800"}`, `{"a":1e999}`, `{"a":[[[[[]]]]]}`,
		strings.Repeat("[", 300) + strings.Repeat("]", 300), `null }`, `{"a":2` + strings.Repeat("0", 320) + `}`,
	} {
		checkDecode(t, []byte(in))
	}
}

func checkDecode(t *testing.T, in []byte) {
	t.Helper()
	got, err := decodeAll(in)
	var want any
	var werr error
	if !json.Valid(in) {
		werr = errBadJSON
	} else {
		dec := json.NewDecoder(bytes.NewReader(in))
		dec.UseNumber()
		werr = dec.Decode(&want)
	}
	if err != nil {
		// Stricter than encoding/json: invalid UTF-8, lone surrogates,
		// duplicate names, numbers out of range, deep nesting.
		var asFloat any
		outOfRange := json.Unmarshal(in, &asFloat) != nil
		if werr == nil && utf8.Valid(in) && !bytes.Contains(in, []byte(`\ud`)) && !bytes.Contains(in, []byte(`\uD`)) && !outOfRange && !bytes.Contains(in, []byte("[[[[[[[[")) && !hasDuplicateNames(in) {
			t.Errorf("%q: rejected, encoding/json accepts it", in)
		}
		return
	}
	if werr != nil {
		t.Errorf("%q: accepted (%v), encoding/json rejects it: %v", in, got, werr)
		return
	}
	if !reflect.DeepEqual(normalise(got), normalise(want)) {
		t.Errorf("%q: got %#v, want %#v", in, got, want)
	}
}

// hasDuplicateNames reports an object with a name twice, at any depth.
func hasDuplicateNames(in []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(in))
	type frame struct {
		obj   bool
		names map[string]bool
		key   bool // the next string is a name
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch tok := tok.(type) {
		case json.Delim:
			switch tok {
			case '{', '[':
				if top != nil && top.obj {
					top.key = true
				}
				stack = append(stack, &frame{obj: tok == '{', names: map[string]bool{}, key: tok == '{'})
			default:
				stack = stack[:len(stack)-1]
			}
			continue
		case string:
			if top != nil && top.obj && top.key {
				if top.names[tok] {
					return true
				}
				top.names[tok] = true
				top.key = false
				continue
			}
		}
		if top != nil && top.obj {
			top.key = true
		}
	}
}

// normalise maps both decoders' values to comparable forms: numbers as
// float64.
func normalise(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range v {
			out[k] = normalise(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = normalise(x)
		}
		return out
	case json.Number:
		f, _ := v.Float64()
		return f
	case int64:
		return float64(v)
	}
	return v
}

// FuzzDecode compares the decoder with encoding/json, and the projected
// decoder with the full one, on arbitrary bytes.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"a":{"b":[1,{"c":"d"}],"e":null}}`, `{"a":"\u00e9"}`, `{"x":[true,false]}`, `{"a":{"b":{"c":1e5}}}`,
		`{"a":{"b":[{"c":1,"z":"undeclared"}],"z":{"c":2}},"y":[3]}`} {
		f.Add([]byte(s))
	}
	reads := newReadTree()
	for _, s := range []string{"a.b[].c", "a.e", "x"} {
		p, _ := ParsePath(s)
		reads.add(p)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkDecode(t, in)
		full, err := decodeAll(in)
		proj, _, perr := decodeProjected(in, reads)
		if err == nil {
			if _, isObj := full.(map[string]any); isObj && perr != nil && !hasDuplicateNames(in) {
				t.Fatalf("%q: full decode works, projected fails: %v", in, perr)
			}
		}
		if perr == nil && err == nil {
			if !reflect.DeepEqual(proj, project(full, reads)) {
				t.Fatalf("%q: projected %#v, want %#v", in, proj, project(full, reads))
			}
		}
	})
}

// project is the reference projection of a decoded value.
func project(v any, t *readTree) any {
	if t.whole {
		return v
	}
	switch v := v.(type) {
	case map[string]any:
		if t.children == nil {
			return nil
		}
		out := map[string]any{}
		for k, x := range v {
			if c := t.children[k]; c != nil {
				if y := project(x, c); y != nil || x == nil || c.whole {
					out[k] = y
				}
			}
		}
		return out
	case []any:
		if t.elem == nil {
			return nil
		}
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = project(x, t.elem)
		}
		return out
	case nil:
		return nil
	}
	return nil
}
