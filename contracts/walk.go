package contracts

import (
	"encoding/json"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// absent is the Want of an added property and the Got of a removed one.
const absent = "absent"

// maxResolveDepth bounds the oneOf/anyOf nested at one place of the body
// that the walker resolves (each level multiplies the work by its number of
// branches).
const maxResolveDepth = 6

// maxMergeDepth bounds the allOf/oneOf/anyOf nesting the walker follows
// without descending into the body (a schema that includes itself).
const maxMergeDepth = 32

// Compare walks body, a decoded JSON value (from encoding/json, with or
// without UseNumber), against schema and returns its structural changes in
// the order of the walk (per object, the missing properties first, then the
// others by name): properties added (present in the body, not declared by a
// schema that declares properties), removed (required, or present in every
// example, and missing) and retyped (a JSON type the schema does not allow).
// examples are the contract's example values of the body; nil is fine.
//
// A property the schema does not declare is not added when the schema
// allows others: it is walked against the patternProperties its name
// matches, else against additionalProperties (or unevaluatedProperties)
// when that is a schema, and accepted as it is when that is true. It is
// added when additionalProperties (or unevaluatedProperties) is false, even
// if the schema declares no property.
//
// References must be resolved (as by openapi3.Loader). allOf members are
// merged; for oneOf and anyOf the branch with the fewest changes is taken;
// type arrays (["string","null"]) and nullable are honoured. The Case,
// Operation and Status of the changes are left empty.
func Compare(schema *openapi3.SchemaRef, examples []any, body any) []Change {
	w := walker{}
	var s *openapi3.Schema
	if schema != nil {
		s = schema.Value
	}
	w.value(newView(s), examples, body, path{}, &w.out)
	return w.out
}

type walker struct {
	out []Change
	// depth counts the oneOf/anyOf resolutions in progress at one place
	// of the body; active are the branches they are trying, so that a
	// schema that includes itself is not tried again.
	depth  int
	active []*openapi3.Schema
	// patterns caches compiled patternProperties, views the views of
	// single schemas.
	patterns map[string]*regexp.Regexp
	views    map[*openapi3.Schema]*view
}

// view is a schema with its allOf merged: what the walker needs of it.
type view struct {
	// types is the set of JSON types allowed; nil allows every type.
	types map[string]bool
	// props maps each declared property to every schema that constrains it.
	props    map[string][]*openapi3.Schema
	required map[string]bool
	// items constrain every element of an array; prefix the first ones.
	items  []*openapi3.Schema
	prefix [][]*openapi3.Schema
	// additional constrain undeclared properties; patterns the properties
	// whose name matches. open is set when a schema allows any undeclared
	// property (additionalProperties: true), closed when one allows none
	// (false), which wins.
	additional   []*openapi3.Schema
	patterns     map[string][]*openapi3.Schema
	open, closed bool
	// groups are the oneOf and anyOf lists, each to be resolved to one
	// branch.
	groups [][]*openapi3.Schema
}

// view returns the merged view of schemas; views of a single schema are
// built once per walk (they are never changed: resolve works on clones).
func (w *walker) view(schemas []*openapi3.Schema) *view {
	if len(schemas) != 1 {
		return newView(schemas...)
	}
	if v, ok := w.views[schemas[0]]; ok {
		return v
	}
	v := newView(schemas[0])
	if w.views == nil {
		w.views = map[*openapi3.Schema]*view{}
	}
	w.views[schemas[0]] = v
	return v
}

func newView(schemas ...*openapi3.Schema) *view {
	v := &view{}
	for _, s := range schemas {
		v.merge(s, 0)
	}
	return v
}

func (v *view) clone() *view {
	c := *v
	if v.types != nil {
		c.types = maps.Clone(v.types)
	}
	c.props = make(map[string][]*openapi3.Schema, len(v.props))
	for k, ss := range v.props {
		c.props[k] = slices.Clone(ss)
	}
	c.required = maps.Clone(v.required)
	c.items = slices.Clone(v.items)
	c.prefix = slices.Clone(v.prefix)
	c.additional = slices.Clone(v.additional)
	c.patterns = maps.Clone(v.patterns)
	c.groups = slices.Clone(v.groups)
	return &c
}

// merge adds the constraints of s (and of its allOf members) to v.
func (v *view) merge(s *openapi3.Schema, depth int) {
	if s == nil || depth > maxMergeDepth {
		return
	}
	if t := schemaTypes(s); t != nil {
		v.types = intersectTypes(v.types, t)
	}
	for name, ref := range s.Properties {
		if v.props == nil {
			v.props = map[string][]*openapi3.Schema{}
		}
		v.props[name] = append(v.props[name], refValue(ref))
	}
	for _, name := range s.Required {
		if v.required == nil {
			v.required = map[string]bool{}
		}
		v.required[name] = true
	}
	if s.Items != nil {
		v.items = append(v.items, refValue(s.Items))
	}
	for i, ref := range s.PrefixItems {
		for len(v.prefix) <= i {
			v.prefix = append(v.prefix, nil)
		}
		v.prefix[i] = append(v.prefix[i], refValue(ref))
	}
	for _, extra := range []openapi3.BoolSchema{s.AdditionalProperties, s.UnevaluatedProperties} {
		switch {
		case extra.Schema != nil:
			if ap := refValue(extra.Schema); ap != nil {
				v.additional = append(v.additional, ap)
			}
		case extra.Has != nil && *extra.Has:
			v.open = true
		case extra.Has != nil:
			v.closed = true
		}
	}
	for pattern, ref := range s.PatternProperties {
		if v.patterns == nil {
			v.patterns = map[string][]*openapi3.Schema{}
		}
		v.patterns[pattern] = append(v.patterns[pattern], refValue(ref))
	}
	for _, ref := range s.AllOf {
		v.merge(refValue(ref), depth+1)
	}
	for _, group := range []openapi3.SchemaRefs{s.OneOf, s.AnyOf} {
		if len(group) == 0 {
			continue
		}
		branches := make([]*openapi3.Schema, 0, len(group))
		for _, ref := range group {
			branches = append(branches, refValue(ref))
		}
		if depth < maxMergeDepth {
			v.groups = append(v.groups, branches)
		}
	}
}

func refValue(ref *openapi3.SchemaRef) *openapi3.Schema {
	if ref == nil {
		return nil
	}
	return ref.Value
}

// schemaTypes returns the JSON types s allows by itself: its type (plus
// null when nullable), else the types of its const or enum values; nil
// when s says nothing about types.
func schemaTypes(s *openapi3.Schema) map[string]bool {
	if s.Always != nil && !*s.Always {
		return map[string]bool{}
	}
	var out map[string]bool
	switch {
	case s.Type != nil && len(*s.Type) > 0:
		out = make(map[string]bool, len(*s.Type)+1)
		for _, t := range *s.Type {
			out[t] = true
		}
	case s.Const != nil:
		out = map[string]bool{jsonType(s.Const): true}
	case len(s.Enum) > 0:
		out = map[string]bool{}
		for _, e := range s.Enum {
			out[jsonType(e)] = true
		}
	default:
		return nil
	}
	if s.Nullable {
		out["null"] = true
	}
	// A const or enum of integers allows an integer, which "number" also
	// covers: keep integer as it is.
	return out
}

// intersectTypes returns the types both a and b allow (nil allows all).
func intersectTypes(a, b map[string]bool) map[string]bool {
	if a == nil {
		return maps.Clone(b)
	}
	if b == nil {
		return a
	}
	out := map[string]bool{}
	for t := range a {
		switch {
		case b[t]:
			out[t] = true
		case t == "number" && b["integer"], t == "integer" && b["number"]:
			out["integer"] = true
		}
	}
	return out
}

// allows reports whether the JSON type got is among types.
func allows(types map[string]bool, got string) bool {
	if types == nil || types[got] {
		return true
	}
	return got == "integer" && types["number"]
}

func typeList(types map[string]bool) string {
	if len(types) == 0 {
		return "nothing"
	}
	return strings.Join(slices.Sorted(maps.Keys(types)), "|")
}

// jsonType is the JSON Schema type of a decoded JSON value; a number with
// no fractional part is an "integer".
func jsonType(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case json.Number:
		if i := strings.IndexAny(string(x), ".eE"); i < 0 {
			return "integer"
		}
		f, err := x.Float64()
		if err == nil && f == math.Trunc(f) && !math.IsInf(f, 0) {
			return "integer"
		}
		return "number"
	case float64:
		if x == math.Trunc(x) && !math.IsInf(x, 0) {
			return "integer"
		}
		return "number"
	case float32, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		if f, ok := x.(float32); ok && float64(f) != math.Trunc(float64(f)) {
			return "number"
		}
		return "integer"
	}
	return "unknown"
}

// value walks v against the view at p, appending changes to out.
func (w *walker) value(vw *view, examples []any, v any, p path, out *[]Change) {
	if len(vw.groups) > 0 {
		vw = w.resolve(vw, examples, v, p)
	}
	got := jsonType(v)
	if !allows(vw.types, got) {
		*out = append(*out, Change{Kind: KindRetyped, Path: p.String(), Want: typeList(vw.types), Got: got})
		return
	}
	switch x := v.(type) {
	case map[string]any, []any:
		// A new place in the body: the resolutions in progress are about
		// the parent.
		depth, active := w.depth, w.active
		w.depth, w.active = 0, nil
		if m, ok := x.(map[string]any); ok {
			w.object(vw, examples, m, p, out)
		} else {
			w.array(vw, examples, x.([]any), p, out)
		}
		w.depth, w.active = depth, active
	}
}

// resolve picks, for each oneOf/anyOf group of vw, the branch that leaves
// the fewest changes on v (the first one on a tie), and returns vw with the
// chosen branches merged. Groups inside a chosen branch are resolved in
// turn. A branch already being resolved at this place in the body (a schema
// that includes itself) is not tried again.
func (w *walker) resolve(vw *view, examples []any, v any, p path) *view {
	cur := vw.clone()
	queue := cur.groups
	cur.groups = nil
	if w.depth >= maxResolveDepth {
		return cur
	}
	w.depth++
	mark := len(w.active)
	defer func() {
		w.depth--
		w.active = w.active[:mark]
	}()
	for len(queue) > 0 {
		branches := queue[0]
		queue = queue[1:]
		var best *view
		var bestSchema *openapi3.Schema
		bestN := -1
		for _, b := range branches {
			if b == nil || slices.Contains(w.active, b) {
				continue
			}
			cand := cur.clone()
			cand.merge(b, 1)
			var trial []Change
			w.active = append(w.active, b)
			w.value(cand, examples, v, p, &trial)
			w.active = w.active[:len(w.active)-1]
			n := len(trial)
			if !allows(cand.types, jsonType(v)) {
				// A branch of another type is the worst match, whatever
				// the changes deeper in the others.
				n = math.MaxInt32
			}
			if bestN < 0 || n < bestN {
				best, bestSchema, bestN = cand, b, n
			}
			if bestN == 0 {
				break
			}
		}
		if best != nil {
			queue = append(queue, best.groups...)
			best.groups = nil
			cur = best
			w.active = append(w.active, bestSchema)
		}
	}
	return cur
}

func (w *walker) object(vw *view, examples []any, obj map[string]any, p path, out *[]Change) {
	// Expected properties: the required ones, and those every example
	// object has, when the schema declares them.
	var exObjs []map[string]any
	for _, ex := range examples {
		if m, ok := ex.(map[string]any); ok {
			exObjs = append(exObjs, m)
		}
	}
	expected := vw.required
	if len(exObjs) > 0 {
		expected = maps.Clone(vw.required)
		if expected == nil {
			expected = map[string]bool{}
		}
		for k := range exObjs[0] {
			if _, declared := vw.props[k]; !declared {
				continue
			}
			inAll := true
			for _, m := range exObjs[1:] {
				if _, ok := m[k]; !ok {
					inAll = false
					break
				}
			}
			if inAll {
				expected[k] = true
			}
		}
	}

	keys := slices.Sorted(maps.Keys(obj))
	for _, k := range slices.Sorted(maps.Keys(expected)) {
		if _, ok := obj[k]; !ok {
			want := "present"
			if ss := vw.props[k]; len(ss) > 0 {
				if t := w.view(ss).types; t != nil {
					want = typeList(t)
				}
			}
			*out = append(*out, Change{Kind: KindRemoved, Path: p.key(k).String(), Want: want, Got: absent})
		}
	}
	for _, k := range keys {
		child := obj[k]
		var childEx []any
		for _, m := range exObjs {
			if e, ok := m[k]; ok {
				childEx = append(childEx, e)
			}
		}
		if ss, ok := vw.props[k]; ok {
			w.value(w.view(ss), childEx, child, p.key(k), out)
			continue
		}
		if ss := w.matchPatterns(vw.patterns, k); len(ss) > 0 {
			w.value(w.view(ss), childEx, child, p.key(k), out)
			continue
		}
		switch {
		case vw.closed:
			*out = append(*out, Change{Kind: KindAdded, Path: p.key(k).String(), Want: absent, Got: jsonType(child)})
		case len(vw.additional) > 0:
			w.value(w.view(vw.additional), childEx, child, p.key(k), out)
		case vw.open:
		case len(vw.props) > 0:
			*out = append(*out, Change{Kind: KindAdded, Path: p.key(k).String(), Want: absent, Got: jsonType(child)})
		}
	}
}

func (w *walker) matchPatterns(patterns map[string][]*openapi3.Schema, key string) []*openapi3.Schema {
	var out []*openapi3.Schema
	for pattern, ss := range patterns {
		re, ok := w.patterns[pattern]
		if !ok {
			re, _ = regexp.Compile(pattern) // nil for a pattern Go cannot compile: it matches nothing
			if w.patterns == nil {
				w.patterns = map[string]*regexp.Regexp{}
			}
			w.patterns[pattern] = re
		}
		if re != nil && re.MatchString(key) {
			out = append(out, ss...)
		}
	}
	return out
}

func (w *walker) array(vw *view, examples []any, arr []any, p path, out *[]Change) {
	var elemEx []any
	for _, ex := range examples {
		if a, ok := ex.([]any); ok {
			elemEx = append(elemEx, a...)
		}
	}
	for i, elem := range arr {
		var ss []*openapi3.Schema
		if i < len(vw.prefix) {
			ss = vw.prefix[i]
		} else {
			ss = vw.items
		}
		w.value(w.view(ss), elemEx, elem, p.index(i), out)
	}
}

// path is a location in a JSON value: object keys (string) and array
// indexes (int).
type path []any

func (p path) key(k string) path {
	return append(p[:len(p):len(p)], k)
}

func (p path) index(i int) path {
	return append(p[:len(p):len(p)], i)
}

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// String renders p as a JSONPath: $.data.allocataires[0].nom_naissance,
// with bracket notation for keys that are not identifiers: $['a b'].
func (p path) String() string {
	var b strings.Builder
	b.WriteByte('$')
	for _, seg := range p {
		switch s := seg.(type) {
		case int:
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(s))
			b.WriteByte(']')
		case string:
			if identifier.MatchString(s) {
				b.WriteByte('.')
				b.WriteString(s)
				continue
			}
			b.WriteString("['")
			b.WriteString(strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s))
			b.WriteString("']")
		}
	}
	return b.String()
}

// pointerPath turns the tokens of a JSON pointer into a path, telling
// array indexes from object keys by looking at body.
func pointerPath(body any, tokens []string) path {
	p := make(path, 0, len(tokens))
	cur := body
	for _, tok := range tokens {
		switch c := cur.(type) {
		case []any:
			if i, err := strconv.Atoi(tok); err == nil && i >= 0 {
				p = append(p, i)
				if i < len(c) {
					cur = c[i]
				} else {
					cur = nil
				}
				continue
			}
			p = append(p, tok)
			cur = nil
		case map[string]any:
			p = append(p, tok)
			cur = c[tok]
		default:
			p = append(p, tok)
			cur = nil
		}
	}
	return p
}
