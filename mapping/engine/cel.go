package engine

import (
	"errors"
	"math"
	"strings"

	"github.com/relais-dev/relais/mapping"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/cost"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
	"cel.dev/cel-go/ext"
	"cel.dev/cel-go/interpreter"
)

// Names of the variables an expression sees.
const (
	varInput = "input" // the whole input, reduced to the declared reads
	varValue = "value" // the value of the rule's from path
	varElem  = "elem"  // the current element of the enclosing each
	varAt    = "at"    // when the platform answered (RunOptions.Source.At), a timestamp
)

// Bounds the static cost estimate assumes for input data: every string, list
// or object read from the input has at most this many bytes or elements. The
// run-time cost limit still stops an expression fed larger data.
const inputSizeBound = 256

// DefaultCostLimit is the cost limit of one evaluation of one expression when
// Options.CostLimit is zero, in CEL cost units (about 50 ns each).
const DefaultCostLimit = 100_000

// newCELEnv builds the environment every expression compiles in: the three
// variables, the strings extension and Relais's helpers.
func newCELEnv() (*cel.Env, error) {
	return cel.NewEnv(
		cel.Variable(varInput, cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable(varValue, cel.DynType),
		cel.Variable(varElem, cel.DynType),
		cel.Variable(varAt, cel.TimestampType),
		ext.Strings(),
		cel.Function("partialDate",
			cel.Overload("partialDate_string", []*cel.Type{cel.StringType}, cel.StringType,
				cel.UnaryBinding(celPartialDate))),
		cel.Function("givenNames",
			cel.Overload("givenNames_string", []*cel.Type{cel.StringType}, cel.ListType(cel.StringType),
				cel.UnaryBinding(celGivenNames))),
		cel.Function("emptyToNull",
			cel.Overload("emptyToNull_string", []*cel.Type{cel.StringType}, cel.DynType,
				cel.UnaryBinding(celEmptyToNull))),
		cel.ParserExpressionSizeLimit(4096),
	)
}

// PartialDate normalises a date of birth that may be partly unknown to the
// canonical form of mapping.PartialDate: "YYYY", "YYYY-MM" or "YYYY-MM-DD";
// "00" stands for an unknown month or day ("1980-06-00" gives "1980-06").
// It is mapping.ParsePartialDate, the one place that rule lives.
func PartialDate(s string) (string, error) {
	d, err := mapping.ParsePartialDate(s)
	return string(d), err
}

func celPartialDate(v ref.Val) ref.Val {
	s, ok := v.(types.String)
	if !ok {
		return types.NewErr("partialDate: not a string")
	}
	d, err := PartialDate(string(s))
	if err != nil {
		return types.NewErr("partialDate: invalid date")
	}
	return types.String(d)
}

// GivenNames splits the platforms' space-separated given names: "JEAN
// PHILIPPE" is two names, "JEAN-PHILIPPE" one. Only ASCII white space
// separates names.
func GivenNames(s string) []string {
	return strings.FieldsFunc(s, isASCIISpace)
}

func celGivenNames(v ref.Val) ref.Val {
	s, ok := v.(types.String)
	if !ok {
		return types.NewErr("givenNames: not a string")
	}
	names := GivenNames(string(s))
	out := make([]ref.Val, len(names))
	for i, n := range names {
		out[i] = types.String(n)
	}
	return types.NewRefValList(types.DefaultTypeAdapter, out)
}

// intrinsic is a helper called on value alone, run without the CEL
// interpreter: same result, a fraction of the cost. fn's ok is false where
// the CEL call would fail; message then says why, in French.
type intrinsic struct {
	fn      func(v any) (out any, ok bool)
	message string
}

var intrinsics = map[string]*intrinsic{
	"partialDate": {
		fn: func(v any) (any, bool) {
			s, ok := v.(string)
			if !ok {
				return nil, false
			}
			d, err := PartialDate(s)
			if err != nil {
				return nil, false
			}
			if d == s {
				return v, true // already canonical: no new value
			}
			return d, true
		},
		message: "date invalide : attendu AAAA-MM-JJ, AAAA-MM ou AAAA (00 pour un mois ou un jour inconnu)",
	},
	"givenNames": {
		fn: func(v any) (any, bool) {
			s, ok := v.(string)
			if !ok {
				return nil, false
			}
			return givenNamesAny(s), true
		},
		message: "prénoms illisibles : attendu un texte",
	},
	"emptyToNull": {
		fn: func(v any) (any, bool) {
			s, ok := v.(string)
			if !ok {
				return nil, false
			}
			if strings.TrimSpace(s) == "" {
				return nil, true
			}
			return v, true
		},
		message: "attendu un texte",
	},
}

// givenNamesAny is GivenNames with one allocation for the list.
func givenNamesAny(s string) []any {
	n := 0
	in := false
	for i := 0; i < len(s); i++ {
		sp := asciiSpace(s[i])
		if !sp && !in {
			n++
		}
		in = !sp
	}
	out := make([]any, 0, n)
	start := -1
	for i := 0; i <= len(s); i++ {
		if i == len(s) || asciiSpace(s[i]) {
			if start >= 0 {
				out = append(out, s[start:i])
				start = -1
			}
		} else if start < 0 {
			start = i
		}
	}
	return out
}

func asciiSpace(c byte) bool { return isASCIISpace(rune(c)) }

func isASCIISpace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\v' || r == '\f'
}

// intrinsicOf returns the intrinsic an expression is, if it is one helper
// called on value.
func intrinsicOf(e ast.Expr) *intrinsic {
	if e.Kind() != ast.CallKind {
		return nil
	}
	c := e.AsCall()
	if c.IsMemberFunction() || len(c.Args()) != 1 {
		return nil
	}
	a := c.Args()[0]
	if a.Kind() != ast.IdentKind || a.AsIdent() != varValue {
		return nil
	}
	return intrinsics[c.FunctionName()]
}

func celEmptyToNull(v ref.Val) ref.Val {
	if s, ok := v.(types.String); ok && strings.TrimSpace(string(s)) == "" {
		return types.NullValue
	}
	return v
}

// estimator bounds what the static cost estimate cannot know: the size of
// input data and the cost of Relais's helpers.
type estimator struct{}

func (estimator) EstimateSize(n cost.AstNode) *cost.SizeEstimate {
	if p := n.Path(); len(p) > 0 && (p[0] == varInput || p[0] == varValue || p[0] == varElem) {
		return &cost.SizeEstimate{Min: 0, Max: inputSizeBound}
	}
	return nil
}

func (estimator) EstimateCallCost(_, overloadID string, _ *cost.AstNode, args []cost.AstNode) *cost.CallEstimate {
	switch overloadID {
	case "partialDate_string", "emptyToNull_string":
		return &cost.CallEstimate{CostEstimate: cost.FixedCostEstimate(2)}
	case "givenNames_string":
		sz := cost.SizeEstimate{Min: 0, Max: inputSizeBound}
		if len(args) == 1 {
			if c := args[0].ComputedSize(); c != nil {
				sz = *c
			}
		}
		return &cost.CallEstimate{
			CostEstimate: sz.MultiplyByCostFactor(0.1).Add(cost.FixedCostEstimate(cost.ListCreateBaseCost + 1)),
			ResultSize:   &cost.SizeEstimate{Min: 0, Max: sz.Max, Elem: &sz},
		}
	}
	return nil
}

// readWalker collects the input paths an expression reads.
type readWalker struct {
	// elem is the input path of the enclosing each's element (ending with
	// elemStep); nil outside an each.
	elem Path
	// aliases maps comprehension variables to the input path they range over.
	aliases map[string]Path
	reads   []exprRead
	ranges  []exprRead
	usesVal bool
	// usesInput and usesElem say which variables the expression reads;
	// elemOutside that it names elem outside an each block.
	usesInput, usesElem, elemOutside bool
}

// exprRead is one read, at an expression node.
type exprRead struct {
	path    Path
	id      int64
	dynamic bool // an index that cannot be checked, or the whole input
	whole   bool // the whole input
}

func (w *readWalker) walk(e ast.Expr) {
	if p, ok, dyn := w.chain(e); ok {
		w.reads = append(w.reads, exprRead{path: p, id: e.ID(), dynamic: dyn, whole: len(p) == 0})
		return
	}
	switch e.Kind() {
	case ast.IdentKind:
		if e.AsIdent() == varValue {
			w.usesVal = true
		}
	case ast.SelectKind:
		w.walk(e.AsSelect().Operand())
	case ast.CallKind:
		c := e.AsCall()
		if c.IsMemberFunction() {
			w.walk(c.Target())
		}
		for _, a := range c.Args() {
			w.walk(a)
		}
	case ast.ListKind:
		for _, x := range e.AsList().Elements() {
			w.walk(x)
		}
	case ast.MapKind:
		for _, x := range e.AsMap().Entries() {
			me := x.AsMapEntry()
			w.walk(me.Key())
			w.walk(me.Value())
		}
	case ast.StructKind:
		for _, x := range e.AsStruct().Fields() {
			w.walk(x.AsStructField().Value())
		}
	case ast.ComprehensionKind:
		c := e.AsComprehension()
		rng := c.IterRange()
		saved := map[string]Path{}
		restore := func(name string) {
			if old, ok := saved[name]; ok {
				if old == nil {
					delete(w.aliases, name)
				} else {
					w.aliases[name] = old
				}
			}
		}
		bind := func(name string, p Path) {
			if name == "" {
				return
			}
			if w.aliases == nil {
				w.aliases = map[string]Path{}
			}
			saved[name] = w.aliases[name]
			if p == nil {
				delete(w.aliases, name)
				return
			}
			w.aliases[name] = p
		}
		if p, ok, dyn := w.chain(rng); ok && !dyn && len(p) > 0 {
			// Ranging over input data: the loop variable stands for an element.
			// The range itself is checked for reach; its elements through the
			// loop variable's uses.
			w.ranges = append(w.ranges, exprRead{path: p, id: rng.ID()})
			if c.HasIterVar2() {
				bind(c.IterVar(), nil) // an index or a key, not data
				bind(c.IterVar2(), p.join(elemStep))
			} else {
				bind(c.IterVar(), p.join(elemStep))
			}
		} else {
			w.walk(rng)
			bind(c.IterVar(), nil)
			if c.HasIterVar2() {
				bind(c.IterVar2(), nil)
			}
		}
		bind(c.AccuVar(), nil)
		w.walk(c.AccuInit())
		w.walk(c.LoopCondition())
		w.walk(c.LoopStep())
		w.walk(c.Result())
		restore(c.AccuVar())
		if c.HasIterVar2() {
			restore(c.IterVar2())
		}
		restore(c.IterVar())
	}
}

// chain returns the input path e denotes when e is a chain of selections and
// constant indexes rooted at input, elem or a loop variable over input data.
// dyn is true when the chain has an index that cannot be checked.
func (w *readWalker) chain(e ast.Expr) (p Path, ok, dyn bool) {
	switch e.Kind() {
	case ast.IdentKind:
		name := e.AsIdent()
		if a, found := w.aliases[name]; found {
			return a, true, false
		}
		switch name {
		case varInput:
			w.usesInput = true
			return Path{}, true, false
		case varElem:
			if w.elem != nil {
				w.usesElem = true
				return w.elem, true, false
			}
			w.elemOutside = true
		}
		return nil, false, false
	case ast.SelectKind:
		s := e.AsSelect()
		p, ok, dyn := w.chain(s.Operand())
		if !ok {
			return nil, false, false
		}
		return p.join(s.FieldName()), true, dyn
	case ast.CallKind:
		c := e.AsCall()
		if c.FunctionName() != "_[_]" || len(c.Args()) != 2 {
			return nil, false, false
		}
		p, ok, dyn := w.chain(c.Args()[0])
		if !ok {
			return nil, false, false
		}
		idx := c.Args()[1]
		if idx.Kind() == ast.LiteralKind {
			switch k := idx.AsLiteral().(type) {
			case types.Int, types.Uint:
				return p.join(elemStep), true, dyn
			case types.String:
				return p.join(string(k)), true, dyn
			}
		}
		w.walk(idx)
		return p, true, true
	}
	return nil, false, false
}

// activation hands an expression its variables without a map.
type activation struct {
	input, value, elem, at ref.Val
}

func (a *activation) ResolveName(name string) (any, bool) {
	switch name {
	case varInput:
		return a.input, true
	case varValue:
		return a.value, true
	case varElem:
		return a.elem, true
	case varAt:
		return a.at, true
	}
	return nil, false
}

func (a *activation) Parent() interpreter.Activation { return nil }

// toCEL converts a decoded JSON value to a CEL value.
func toCEL(v any) ref.Val {
	switch v := v.(type) {
	case nil:
		return types.NullValue
	case string:
		return types.String(v)
	case int64:
		return types.Int(v)
	case float64:
		return types.Double(v)
	case bool:
		return types.Bool(v)
	}
	return types.DefaultTypeAdapter.NativeToValue(v)
}

var errNotJSON = errors.New("value has no JSON form")

// fromCEL converts an expression's result to a JSON value.
func fromCEL(v ref.Val) (any, error) {
	switch v := v.(type) {
	case types.Null:
		return nil, nil
	case types.String:
		return string(v), nil
	case types.Int:
		return int64(v), nil
	case types.Uint:
		if uint64(v) > math.MaxInt64 {
			return float64(v), nil
		}
		return int64(v), nil //nolint:gosec // checked just above
	case types.Double:
		return float64(v), nil
	case types.Bool:
		return bool(v), nil
	case traits.Lister:
		n := int(v.Size().(types.Int))
		out := make([]any, 0, n)
		it := v.Iterator()
		for it.HasNext() == types.True {
			x, err := fromCEL(it.Next())
			if err != nil {
				return nil, err
			}
			out = append(out, x)
		}
		return out, nil
	case traits.Mapper:
		out := map[string]any{}
		it := v.Iterator()
		for it.HasNext() == types.True {
			k := it.Next()
			ks, ok := k.(types.String)
			if !ok {
				return nil, errNotJSON
			}
			val, found := v.Find(k)
			if !found {
				continue
			}
			x, err := fromCEL(val)
			if err != nil {
				return nil, err
			}
			out[string(ks)] = x
		}
		return out, nil
	}
	return nil, errNotJSON
}
