package engine

import (
	"math"

	"cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/types"
)

// template is an expression run without the CEL interpreter: the common
// shapes of mapping expressions (object and list literals whose leaves are
// constants or selections of value, elem or input; has(); a conditional; &&,
// ||; equality with a string constant; string concatenation) compiled to a
// tree of Go nodes. It gives the result CEL would give, converted to JSON
// (fromCEL), or fails where CEL would fail. An expression with any other
// node stays with CEL. Templates are built only for expressions that passed
// every load check (reads, cost), so those checks are unchanged.
type template struct {
	op     tmplOp
	val    any         // tmplConst
	field  string      // tmplSelect, tmplHas
	kids   []*template // operands, list elements, map values
	keys   []string    // tmplMap
	negate bool        // tmplEq: !=
}

type tmplOp uint8

const (
	tmplConst  tmplOp = iota // val
	tmplValue                // the variable value
	tmplElem                 // the variable elem
	tmplInput                // the variable input
	tmplSelect               // kids[0].field, an error unless an object with field
	tmplHas                  // has(kids[0].field)
	tmplList                 // [kids...]
	tmplMap                  // {keys[i]: kids[i]}
	tmplCond                 // kids[0] ? kids[1] : kids[2]
	tmplAnd                  // kids[0] && kids[1]
	tmplOr                   // kids[0] || kids[1]
	tmplEq                   // kids[0] == val (a string), or != with negate
	tmplConcat               // kids[0] + kids[1], both strings
)

// tmplVars are the variables a template reads.
type tmplVars struct {
	value, elem any
	input       map[string]any
}

// templateOf compiles e into a template, or returns nil when e has a node a
// template does not handle.
func templateOf(a *ast.AST) *template {
	return tmplNode(a, a.Expr())
}

func tmplNode(a *ast.AST, e ast.Expr) *template {
	switch e.Kind() {
	case ast.LiteralKind:
		switch v := e.AsLiteral().(type) {
		case types.Null:
			return &template{op: tmplConst, val: nil}
		case types.String:
			return &template{op: tmplConst, val: string(v)}
		case types.Int:
			return &template{op: tmplConst, val: int64(v)}
		case types.Uint:
			if uint64(v) > math.MaxInt64 {
				return &template{op: tmplConst, val: float64(v)}
			}
			return &template{op: tmplConst, val: int64(v)} //nolint:gosec // checked just above
		case types.Double:
			return &template{op: tmplConst, val: float64(v)}
		case types.Bool:
			return &template{op: tmplConst, val: bool(v)}
		}
		return nil
	case ast.IdentKind:
		switch e.AsIdent() {
		case varValue:
			return &template{op: tmplValue}
		case varElem:
			return &template{op: tmplElem}
		case varInput:
			return &template{op: tmplInput}
		}
		return nil
	case ast.SelectKind:
		s := e.AsSelect()
		x := tmplNode(a, s.Operand())
		if x == nil {
			return nil
		}
		op := tmplSelect
		if s.IsTestOnly() {
			op = tmplHas
		}
		return &template{op: op, field: s.FieldName(), kids: []*template{x}}
	case ast.ListKind:
		l := e.AsList()
		if len(l.OptionalIndices()) > 0 {
			return nil
		}
		t := &template{op: tmplList}
		for _, x := range l.Elements() {
			k := tmplNode(a, x)
			if k == nil {
				return nil
			}
			t.kids = append(t.kids, k)
		}
		return t
	case ast.MapKind:
		t := &template{op: tmplMap}
		for _, x := range e.AsMap().Entries() {
			me := x.AsMapEntry()
			if me.IsOptional() || me.Key().Kind() != ast.LiteralKind {
				return nil
			}
			key, ok := me.Key().AsLiteral().(types.String)
			if !ok {
				return nil
			}
			for _, seen := range t.keys {
				if seen == string(key) {
					return nil // CEL refuses a repeated key at run time
				}
			}
			k := tmplNode(a, me.Value())
			if k == nil {
				return nil
			}
			t.keys = append(t.keys, string(key))
			t.kids = append(t.kids, k)
		}
		return t
	case ast.CallKind:
		return tmplCall(a, e)
	}
	return nil
}

func tmplCall(a *ast.AST, e ast.Expr) *template {
	c := e.AsCall()
	if c.IsMemberFunction() {
		return nil
	}
	args := c.Args()
	kids := func() []*template {
		out := make([]*template, len(args))
		for i, x := range args {
			if out[i] = tmplNode(a, x); out[i] == nil {
				return nil
			}
		}
		return out
	}
	switch c.FunctionName() {
	case operators.Conditional:
		if k := kids(); k != nil {
			return &template{op: tmplCond, kids: k}
		}
	case operators.LogicalAnd, operators.LogicalOr:
		if len(args) != 2 {
			return nil
		}
		op := tmplAnd
		if c.FunctionName() == operators.LogicalOr {
			op = tmplOr
		}
		if k := kids(); k != nil {
			return &template{op: op, kids: k}
		}
	case operators.Equals, operators.NotEquals:
		if len(args) != 2 {
			return nil
		}
		x, lit := args[0], args[1]
		if x.Kind() == ast.LiteralKind {
			x, lit = lit, x
		}
		if lit.Kind() != ast.LiteralKind {
			return nil
		}
		s, ok := lit.AsLiteral().(types.String)
		if !ok {
			return nil
		}
		k := tmplNode(a, x)
		if k == nil {
			return nil
		}
		return &template{op: tmplEq, val: string(s), negate: c.FunctionName() == operators.NotEquals, kids: []*template{k}}
	case operators.Add:
		if len(args) != 2 || !isString(a, args[0]) || !isString(a, args[1]) {
			return nil
		}
		if k := kids(); k != nil {
			return &template{op: tmplConcat, kids: k}
		}
	}
	return nil
}

// isString reports that the checker typed e as a string.
func isString(a *ast.AST, e ast.Expr) bool {
	t := a.GetType(e.ID())
	return t != nil && t.Kind() == types.StringKind
}

// eval runs the template; ok is false where CEL would fail.
func (t *template) eval(v *tmplVars) (any, bool) {
	switch t.op {
	case tmplConst:
		return t.val, true
	case tmplValue:
		return v.value, true
	case tmplElem:
		return v.elem, true
	case tmplInput:
		return v.input, true
	case tmplSelect, tmplHas:
		x, ok := t.kids[0].eval(v)
		if !ok {
			return nil, false
		}
		m, isMap := x.(map[string]any)
		f, found := m[t.field]
		if t.op == tmplHas {
			// CEL: has() on a list is an error, on a scalar or null false.
			_, isList := x.([]any)
			return found, !isList
		}
		return f, isMap && found
	case tmplList:
		out := make([]any, len(t.kids))
		for i, k := range t.kids {
			x, ok := k.eval(v)
			if !ok {
				return nil, false
			}
			out[i] = x
		}
		return out, true
	case tmplMap:
		out := make(map[string]any, len(t.kids))
		for i, k := range t.kids {
			x, ok := k.eval(v)
			if !ok {
				return nil, false
			}
			out[t.keys[i]] = x
		}
		return out, true
	case tmplCond:
		c, ok := t.kids[0].eval(v)
		b, isBool := c.(bool)
		if !ok || !isBool {
			return nil, false
		}
		if b {
			return t.kids[1].eval(v)
		}
		return t.kids[2].eval(v)
	case tmplAnd, tmplOr:
		// CEL's logical operators are commutative: an absorbing operand
		// (false for &&, true for ||) wins over an error on the other side.
		absorb := t.op == tmplOr
		l, lok := t.kids[0].eval(v)
		lb, lBool := l.(bool)
		if lok && lBool && lb == absorb {
			return absorb, true
		}
		r, rok := t.kids[1].eval(v)
		rb, rBool := r.(bool)
		if rok && rBool && rb == absorb {
			return absorb, true
		}
		if !lok || !lBool || !rok || !rBool {
			return nil, false
		}
		return !absorb, true
	case tmplEq:
		x, ok := t.kids[0].eval(v)
		if !ok {
			return nil, false
		}
		s, isStr := x.(string)
		return (isStr && s == t.val.(string)) != t.negate, true
	case tmplConcat:
		l, lok := t.kids[0].eval(v)
		r, rok := t.kids[1].eval(v)
		ls, lStr := l.(string)
		rs, rStr := r.(string)
		if !lok || !rok || !lStr || !rStr {
			return nil, false
		}
		return ls + rs, true
	}
	return nil, false
}
