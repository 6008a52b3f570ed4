package engine

import (
	"errors"
	"maps"
	"strings"
	"sync/atomic"
)

// elemStep is the step of a Path that stands for every element of an array.
const elemStep = "[]"

// Path is a field path split into steps: object keys, and elemStep for "each
// element of this array". "data.allocataires[].prenoms" is
// {"data", "allocataires", "[]", "prenoms"}.
type Path []string

// ParsePath parses a dotted field path. Keys are identifiers (letters, digits
// and underscores, not starting with a digit), each optionally followed by one
// or more "[]". The empty string is the empty path.
func ParsePath(s string) (Path, error) {
	if s == "" {
		return nil, nil
	}
	var p Path
	for part := range strings.SplitSeq(s, ".") {
		key := strings.TrimRight(part, "[]")
		rest := part[len(key):]
		if key == "" {
			return nil, errors.New("empty key")
		}
		if !isIdent(key) {
			return nil, errors.New("key " + quoteKey(key) + " is not an identifier (letters, digits, _)")
		}
		if len(rest)%2 != 0 || strings.ReplaceAll(rest, "[]", "") != "" {
			return nil, errors.New("malformed [] after " + quoteKey(key))
		}
		p = append(p, key)
		for range len(rest) / 2 {
			p = append(p, elemStep)
		}
	}
	return p, nil
}

func quoteKey(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return "\"" + s + "\""
}

func isIdent(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case '0' <= c && c <= '9':
			if i == 0 {
				return false
			}
		default:
			return false
		}
	}
	return s != ""
}

// String writes the path back in its dotted form.
func (p Path) String() string {
	var b strings.Builder
	for i, s := range p {
		if s != elemStep && i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s)
	}
	return b.String()
}

// join returns the concatenation of p and q as a new path.
func (p Path) join(q ...string) Path {
	out := make(Path, 0, len(p)+len(q))
	return append(append(out, p...), q...)
}

// hasPrefix reports whether q is a prefix of p, step by step.
func (p Path) hasPrefix(q Path) bool {
	if len(q) > len(p) {
		return false
	}
	for i := range q {
		if p[i] != q[i] {
			return false
		}
	}
	return true
}

// elems counts the elemSteps of p.
func (p Path) elems() int {
	n := 0
	for _, s := range p {
		if s == elemStep {
			n++
		}
	}
	return n
}

// splitElem splits p at its first elemStep: head ends with the elemStep.
func (p Path) splitElem() (head, tail Path, ok bool) {
	for i, s := range p {
		if s == elemStep {
			return p[:i+1], p[i+1:], true
		}
	}
	return p, nil, false
}

// readTree is the set of declared reads, shaped like the input: a node is
// kept whole when it is declared, or kept for its declared descendants.
type readTree struct {
	whole    bool
	index    int    // the node's position among its parent's children
	key      string // the node's key in its parent object
	path     string // the node's dotted path, for dropped-field reports
	children map[string]*readTree
	list     []*readTree // the children in order, for small nodes
	elem     *readTree
	// dropped caches the paths of undeclared keys met under this node, so
	// that reporting them does not allocate: a copy-on-write map, bounded.
	dropped atomic.Pointer[map[string]string]
}

// maxDroppedCache bounds the dropped paths a node remembers.
const maxDroppedCache = 32

func (t *readTree) droppedPath(key []byte) (string, bool) {
	m := t.dropped.Load()
	if m == nil {
		return "", false
	}
	p, ok := (*m)[string(key)]
	return p, ok
}

func (t *readTree) rememberDropped(key []byte, path string) {
	for {
		old := t.dropped.Load()
		var m map[string]string
		if old != nil {
			if len(*old) >= maxDroppedCache {
				return
			}
			m = maps.Clone(*old)
		} else {
			m = map[string]string{}
		}
		m[string(key)] = path
		if t.dropped.CompareAndSwap(old, &m) {
			return
		}
	}
}

func newReadTree() *readTree { return &readTree{} }

// add declares p.
func (t *readTree) add(p Path) {
	n := t
	for i, s := range p {
		if n.whole {
			return
		}
		var c *readTree
		if s == elemStep {
			if n.elem == nil {
				n.elem = &readTree{path: p[:i+1].String()}
			}
			c = n.elem
		} else {
			if n.children == nil {
				n.children = map[string]*readTree{}
			}
			if c = n.children[s]; c == nil {
				c = &readTree{key: s, path: p[:i+1].String(), index: len(n.list)}
				n.children[s] = c
				n.list = append(n.list, c)
			}
		}
		n = c
	}
	n.whole, n.children, n.list, n.elem = true, nil, nil, nil
}

// child returns the child at key, nil if undeclared. Small nodes are
// scanned: faster than hashing the key.
func (t *readTree) child(key []byte) *readTree {
	if len(t.list) <= 8 {
		for _, c := range t.list {
			if c.key == string(key) {
				return c
			}
		}
		return nil
	}
	return t.children[string(key)]
}

// covers reports whether reading p is allowed: some declared read is p or
// one of its ancestors.
func (t *readTree) covers(p Path) bool {
	n, inWhole := t.walk(p)
	return inWhole || n != nil && n.whole
}

// reaches reports whether p is a declared read, an ancestor of one, or inside
// one: iterating p or selecting through it can lead to declared data.
func (t *readTree) reaches(p Path) bool {
	n, inWhole := t.walk(p)
	return inWhole || n != nil
}

// walk follows p down the tree. It returns the node at p (nil when reads
// declares nothing there), or inWhole when p is inside a value declared
// whole.
func (t *readTree) walk(p Path) (n *readTree, inWhole bool) {
	n = t
	for _, s := range p {
		if n.whole {
			return nil, true
		}
		if s == elemStep {
			n = n.elem
		} else {
			n = n.children[s]
		}
		if n == nil {
			return nil, false
		}
	}
	return n, false
}
