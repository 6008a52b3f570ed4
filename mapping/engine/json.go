package engine

import (
	"math"
	"slices"
	"strconv"

	"github.com/go-json-experiment/json/jsontext"
)

// shape is the tree of output paths the rules write, keys in the order the
// spec first writes them: the output is encoded in that order.
type shape struct {
	keys     []string
	children map[string]*shape
	elem     *shape
}

func newShape() *shape { return &shape{} }

func (s *shape) add(p Path) {
	n := s
	for _, step := range p {
		if step == elemStep {
			if n.elem == nil {
				n.elem = newShape()
			}
			n = n.elem
			continue
		}
		if n.children == nil {
			n.children = map[string]*shape{}
		}
		c := n.children[step]
		if c == nil {
			c = newShape()
			n.children[step] = c
			n.keys = append(n.keys, step)
		}
		n = c
	}
}

// at returns the number of keys of the object at p, 0 if none.
func (s *shape) at(p Path) int {
	n := s
	for _, step := range p {
		if step == elemStep {
			n = n.elem
		} else {
			n = n.children[step]
		}
		if n == nil {
			return 0
		}
	}
	return len(n.keys)
}

// leaves appends the dotted path of every leaf under s.
func (s *shape) leaves(prefix Path, out *[]string) {
	if len(s.keys) == 0 && s.elem == nil {
		*out = append(*out, prefix.String())
		return
	}
	if s.elem != nil {
		s.elem.leaves(prefix.join(elemStep), out)
	}
	for _, k := range s.keys {
		s.children[k].leaves(prefix.join(k), out)
	}
}

// appendJSON encodes v, keys in the shape's order (then the others, sorted).
func appendJSON(b []byte, v any, s *shape) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case bool:
		return strconv.AppendBool(b, v), nil
	case string:
		return appendQuote(b, v)
	case int64:
		return strconv.AppendInt(b, v, 10), nil
	case float64:
		if math.IsInf(v, 0) || math.IsNaN(v) {
			return nil, errNotJSON
		}
		return jsontext.AppendFloat(b, v, 64), nil
	case []any:
		var es *shape
		if s != nil {
			es = s.elem
		}
		b = append(b, '[')
		for i, x := range v {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendJSON(b, x, es); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case map[string]any:
		b = append(b, '{')
		first := true
		field := func(k string, x any) error {
			if !first {
				b = append(b, ',')
			}
			first = false
			var err error
			if b, err = appendQuote(b, k); err != nil {
				return err
			}
			b = append(b, ':')
			var cs *shape
			if s != nil {
				cs = s.children[k]
			}
			b, err = appendJSON(b, x, cs)
			return err
		}
		done := 0
		if s != nil {
			for _, k := range s.keys {
				if x, ok := v[k]; ok {
					if err := field(k, x); err != nil {
						return nil, err
					}
					done++
				}
			}
		}
		if done < len(v) {
			rest := make([]string, 0, len(v)-done)
			for k := range v {
				if s == nil || s.children[k] == nil {
					rest = append(rest, k)
				}
			}
			slices.Sort(rest)
			for _, k := range rest {
				if err := field(k, v[k]); err != nil {
					return nil, err
				}
			}
		}
		return append(b, '}'), nil
	}
	return nil, errNotJSON
}

// appendQuote is jsontext.AppendQuote with a fast path for the common
// strings that need no escaping: printable ASCII other than the quote, the
// backslash and the characters HTML escaping would touch. The others go to
// jsontext, so the output is the same byte for byte.
func appendQuote(b []byte, s string) ([]byte, error) {
	for i := range len(s) {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return jsontext.AppendQuote(b, s)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"'), nil
}
