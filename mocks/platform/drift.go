package platform

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// drift is a validated Drift with its path split into segments.
type drift struct {
	kind string
	segs []string // unescaped JSON pointer tokens; "*" is every array element
	to   string
}

// The JSON types a retype drift may turn a value into.
var jsonTypes = []string{"string", "number", "boolean", "object", "array", "null"}

// compileDrift validates d; at names it in errors ("rules[0].drift[1]").
func compileDrift(d Drift, at string) (drift, error) {
	switch d.Kind {
	case DriftRename, DriftRemove, DriftRetype:
	default:
		return drift{}, fieldErr(at+".kind", "%q is not one of %q, %q, %q", d.Kind, DriftRename, DriftRemove, DriftRetype)
	}
	segs, err := splitPointer(d.Path)
	if err != nil {
		return drift{}, fieldErr(at+".path", "%v", err)
	}
	switch d.Kind {
	case DriftRename:
		if d.To == "" {
			return drift{}, fieldErr(at+".to", "is required by kind %q (the new name)", DriftRename)
		}
		if segs[len(segs)-1] == "*" {
			return drift{}, fieldErr(at+".path", "a rename must end with a member name, not \"*\"")
		}
	case DriftRetype:
		if !slices.Contains(jsonTypes, d.To) {
			return drift{}, fieldErr(at+".to", "%q is not a JSON type (%s)", d.To, strings.Join(jsonTypes, ", "))
		}
	case DriftRemove:
		if d.To != "" {
			return drift{}, fieldErr(at+".to", "is not used by kind %q", DriftRemove)
		}
	}
	return drift{kind: d.Kind, segs: segs, to: d.To}, nil
}

// splitPointer splits a JSON pointer (RFC 6901) into unescaped tokens.
func splitPointer(p string) ([]string, error) {
	if !strings.HasPrefix(p, "/") {
		return nil, fmt.Errorf("%q is not a JSON pointer (it must start with \"/\")", p)
	}
	segs := strings.Split(p[1:], "/")
	for i, s := range segs {
		if !strings.Contains(s, "~") {
			continue
		}
		var b strings.Builder
		for j := 0; j < len(s); j++ {
			if s[j] != '~' {
				b.WriteByte(s[j])
				continue
			}
			if j+1 == len(s) || (s[j+1] != '0' && s[j+1] != '1') {
				return nil, fmt.Errorf("%q has a \"~\" not followed by 0 or 1", p)
			}
			if s[j+1] == '0' {
				b.WriteByte('~')
			} else {
				b.WriteByte('/')
			}
			j++
		}
		segs[i] = b.String()
	}
	return segs, nil
}

// ApplyDrift applies drifts to a JSON body the way a drift fault does and
// reports whether anything changed. Absent paths change nothing; a body that
// is not JSON is returned as is. The error names an invalid Drift
// ("drift[0].path: ...").
func ApplyDrift(body []byte, drifts ...Drift) ([]byte, bool, error) {
	ds := make([]drift, 0, len(drifts))
	for i, d := range drifts {
		cd, err := compileDrift(d, fmt.Sprintf("drift[%d]", i))
		if err != nil {
			return nil, false, fmt.Errorf("applying drift: %w", err)
		}
		ds = append(ds, cd)
	}
	out, changed := applyDrift(body, ds)
	return out, changed, nil
}

// applyDrift applies ds to a JSON body and returns the new body and whether
// anything changed. A body that is not JSON is returned as is.
func applyDrift(body []byte, ds []drift) ([]byte, bool) {
	root, err := parseOrdered(body)
	if err != nil {
		return body, false
	}
	changed := false
	for _, d := range ds {
		if d.apply(root, d.segs) {
			changed = true
		}
	}
	if !changed {
		return body, false
	}
	var buf bytes.Buffer
	buf.Grow(len(body))
	writeOrdered(&buf, root)
	return buf.Bytes(), true
}

// jsonObject is a JSON object that keeps its members' order.
type jsonObject struct{ members []member }

type member struct {
	key string
	val any
}

// jsonArray is a JSON array, by pointer so elements can be removed in place.
type jsonArray struct{ elems []any }

func (o *jsonObject) index(key string) int {
	return slices.IndexFunc(o.members, func(m member) bool { return m.key == key })
}

// apply applies d at segs below v, a container.
func (d drift) apply(v any, segs []string) bool {
	seg, last := segs[0], len(segs) == 1
	switch c := v.(type) {
	case *jsonObject:
		i := c.index(seg)
		if i < 0 {
			return false
		}
		if !last {
			return d.apply(c.members[i].val, segs[1:])
		}
		switch d.kind {
		case DriftRename:
			if d.to == seg {
				return false
			}
			// A member already named d.to gives way to the renamed one.
			if j := c.index(d.to); j >= 0 {
				c.members = slices.Delete(c.members, j, j+1)
				if j < i {
					i--
				}
			}
			c.members[i].key = d.to
		case DriftRemove:
			c.members = slices.Delete(c.members, i, i+1)
		case DriftRetype:
			nv, ok := retype(c.members[i].val, d.to)
			if !ok {
				return false
			}
			c.members[i].val = nv
		}
		return true
	case *jsonArray:
		var idx []int
		if seg == "*" {
			for i := range c.elems {
				idx = append(idx, i)
			}
		} else if i, ok := arrayIndex(seg, len(c.elems)); ok {
			idx = []int{i}
		}
		changed := false
		for _, i := range slices.Backward(idx) {
			if !last {
				changed = d.apply(c.elems[i], segs[1:]) || changed
				continue
			}
			switch d.kind {
			case DriftRemove:
				c.elems = slices.Delete(c.elems, i, i+1)
				changed = true
			case DriftRetype:
				if nv, ok := retype(c.elems[i], d.to); ok {
					c.elems[i] = nv
					changed = true
				}
			}
		}
		return changed
	}
	return false
}

// arrayIndex reads an RFC 6901 array index below n.
func arrayIndex(seg string, n int) (int, bool) {
	if seg == "" || (len(seg) > 1 && seg[0] == '0') {
		return 0, false
	}
	i, err := strconv.Atoi(seg)
	if err != nil || i < 0 || i >= n {
		return 0, false
	}
	return i, true
}

// retype converts v to the JSON type to; ok is false when v already has it.
func retype(v any, to string) (any, bool) {
	if jsonType(v) == to {
		return nil, false
	}
	switch to {
	case "string":
		switch x := v.(type) {
		case json.Number:
			return string(x), true
		case bool:
			return strconv.FormatBool(x), true
		case nil:
			return "", true
		default:
			var buf bytes.Buffer
			writeOrdered(&buf, v)
			return buf.String(), true
		}
	case "number":
		switch x := v.(type) {
		case string:
			if f, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil {
				return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), true
			}
			return json.Number("0"), true
		case bool:
			if x {
				return json.Number("1"), true
			}
			return json.Number("0"), true
		case *jsonArray:
			return json.Number(strconv.Itoa(len(x.elems))), true
		default:
			return json.Number("0"), true
		}
	case "boolean":
		switch x := v.(type) {
		case string:
			b, _ := strconv.ParseBool(x)
			return b, true
		case json.Number:
			f, _ := x.Float64()
			return f != 0, true
		case *jsonObject:
			return len(x.members) > 0, true
		case *jsonArray:
			return len(x.elems) > 0, true
		default:
			return false, true
		}
	case "object":
		return &jsonObject{members: []member{{key: "value", val: v}}}, true
	case "array":
		return &jsonArray{elems: []any{v}}, true
	default: // "null"
		return nil, true
	}
}

func jsonType(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "boolean"
	case *jsonObject:
		return "object"
	case *jsonArray:
		return "array"
	default:
		return "null"
	}
}

// parseOrdered parses one JSON value keeping the order of object members.
func parseOrdered(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	v, err := parseValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("parsing JSON: trailing data")
	}
	return v, nil
}

func parseValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("parsing JSON: %w", err)
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			o := &jsonObject{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, fmt.Errorf("parsing JSON: %w", err)
				}
				k, _ := kt.(string)
				v, err := parseValue(dec)
				if err != nil {
					return nil, err
				}
				o.members = append(o.members, member{key: k, val: v})
			}
			if _, err := dec.Token(); err != nil { // '}'
				return nil, fmt.Errorf("parsing JSON: %w", err)
			}
			return o, nil
		case '[':
			a := &jsonArray{}
			for dec.More() {
				v, err := parseValue(dec)
				if err != nil {
					return nil, err
				}
				a.elems = append(a.elems, v)
			}
			if _, err := dec.Token(); err != nil { // ']'
				return nil, fmt.Errorf("parsing JSON: %w", err)
			}
			return a, nil
		}
		return nil, fmt.Errorf("parsing JSON: unexpected %v", t)
	default:
		return tok, nil // string, json.Number, bool or nil
	}
}

// writeOrdered writes v as compact JSON.
func writeOrdered(buf *bytes.Buffer, v any) {
	switch x := v.(type) {
	case *jsonObject:
		buf.WriteByte('{')
		for i, m := range x.members {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeString(buf, m.key)
			buf.WriteByte(':')
			writeOrdered(buf, m.val)
		}
		buf.WriteByte('}')
	case *jsonArray:
		buf.WriteByte('[')
		for i, e := range x.elems {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeOrdered(buf, e)
		}
		buf.WriteByte(']')
	case string:
		writeString(buf, x)
	case json.Number:
		buf.WriteString(string(x))
	case bool:
		buf.WriteString(strconv.FormatBool(x))
	default:
		buf.WriteString("null")
	}
}

func writeString(buf *bytes.Buffer, s string) {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)           // a string always encodes
	buf.Truncate(buf.Len() - 1) // the encoder's newline
}
