package engine

import (
	"errors"
	"math"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Version is the value of the spec key of every spec this engine reads.
const Version = "relais.mapping/v1"

// Directions of a spec.
const (
	// Inbound specs map a platform's answer to the canonical model.
	Inbound = "inbound"
	// Outbound specs map the canonical model to what a platform expects.
	Outbound = "outbound"
)

// at is a scalar string and where it was written; n is nil when the key is
// absent.
type at struct {
	s string
	n *yaml.Node
}

func (a at) ok() bool { return a.n != nil }

// specDoc is a spec as written, with the node of every value for positions.
type specDoc struct {
	root                                                   *yaml.Node
	version, name, platform, operation, direction, purpose at
	inputSchema, outputSchema                              *yaml.Node
	reads, public, forbidden                               []at
	tables                                                 []tableDoc
	rules                                                  []*ruleDoc
}

type tableDoc struct {
	name    at
	entries []tableEntry
}

type tableEntry struct {
	key, value *yaml.Node
}

type ruleDoc struct {
	node                            *yaml.Node
	index                           int
	target, from, expr, table, when at
	each                            at
	reverse, required               bool
	constNode, defaultNode          *yaml.Node
	rules                           []*ruleDoc
}

var (
	topKeys  = []string{"spec", "name", "platform", "operation", "direction", "purpose", "description", "input_schema", "output_schema", "reads", "public", "tables", "rules", "forbidden"}
	ruleKeys = []string{"target", "from", "expr", "table", "reverse", "const", "when", "default", "required", "each", "rules"}
)

// reader walks the YAML tree and collects problems with their positions.
type reader struct {
	file     string
	src      []byte
	problems []Problem
	ruleSeq  int
}

func (r *reader) add(n *yaml.Node, code, msg string) {
	p := Problem{File: r.file, Code: code, Message: msg}
	if n != nil {
		p.Line, p.Column = n.Line, n.Column
	}
	r.problems = append(r.problems, p)
}

func (r *reader) addAt(line, col int, code, msg string) {
	r.problems = append(r.problems, Problem{File: r.file, Line: line, Column: col, Code: code, Message: msg})
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

// parseDoc reads the YAML of a spec. It returns nil when the file is not a
// YAML mapping; the problems are in r.
func (r *reader) parseDoc() *specDoc {
	var root yaml.Node
	if err := yaml.Unmarshal(r.src, &root); err != nil {
		line := 0
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			line, _ = strconv.Atoi(m[1])
		}
		r.addAt(line, 0, CodeYAML, strings.TrimPrefix(err.Error(), "yaml: "))
		return nil
	}
	if root.Kind != yaml.DocumentNode || len(root.Content) == 0 {
		r.addAt(1, 1, CodeMissingKey, "the spec is empty")
		return nil
	}
	top := root.Content[0]
	if top.Kind != yaml.MappingNode {
		r.add(top, CodeBadValue, "a spec is a YAML mapping")
		return nil
	}
	d := &specDoc{root: top}
	f := r.fields(top, topKeys)
	d.version = r.str(top, f, "spec", true)
	if d.version.ok() && d.version.s != Version {
		r.add(d.version.n, CodeBadVersion, "spec must be "+Version)
	}
	d.name = r.str(top, f, "name", true)
	d.platform = r.str(top, f, "platform", true)
	d.operation = r.str(top, f, "operation", true)
	d.direction = r.str(top, f, "direction", true)
	if d.direction.ok() && d.direction.s != Inbound && d.direction.s != Outbound {
		r.add(d.direction.n, CodeBadValue, "direction must be inbound or outbound")
	}
	d.purpose = r.str(top, f, "purpose", true)
	r.str(top, f, "description", false)
	d.inputSchema, d.outputSchema = f["input_schema"], f["output_schema"]
	d.reads = r.strList(top, f, "reads", true)
	d.public = r.strList(top, f, "public", false)
	d.forbidden = r.strList(top, f, "forbidden", false)
	if n := f["tables"]; n != nil {
		d.tables = r.tables(n)
	}
	rules := f["rules"]
	if rules == nil {
		r.add(top, CodeMissingKey, "rules is required")
	} else {
		d.rules = r.ruleList(rules)
		if len(d.rules) == 0 && rules.Kind == yaml.SequenceNode {
			r.add(rules, CodeMissingKey, "rules must not be empty")
		}
	}
	return d
}

// fields checks that n is a mapping with known, unique keys and returns the
// value node of each key.
func (r *reader) fields(n *yaml.Node, known []string) map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		r.add(n, CodeBadValue, "expected a mapping")
		return out
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch {
		case k.Kind != yaml.ScalarNode:
			r.add(k, CodeBadValue, "keys are plain strings")
		case !contains(known, k.Value):
			r.add(k, CodeUnknownKey, "unknown key "+quoteKey(k.Value)+suggest(k.Value, known))
		case out[k.Value] != nil:
			r.add(k, CodeDuplicateKey, "key "+quoteKey(k.Value)+" is given twice")
		default:
			out[k.Value] = deref(v)
		}
	}
	return out
}

// deref follows YAML aliases (*anchor) to the node they name.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 16; i++ {
		n = n.Alias
	}
	return n
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// suggest names the known key closest to s, if it is close.
func suggest(s string, known []string) string {
	best, dist := "", 3
	for _, k := range known {
		if d := editDistance(s, k); d < dist {
			best, dist = k, d
		}
	}
	if best == "" {
		return ""
	}
	return " (did you mean " + best + "?)"
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return math.MaxInt
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := prev[j-1]
			if a[i-1] != b[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// str reads a non-empty string scalar.
func (r *reader) str(parent *yaml.Node, f map[string]*yaml.Node, key string, required bool) at {
	n := f[key]
	if n == nil {
		if required {
			r.add(parent, CodeMissingKey, key+" is required")
		}
		return at{}
	}
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		r.add(n, CodeBadValue, key+" must be a string")
		return at{}
	}
	if strings.TrimSpace(n.Value) == "" {
		r.add(n, CodeMissingKey, key+" must not be empty")
		return at{}
	}
	return at{n.Value, n}
}

func (r *reader) boolean(f map[string]*yaml.Node, key string) bool {
	n := f[key]
	if n == nil {
		return false
	}
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		r.add(n, CodeBadValue, key+" must be true or false")
		return false
	}
	return n.Value == "true"
}

func (r *reader) strList(parent *yaml.Node, f map[string]*yaml.Node, key string, required bool) []at {
	n := f[key]
	if n == nil {
		if required {
			r.add(parent, CodeMissingKey, key+" is required")
		}
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		r.add(n, CodeBadValue, key+" must be a list of strings")
		return nil
	}
	if required && len(n.Content) == 0 {
		r.add(n, CodeMissingKey, key+" must not be empty")
	}
	out := make([]at, 0, len(n.Content))
	for _, c := range n.Content {
		c = deref(c)
		if c.Kind != yaml.ScalarNode || c.Tag == "!!null" || c.Value == "" {
			r.add(c, CodeBadValue, key+" must be a list of strings")
			continue
		}
		out = append(out, at{c.Value, c})
	}
	return out
}

func (r *reader) tables(n *yaml.Node) []tableDoc {
	if n.Kind != yaml.MappingNode {
		r.add(n, CodeBadValue, "tables must map a table name to its codes")
		return nil
	}
	var out []tableDoc
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], deref(n.Content[i+1])
		if k.Kind != yaml.ScalarNode || !isIdent(k.Value) {
			r.add(k, CodeBadValue, "a table name is an identifier")
			continue
		}
		if seen[k.Value] {
			r.add(k, CodeDuplicateKey, "table "+quoteKey(k.Value)+" is given twice")
			continue
		}
		seen[k.Value] = true
		t := tableDoc{name: at{k.Value, k}}
		if v.Kind != yaml.MappingNode || len(v.Content) == 0 {
			r.add(v, CodeBadTable, "table "+quoteKey(k.Value)+" must map codes to codes")
			continue
		}
		for j := 0; j+1 < len(v.Content); j += 2 {
			ck, cv := v.Content[j], deref(v.Content[j+1])
			if ck.Kind != yaml.ScalarNode || cv.Kind != yaml.ScalarNode || ck.Tag == "!!null" || cv.Tag == "!!null" {
				r.add(ck, CodeBadTable, "table entries map a scalar to a scalar")
				continue
			}
			t.entries = append(t.entries, tableEntry{ck, cv})
		}
		out = append(out, t)
	}
	return out
}

func (r *reader) ruleList(n *yaml.Node) []*ruleDoc {
	if n.Kind != yaml.SequenceNode {
		r.add(n, CodeBadValue, "rules must be a list")
		return nil
	}
	out := make([]*ruleDoc, 0, len(n.Content))
	for _, c := range n.Content {
		if rd := r.rule(deref(c)); rd != nil {
			out = append(out, rd)
		}
	}
	return out
}

// maxRules bounds the rules of one spec, YAML aliases expanded.
const maxRules = 10_000

func (r *reader) rule(n *yaml.Node) *ruleDoc {
	r.ruleSeq++
	if r.ruleSeq > maxRules {
		if r.ruleSeq == maxRules+1 {
			r.add(n, CodeBadValue, "too many rules (aliases expanded): at most "+strconv.Itoa(maxRules))
		}
		return nil
	}
	rd := &ruleDoc{node: n, index: r.ruleSeq}
	if n.Kind != yaml.MappingNode {
		r.add(n, CodeBadValue, "a rule is a mapping")
		return nil
	}
	f := r.fields(n, ruleKeys)
	rd.target = r.str(n, f, "target", true)
	rd.from = r.str(n, f, "from", false)
	rd.expr = r.str(n, f, "expr", false)
	rd.table = r.str(n, f, "table", false)
	rd.when = r.str(n, f, "when", false)
	rd.each = r.str(n, f, "each", false)
	rd.reverse = r.boolean(f, "reverse")
	rd.required = r.boolean(f, "required")
	rd.constNode, rd.defaultNode = f["const"], f["default"]
	if c := f["rules"]; c != nil {
		rd.rules = r.ruleList(c)
		if len(rd.rules) == 0 && c.Kind == yaml.SequenceNode {
			r.add(c, CodeMissingKey, "rules must not be empty")
		}
	}
	return rd
}

// yamlValue converts a YAML node to the JSON-like values the engine works
// on: nil, bool, int64, float64, string, []any, map[string]any.
func yamlValue(n *yaml.Node) (any, error) {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	switch n.Kind {
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return nil, nil
		case "!!bool":
			return n.Value == "true", nil
		case "!!int":
			var i int64
			if err := n.Decode(&i); err != nil {
				return nil, errors.New("integer out of range")
			}
			return i, nil
		case "!!float":
			var f float64
			if err := n.Decode(&f); err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
				return nil, errors.New("not a finite number")
			}
			return f, nil
		case "!!str", "":
			return n.Value, nil
		}
		return nil, errors.New("unsupported YAML tag " + n.Tag)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := yamlValue(c)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode {
				return nil, errors.New("object keys are strings")
			}
			v, err := yamlValue(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			out[k.Value] = v
		}
		return out, nil
	}
	return nil, errors.New("unsupported YAML value")
}

// scalarKey is the string a scalar is looked up by in a code table.
func scalarKey(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case int64:
		return strconv.FormatInt(v, 10), true
	case bool:
		return strconv.FormatBool(v), true
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64), true
	}
	return "", false
}

// exprPos maps a position inside an expression (1-based line and column, as
// CEL reports them) to the spec file.
func (r *reader) exprPos(n *yaml.Node, line, col int) (int, int) {
	switch n.Style {
	case yaml.LiteralStyle, yaml.FoldedStyle:
		// The text starts on the line after the indicator.
		l := n.Line + line
		return l, r.indentOf(l) + col
	case yaml.DoubleQuotedStyle, yaml.SingleQuotedStyle:
		if line <= 1 {
			return n.Line, n.Column + col
		}
	default:
		if line <= 1 {
			return n.Line, n.Column + col - 1
		}
	}
	return n.Line + line - 1, 0
}

// indentOf returns the number of leading spaces of a 1-based line of the
// source.
func (r *reader) indentOf(line int) int {
	s := r.src
	for l := 1; l < line; l++ {
		i := strings.IndexByte(string(s), '\n')
		if i < 0 {
			return 0
		}
		s = s[i+1:]
	}
	n := 0
	for n < len(s) && s[n] == ' ' {
		n++
	}
	return n
}
