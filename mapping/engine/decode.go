package engine

import (
	"errors"
	"math"
	"slices"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

var errBadJSON = errors.New("the input is not one JSON object")

// maxDepth bounds the nesting of the input.
const maxDepth = 256

// decoder reads one JSON document (RFC 8259, UTF-8, no duplicate names in
// the objects it keeps) into the engine's values: map[string]any, []any,
// string, int64 (integers that fit), float64, bool and nil. In projected
// mode it keeps only what a readTree declares and notes the paths it drops;
// what it drops is checked for syntax but never copied.
type decoder struct {
	b       []byte
	s       string // b as a string: unescaped string values are slices of it
	i       int
	depth   int
	dropped []string
	buf     []byte // scratch: unescaped keys, dropped paths
}

// decodeAll reads a whole document.
func decodeAll(input []byte) (any, error) {
	d := decoder{b: input, s: string(input)}
	v, err := d.value()
	if err != nil {
		return nil, err
	}
	if d.ws(); d.i != len(d.b) {
		return nil, errBadJSON
	}
	return v, nil
}

// decodeProjected reads a document that must be an object, keeping what t
// declares; it returns the kept object and the paths it dropped.
func decodeProjected(input []byte, t *readTree) (map[string]any, []string, error) {
	d := decoder{b: input, s: string(input)}
	if d.ws(); d.i >= len(d.b) || d.b[d.i] != '{' {
		return nil, nil, errBadJSON
	}
	v, _, err := d.projected(t)
	if err != nil {
		return nil, nil, err
	}
	if d.ws(); d.i != len(d.b) {
		return nil, nil, errBadJSON
	}
	m, _ := v.(map[string]any)
	return m, d.dropped, nil
}

func (d *decoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// peek skips white space and returns the next byte, 0 at the end.
func (d *decoder) peek() byte {
	d.ws()
	if d.i >= len(d.b) {
		return 0
	}
	return d.b[d.i]
}

// projected reads one value under t. keep is false when the value does not
// have the shape t declares: the caller drops it.
func (d *decoder) projected(t *readTree) (v any, keep bool, err error) {
	if t.whole {
		v, err := d.value()
		return v, err == nil, err
	}
	switch d.peek() {
	case '{':
		if t.children == nil {
			return nil, false, d.skip()
		}
		if d.depth++; d.depth > maxDepth {
			return nil, false, errBadJSON
		}
		d.i++
		m := make(map[string]any, len(t.children))
		if d.peek() == '}' {
			d.i++
			d.depth--
			return m, true, nil
		}
		var seen uint64 // children met, when there are at most 64
		for {
			key, err := d.key()
			if err != nil {
				return nil, false, err
			}
			c := t.child(key)
			if c == nil {
				d.drop(t, key)
				if err := d.skip(); err != nil {
					return nil, false, err
				}
			} else {
				if c.index < 64 {
					if seen&(1<<c.index) != 0 {
						return nil, false, errBadJSON
					}
					seen |= 1 << c.index
				} else if _, dup := m[c.key]; dup {
					return nil, false, errBadJSON
				}
				x, keep, err := d.projected(c)
				if err != nil {
					return nil, false, err
				}
				if keep {
					m[c.key] = x
				} else {
					d.dropped = appendOnce(d.dropped, c.path)
				}
			}
			if done, err := d.next('}'); err != nil || done {
				d.depth--
				return m, true, err
			}
		}
	case '[':
		if t.elem == nil {
			return nil, false, d.skip()
		}
		if d.depth++; d.depth > maxDepth {
			return nil, false, errBadJSON
		}
		d.i++
		a := make([]any, 0, 4)
		if d.peek() == ']' {
			d.i++
			d.depth--
			return a, true, nil
		}
		for {
			x, keep, err := d.projected(t.elem)
			if err != nil {
				return nil, false, err
			}
			if !keep {
				d.dropped = appendOnce(d.dropped, t.elem.path)
				x = nil
			}
			a = append(a, x)
			if done, err := d.next(']'); err != nil || done {
				d.depth--
				return a, true, err
			}
		}
	case 'n':
		return nil, true, d.literal("null")
	}
	return nil, false, d.skip()
}

// drop notes t.key as dropped.
func (d *decoder) drop(t *readTree, key []byte) {
	p, ok := t.droppedPath(key)
	if !ok {
		d.buf = append(d.buf[:0], t.path...)
		if len(d.buf) > 0 {
			d.buf = append(d.buf, '.')
		}
		d.buf = append(d.buf, key...)
		for _, s := range d.dropped {
			if s == string(d.buf) {
				return
			}
		}
		p = string(d.buf)
		t.rememberDropped(key, p)
	}
	if d.dropped == nil {
		d.dropped = make([]string, 0, 8)
	}
	d.dropped = appendOnce(d.dropped, p)
}

func appendOnce(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// next reads the comma or the closing byte after a member or element.
func (d *decoder) next(closing byte) (done bool, err error) {
	switch d.peek() {
	case ',':
		d.i++
		return false, nil
	case closing:
		d.i++
		return true, nil
	}
	return false, errBadJSON
}

// key reads an object key and its colon. The bytes are valid until the next
// read.
func (d *decoder) key() ([]byte, error) {
	if d.peek() != '"' {
		return nil, errBadJSON
	}
	k, err := d.str(true)
	if err != nil {
		return nil, err
	}
	if d.peek() != ':' {
		return nil, errBadJSON
	}
	d.i++
	return k, nil
}

// value reads one whole value.
func (d *decoder) value() (any, error) {
	switch d.peek() {
	case '{':
		if d.depth++; d.depth > maxDepth {
			return nil, errBadJSON
		}
		d.i++
		m := map[string]any{}
		if d.peek() == '}' {
			d.i++
			d.depth--
			return m, nil
		}
		for {
			kb, err := d.key()
			if err != nil {
				return nil, err
			}
			if _, dup := m[string(kb)]; dup {
				return nil, errBadJSON
			}
			k := string(kb)
			v, err := d.value()
			if err != nil {
				return nil, err
			}
			m[k] = v
			if done, err := d.next('}'); err != nil || done {
				d.depth--
				return m, err
			}
		}
	case '[':
		if d.depth++; d.depth > maxDepth {
			return nil, errBadJSON
		}
		d.i++
		a := []any{}
		if d.peek() == ']' {
			d.i++
			d.depth--
			return a, nil
		}
		for {
			v, err := d.value()
			if err != nil {
				return nil, err
			}
			a = append(a, v)
			if done, err := d.next(']'); err != nil || done {
				d.depth--
				return a, err
			}
		}
	case '"':
		start := d.i + 1
		b, err := d.str(false)
		if err != nil {
			return nil, err
		}
		if len(b) > 0 && &b[0] == &d.b[start] {
			return d.s[start : start+len(b)], nil // no escape: share the input
		}
		return string(b), nil
	case 't':
		return true, d.literal("true")
	case 'f':
		return false, d.literal("false")
	case 'n':
		return nil, d.literal("null")
	}
	raw, err := d.number()
	if err != nil {
		return nil, err
	}
	return parseNumber(raw)
}

// skip reads one value without keeping it.
func (d *decoder) skip() error {
	switch d.peek() {
	case '{', '[':
		closing := byte('}')
		if d.b[d.i] == '[' {
			closing = ']'
		}
		obj := closing == '}'
		if d.depth++; d.depth > maxDepth {
			return errBadJSON
		}
		d.i++
		if d.peek() == closing {
			d.i++
			d.depth--
			return nil
		}
		for {
			if obj {
				if _, err := d.key(); err != nil {
					return err
				}
			}
			if err := d.skip(); err != nil {
				return err
			}
			if done, err := d.next(closing); err != nil || done {
				d.depth--
				return err
			}
		}
	case '"':
		_, err := d.str(false)
		return err
	case 't':
		return d.literal("true")
	case 'f':
		return d.literal("false")
	case 'n':
		return d.literal("null")
	}
	_, err := d.number()
	return err
}

func (d *decoder) literal(lit string) error {
	if len(d.b)-d.i < len(lit) || string(d.b[d.i:d.i+len(lit)]) != lit {
		return errBadJSON
	}
	d.i += len(lit)
	return nil
}

// number reads a number and returns its text.
func (d *decoder) number() ([]byte, error) {
	start := d.i
	b := d.b
	i := d.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return nil, errBadJSON
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return nil, errBadJSON
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return nil, errBadJSON
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	d.i = i
	return b[start:i], nil
}

// parseNumber returns an int64 for an integer that fits, a float64 otherwise.
func parseNumber(raw []byte) (any, error) {
	isInt := true
	for _, c := range raw {
		if c == '.' || c == 'e' || c == 'E' {
			isInt = false
			break
		}
	}
	if isInt && len(raw) < 19 {
		var n int64
		neg := raw[0] == '-'
		digits := raw
		if neg {
			digits = raw[1:]
		}
		for _, c := range digits {
			n = n*10 + int64(c-'0')
		}
		if neg {
			n = -n
		}
		return n, nil
	}
	if isInt {
		if n, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
			return n, nil
		}
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return nil, errBadJSON
	}
	if math.IsInf(f, 0) {
		return nil, errBadJSON
	}
	return f, nil
}

// str reads a string (the opening quote is at d.i) and returns its
// unescaped bytes: a slice of the input when it has no escapes, else of
// d.buf (key) or a fresh slice. Invalid UTF-8, control characters and lone
// surrogates are errors.
func (d *decoder) str(key bool) ([]byte, error) {
	b := d.b
	i := d.i + 1
	start := i
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			d.i = i + 1
			return b[start:i], nil
		case c == '\\':
			return d.strSlow(start, i, key)
		case c < 0x20:
			return nil, errBadJSON
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				return nil, errBadJSON
			}
			i += size
		}
	}
	return nil, errBadJSON
}

// strSlow finishes a string with escapes; b[start:i] is the plain prefix.
func (d *decoder) strSlow(start, i int, key bool) ([]byte, error) {
	b := d.b
	var out []byte
	if key {
		out = d.buf[:0]
	}
	out = append(out, b[start:i]...)
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			d.i = i + 1
			if key {
				d.buf = out
			}
			return out, nil
		case c == '\\':
			if i+1 >= len(b) {
				return nil, errBadJSON
			}
			e := b[i+1]
			i += 2
			switch e {
			case '"', '\\', '/':
				out = append(out, e)
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r, ok := hex4(b, i)
				if !ok {
					return nil, errBadJSON
				}
				i += 4
				if utf16.IsSurrogate(r) {
					if i+6 > len(b) || b[i] != '\\' || b[i+1] != 'u' {
						return nil, errBadJSON
					}
					r2, ok := hex4(b, i+2)
					if !ok {
						return nil, errBadJSON
					}
					r = utf16.DecodeRune(r, r2)
					if r == utf8.RuneError {
						return nil, errBadJSON
					}
					i += 6
				}
				out = utf8.AppendRune(out, r)
			default:
				return nil, errBadJSON
			}
		case c < 0x20:
			return nil, errBadJSON
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				return nil, errBadJSON
			}
			out = append(out, b[i:i+size]...)
			i += size
		}
	}
	return nil, errBadJSON
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c-'a') + 10
		case c >= 'A' && c <= 'F':
			r |= rune(c-'A') + 10
		default:
			return 0, false
		}
	}
	return r, true
}
