package engine

import (
	"cmp"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"cel.dev/cel-go/cel"
	"go.yaml.in/yaml/v3"
)

// Options configure how specs load. The zero value works: no canonical
// schemas (a "mapping:..." schema reference is then a problem), no schema
// files, and DefaultCostLimit.
type Options struct {
	// Schemas resolves the schema references "mapping:<entity>" to compiled
	// canonical schemas; in Relais, (*mapping.Schemas).Get. Default: none.
	Schemas SchemaSource
	// CostLimit bounds one evaluation of one expression, in CEL cost units; an
	// expression whose static estimate can exceed it does not load. Default:
	// DefaultCostLimit.
	CostLimit uint64
}

func (o Options) withDefaults() Options {
	if o.CostLimit == 0 {
		o.CostLimit = DefaultCostLimit
	}
	return o
}

// ruleKind says where a rule's value comes from.
type ruleKind int

const (
	kindFrom  ruleKind = iota // the value at from, as is
	kindExpr                  // a CEL expression (over value when from is set)
	kindTable                 // the value at from, through a code table
	kindConst                 // a constant
	kindBlock                 // one output element per element of an input array
)

// rule is a compiled rule.
type rule struct {
	index  int
	line   int
	target string // the absolute target pattern, for errors and provenance
	tpath  Path   // where the value goes, relative to the current output object
	kind   ruleKind

	from    Path // relative to the current input element; nil without from
	hasFrom bool
	fromAbs Path
	public  bool // the from value is not personal data

	expr, when cel.Program
	native     *intrinsic // the expression, when it is one helper on value
	tmpl       *template  // the expression, when CEL is not needed to run it
	whenTmpl   *template  // the when, when CEL is not needed to run it
	abs        Path       // the absolute target, [] for every element
	hints      []int      // key counts of the objects set makes on the way
	size       int        // blocks: key count of an element object
	table      map[string]any
	tableName  string
	constVal   any
	def        any
	hasDef     bool
	required   bool
	usesElem   bool // the expressions read elem
	usesInput  bool // the expressions read input

	// Blocks: each is the input array, relative to the current input element.
	each     Path
	rules    []*rule
	implicit map[string]*rule // blocks made from [] targets, by target and source
}

// Plan is a compiled spec, ready to run; it is safe for concurrent use.
type Plan struct {
	File, Name, Platform, Operation, Direction, Purpose string

	reads     *readTree
	readList  []string
	public    *readTree
	rules     []*rule
	shape     *shape
	prov      []string // output patterns whose values come from the input
	inSchema  *schema
	outSchema *schema
	hasInput  bool // some expression reads input
}

// Reads returns the declared input paths.
func (p *Plan) Reads() []string { return append([]string(nil), p.readList...) }

// Targets returns the output paths the rules may write, in order.
func (p *Plan) Targets() []string {
	var out []string
	p.shape.leaves(nil, &out)
	return out
}

var (
	celEnvOnce sync.Once
	celEnv     *cel.Env
	celEnvErr  error
)

// sharedEnv returns the CEL environment every spec compiles in. Building it
// is costly; it is immutable once built, like a compiled regular expression,
// so one serves every loader.
func sharedEnv() (*cel.Env, error) {
	celEnvOnce.Do(func() { celEnv, celEnvErr = newCELEnv() })
	return celEnv, celEnvErr
}

// LoadFile loads the spec at file; schema files are read beside it.
func LoadFile(file string, opts Options) (*Plan, error) {
	src, err := os.ReadFile(file) //nolint:gosec // the caller names the spec to load
	if err != nil {
		return nil, &LoadError{File: file, Problems: []Problem{{File: file, Code: CodeRead, Message: "cannot read the spec: " + err.Error()}}}
	}
	dir := filepath.Dir(file)
	return compile(file, src, func(name string) ([]byte, error) {
		// schemaRef keeps name inside the spec's folder.
		return os.ReadFile(filepath.Join(dir, filepath.FromSlash(name))) //nolint:gosec // see above
	}, opts)
}

// LoadFS loads the spec at name in fsys; schema files are read beside it.
func LoadFS(fsys fs.FS, name string, opts Options) (*Plan, error) {
	src, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, &LoadError{File: name, Problems: []Problem{{File: name, Code: CodeRead, Message: "cannot read the spec: " + err.Error()}}}
	}
	dir := path.Dir(name)
	return compile(name, src, func(rel string) ([]byte, error) {
		return fs.ReadFile(fsys, path.Join(dir, rel))
	}, opts)
}

// Parse compiles a spec held in memory; name is used in problems. Schema
// files cannot be read: only "mapping:" references resolve.
func Parse(name string, src []byte, opts Options) (*Plan, error) {
	return compile(name, src, func(string) ([]byte, error) { return nil, fs.ErrNotExist }, opts)
}

// compiler holds what compiling one spec needs.
type compiler struct {
	r        *reader
	opts     Options
	env      *cel.Env
	tables   map[string]*tableDoc
	reads    *readTree
	public   *readTree
	forbid   []Path
	targets  []targetUse
	shape    *shape
	prov     []string
	hasInput bool
	readFile func(string) ([]byte, error)
}

// targetUse is one leaf or block target, for the duplicate and conflict
// checks.
type targetUse struct {
	scope *rule // the block (or top) whose objects the target is written in
	abs   Path
	block bool
	cond  bool
	node  *yaml.Node
}

func compile(name string, src []byte, readFile func(string) ([]byte, error), opts Options) (*Plan, error) {
	opts = opts.withDefaults()
	r := &reader{file: name, src: src}
	d := r.parseDoc()
	if d == nil {
		return nil, &LoadError{File: name, Problems: r.problems}
	}
	env, err := sharedEnv()
	if err != nil {
		r.addAt(0, 0, CodeCELType, "building the CEL environment: "+err.Error())
		return nil, &LoadError{File: name, Problems: r.problems}
	}
	c := &compiler{r: r, opts: opts, env: env, tables: map[string]*tableDoc{}, reads: newReadTree(), public: newReadTree(), shape: newShape(), readFile: readFile}
	p := &Plan{
		File: name, Name: d.name.s, Platform: d.platform.s, Operation: d.operation.s,
		Direction: d.direction.s, Purpose: strings.TrimSpace(d.purpose.s),
	}
	for _, rd := range d.reads {
		rp, ok := c.path(rd, "reads")
		if ok {
			c.reads.add(rp)
			p.readList = append(p.readList, rp.String())
		}
	}
	for _, pd := range d.public {
		pp, ok := c.path(pd, "public")
		if !ok {
			continue
		}
		if !c.reads.covers(pp) {
			r.add(pd.n, CodeUndeclaredRead, "public path "+pp.String()+" is not declared in reads")
		}
		c.public.add(pp)
	}
	for _, fd := range d.forbidden {
		if fp, ok := c.path(fd, "forbidden"); ok {
			c.forbid = append(c.forbid, fp)
		}
	}
	for i := range d.tables {
		c.tables[d.tables[i].name.s] = &d.tables[i]
	}
	top := &rule{implicit: map[string]*rule{}}
	c.rules(top, d.rules, nil, nil, false)
	c.checkTargets()
	c.checkSelf(top.rules)
	c.sizeHints(top.rules)
	p.reads, p.public, p.rules, p.shape, p.prov, p.hasInput = c.reads, c.public, top.rules, c.shape, c.prov, c.hasInput
	p.inSchema = c.schema(d.inputSchema, "input_schema")
	p.outSchema = c.schema(d.outputSchema, "output_schema")
	if len(r.problems) > 0 {
		slices.SortStableFunc(r.problems, func(a, b Problem) int {
			return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
		})
		return nil, &LoadError{File: name, Problems: r.problems}
	}
	return p, nil
}

// path parses a path written in the spec.
func (c *compiler) path(a at, what string) (Path, bool) {
	p, err := ParsePath(a.s)
	if err != nil {
		c.r.add(a.n, CodeBadPath, what+": "+err.Error())
		return nil, false
	}
	return p, true
}

// rules compiles docs into parent; srcAbs and dstAbs are the absolute input
// and output paths of the current elements (ending with elemStep) inside a
// block, nil at the top.
func (c *compiler) rules(parent *rule, docs []*ruleDoc, srcAbs, dstAbs Path, inBlock bool) {
	for _, d := range docs {
		if !d.target.ok() {
			continue
		}
		tp, ok := c.path(d.target, "target")
		if !ok {
			continue
		}
		if d.each.ok() {
			c.block(parent, d, tp, srcAbs, dstAbs)
			continue
		}
		if len(d.rules) > 0 {
			c.r.add(d.node, CodeBadRule, "nested rules need each")
			continue
		}
		var from Path
		if d.from.ok() {
			if from, ok = c.path(d.from, "from"); !ok {
				continue
			}
		}
		c.leafOrImplicit(parent, d, tp, from, srcAbs, dstAbs, inBlock)
	}
}

// block compiles an explicit each block.
func (c *compiler) block(parent *rule, d *ruleDoc, tp, srcAbs, dstAbs Path) {
	ep, ok := c.path(d.each, "each")
	if !ok {
		return
	}
	if len(tp) < 2 || tp[len(tp)-1] != elemStep || tp[:len(tp)-1].elems() > 0 {
		c.r.add(d.target.n, CodeArrayMismatch, "the target of an each block ends with [] and has no other []")
		return
	}
	if len(ep) < 2 || ep[len(ep)-1] != elemStep || ep[:len(ep)-1].elems() > 0 {
		c.r.add(d.each.n, CodeArrayMismatch, "each names one input array: a path ending with [] and no other []")
		return
	}
	for _, bad := range []struct {
		set  bool
		name string
	}{{d.from.ok(), "from"}, {d.expr.ok(), "expr"}, {d.table.ok(), "table"}, {d.constNode != nil, "const"}, {d.defaultNode != nil, "default"}, {d.reverse, "reverse"}} {
		if bad.set {
			c.r.add(d.node, CodeBadRule, "an each block takes target, each, when, required and rules, not "+bad.name)
		}
	}
	if len(d.rules) == 0 {
		c.r.add(d.node, CodeBadRule, "an each block needs rules")
		return
	}
	eachAbs := srcAbs.join(ep...)
	if !c.reads.reaches(eachAbs) {
		c.r.add(d.each.n, CodeUndeclaredRead, "each ranges over "+eachAbs.String()+", under which reads declares nothing")
	}
	b := &rule{
		abs: dstAbs.join(tp...), index: d.index, line: d.node.Line, target: dstAbs.join(tp...).String(), tpath: tp[:len(tp)-1], kind: kindBlock,
		each: ep[:len(ep)-1], required: d.required, implicit: map[string]*rule{},
	}
	if d.when.ok() {
		b.when, _, b.whenTmpl = c.cel(d.when, eachAbs, true, false, true, &b.usesElem, &b.usesInput)
	}
	c.use(parent, dstAbs.join(tp...), true, d.when.ok(), d.target.n)
	parent.rules = append(parent.rules, b)
	c.rules(b, d.rules, eachAbs, dstAbs.join(tp...), true)
}

// leafOrImplicit compiles a rule without each; a target with [] becomes a
// child of an implicit block keyed by its target and source arrays.
func (c *compiler) leafOrImplicit(parent *rule, d *ruleDoc, tp, from, srcAbs, dstAbs Path, inBlock bool) {
	th, tt, tArr := tp.splitElem()
	fh, ft, fArr := from.splitElem()
	switch {
	case tArr && !fArr:
		c.r.add(d.target.n, CodeArrayMismatch, "a target with [] needs a from with [] (the input array), or an each block")
		return
	case !tArr && fArr:
		c.r.add(d.from.n, CodeArrayMismatch, "from ranges over an array but the target has no []: use each, or an expr over input")
		return
	case tArr:
		if th[:len(th)-1].elems() > 0 || len(th) < 2 {
			c.r.add(d.target.n, CodeBadPath, "target: [] must follow a key")
			return
		}
		key := th.String() + "|" + fh.String()
		b := parent.implicit[key]
		eachAbs := srcAbs.join(fh...)
		if b == nil {
			if !c.reads.reaches(eachAbs) {
				c.r.add(d.from.n, CodeUndeclaredRead, "from ranges over "+eachAbs.String()+", under which reads declares nothing")
			}
			b = &rule{abs: dstAbs.join(th...), index: d.index, line: d.node.Line, target: dstAbs.join(th...).String(), tpath: th[:len(th)-1], kind: kindBlock, each: fh[:len(fh)-1], implicit: map[string]*rule{}}
			parent.implicit[key] = b
			parent.rules = append(parent.rules, b)
			c.use(parent, dstAbs.join(th...), true, false, d.target.n)
		}
		c.leafOrImplicit(b, d, tt, ft, eachAbs, dstAbs.join(th...), true)
		return
	}
	c.leaf(parent, d, tp, from, srcAbs, dstAbs, inBlock)
}

// leaf compiles a rule that writes one value.
func (c *compiler) leaf(parent *rule, d *ruleDoc, tp, from, srcAbs, dstAbs Path, inBlock bool) {
	r := &rule{index: d.index, line: d.node.Line, tpath: tp, required: d.required}
	abs := dstAbs.join(tp...)
	r.target, r.abs = abs.String(), abs
	if len(tp) == 0 && !inBlock {
		c.r.add(d.target.n, CodeBadPath, "target must not be empty")
		return
	}
	hasConst, hasExpr, hasTable, hasFrom := d.constNode != nil, d.expr.ok(), d.table.ok(), d.from.ok()
	switch {
	case hasConst && (hasFrom || hasExpr || hasTable):
		c.r.add(d.node, CodeBadRule, "const excludes from, expr and table")
		return
	case hasTable && hasExpr:
		c.r.add(d.node, CodeBadRule, "a rule takes table or expr, not both")
		return
	case hasTable && !hasFrom:
		c.r.add(d.table.n, CodeBadRule, "table needs from")
		return
	case !hasConst && !hasExpr && !hasFrom:
		c.r.add(d.node, CodeBadRule, "a rule needs from, expr or const")
		return
	case d.reverse && !hasTable:
		c.r.add(d.node, CodeBadRule, "reverse needs table")
		return
	case hasConst && d.defaultNode != nil:
		c.r.add(d.defaultNode, CodeBadRule, "a const rule needs no default")
		return
	}
	if hasFrom {
		r.from, r.hasFrom = from, true
		r.fromAbs = srcAbs.join(from...)
		if !c.reads.covers(r.fromAbs) {
			c.r.add(d.from.n, CodeUndeclaredRead, "from reads "+r.fromAbs.String()+", which reads does not declare")
		}
		r.public = c.public.covers(r.fromAbs)
	}
	switch {
	case hasConst:
		r.kind = kindConst
		v, err := yamlValue(d.constNode)
		if err != nil {
			c.r.add(d.constNode, CodeBadValue, "const: "+err.Error())
		}
		r.constVal = v
	case hasExpr:
		r.kind = kindExpr
		r.expr, r.native, r.tmpl = c.cel(d.expr, srcAbs, inBlock, hasFrom, false, &r.usesElem, &r.usesInput)
	case hasTable:
		r.kind = kindTable
		r.tableName = d.table.s
		r.table = c.table(d.table, d.reverse)
	default:
		r.kind = kindFrom
	}
	if d.when.ok() {
		r.when, _, r.whenTmpl = c.cel(d.when, srcAbs, inBlock, hasFrom, true, &r.usesElem, &r.usesInput)
	}
	if d.defaultNode != nil {
		v, err := yamlValue(d.defaultNode)
		if err != nil {
			c.r.add(d.defaultNode, CodeBadValue, "default: "+err.Error())
		}
		r.def, r.hasDef = v, true
	}
	for _, f := range c.forbid {
		if abs.hasPrefix(f) || f.hasPrefix(abs) {
			c.r.add(d.target.n, CodeForbiddenTarget, "target "+abs.String()+" writes the forbidden path "+f.String())
		}
	}
	if len(tp) > 0 {
		c.use(parent, abs, false, d.when.ok(), d.target.n)
	}
	if hasFrom || r.usesElem || r.usesInput {
		c.prov = append(c.prov, abs.String())
	}
	parent.rules = append(parent.rules, r)
}

// use records a target for the duplicate and conflict checks and the output
// key order.
func (c *compiler) use(scope *rule, abs Path, block, cond bool, n *yaml.Node) {
	c.targets = append(c.targets, targetUse{scope: scope, abs: abs, block: block, cond: cond, node: n})
	c.shape.add(abs)
}

// checkTargets reports two rules writing one path, and a rule writing inside
// another's value.
func (c *compiler) checkTargets() {
	for i, a := range c.targets {
		for _, b := range c.targets[:i] {
			switch {
			case a.scope != b.scope:
				// Different blocks write different elements.
			case a.block && b.block:
				// Blocks over one array append to it.
			case len(a.abs) == len(b.abs) && a.abs.hasPrefix(b.abs):
				if a.block != b.block {
					c.r.add(a.node, CodeTargetConflict, "target "+a.abs.String()+" is both an array of elements and a value")
				} else if !a.cond || !b.cond {
					c.r.add(a.node, CodeDuplicateTarget, "target "+a.abs.String()+" is written by an earlier rule; give both a when to choose between them")
				}
			case !b.block && a.abs.hasPrefix(b.abs), !a.block && b.abs.hasPrefix(a.abs):
				c.r.add(a.node, CodeTargetConflict, "targets "+b.abs.String()+" and "+a.abs.String()+" overlap: one is inside the other's value")
			}
		}
	}
}

// sizeHints records, for each rule, the key counts of the output objects it
// creates, so that maps are made at their final size.
func (c *compiler) sizeHints(rules []*rule) {
	for _, r := range rules {
		base := r.abs[:len(r.abs)-len(r.tpath)]
		if r.kind == kindBlock {
			base = r.abs[:len(r.abs)-len(r.tpath)-1]
		}
		for i := range max(len(r.tpath)-1, 0) {
			r.hints = append(r.hints, c.shape.at(base.join(r.tpath[:i+1]...)))
		}
		if r.kind == kindBlock {
			r.size = c.shape.at(r.abs)
			c.sizeHints(r.rules)
		}
	}
}

// checkSelf reports a block whose elements are a rule's value (empty target)
// and also get other fields.
func (c *compiler) checkSelf(rules []*rule) {
	for _, b := range rules {
		if b.kind != kindBlock {
			continue
		}
		for _, r := range b.rules {
			if r.kind != kindBlock && len(r.tpath) == 0 && len(b.rules) > 1 {
				c.r.addAt(r.line, 0, CodeTargetConflict, "target "+r.target+" makes each element a value: the block can have no other rule")
				break
			}
		}
		c.checkSelf(b.rules)
	}
}

// table returns the code table a rule names, reversed if asked.
func (c *compiler) table(name at, reverse bool) map[string]any {
	td := c.tables[name.s]
	if td == nil {
		c.r.add(name.n, CodeUnknownTable, "no table "+quoteKey(name.s)+" in tables")
		return nil
	}
	out := make(map[string]any, len(td.entries))
	for _, e := range td.entries {
		k, v := e.key, e.value
		if reverse {
			k, v = v, k
		}
		kv, err := yamlValue(k)
		if err != nil {
			c.r.add(k, CodeBadTable, err.Error())
			continue
		}
		key, _ := scalarKey(kv)
		val, err := yamlValue(v)
		if err != nil {
			c.r.add(v, CodeBadTable, err.Error())
			continue
		}
		if _, dup := out[key]; dup {
			what := "code"
			if reverse {
				what = "value (the table is used reversed and must be one-to-one)"
			}
			c.r.add(k, CodeBadTable, "table "+quoteKey(name.s)+" has the same "+what+" twice")
			continue
		}
		out[key] = val
	}
	return out
}

// cel compiles an expression and checks its reads and cost. elemAbs is the
// input path of the current element (nil at the top). Beside the program it
// returns the intrinsic or the template that runs the expression without
// CEL, if any.
func (c *compiler) cel(a at, elemAbs Path, inBlock, hasFrom, boolean bool, usesElem, usesInput *bool) (cel.Program, *intrinsic, *template) {
	env := c.env
	parsed, iss := env.Parse(a.s)
	if iss.Err() != nil {
		for _, e := range iss.Errors() {
			l, col := c.r.exprPos(a.n, e.Location.Line(), e.Location.Column()+1)
			c.r.addAt(l, col, CodeCELSyntax, e.Message)
		}
		return nil, nil, nil
	}
	checked, iss := env.Check(parsed)
	if iss.Err() != nil {
		for _, e := range iss.Errors() {
			l, col := c.r.exprPos(a.n, e.Location.Line(), e.Location.Column()+1)
			c.r.addAt(l, col, CodeCELType, e.Message)
		}
		return nil, nil, nil
	}
	if boolean && !checked.OutputType().IsAssignableType(cel.BoolType) {
		c.r.add(a.n, CodeCELType, "when must be a boolean expression, not "+checked.OutputType().String())
		return nil, nil, nil
	}
	native := checked.NativeRep()
	w := &readWalker{}
	if inBlock {
		w.elem = elemAbs
	}
	w.walk(native.Expr())
	info := native.SourceInfo()
	pos := func(id int64) (int, int) {
		loc := info.GetStartLocation(id)
		return c.r.exprPos(a.n, loc.Line(), loc.Column()+1)
	}
	ok := true
	for _, rd := range w.reads {
		l, col := pos(rd.id)
		root := rd.path
		switch {
		case rd.whole:
			c.r.addAt(l, col, CodeUndeclaredRead, "the expression reads the whole input; select the declared fields (input.a.b)")
			ok = false
		case rd.dynamic:
			c.r.addAt(l, col, CodeUndeclaredRead, "a computed index into "+root.String()+" cannot be checked against reads; use constant keys")
			ok = false
		case !c.reads.reaches(root):
			// A container of declared fields is fine: at run time it holds
			// only them.
			c.r.addAt(l, col, CodeUndeclaredRead, "the expression reads "+root.String()+", which reads does not declare")
			ok = false
		}
	}
	for _, rg := range w.ranges {
		if !c.reads.reaches(rg.path) {
			l, col := pos(rg.id)
			c.r.addAt(l, col, CodeUndeclaredRead, "the expression ranges over "+rg.path.String()+", under which reads declares nothing")
			ok = false
		}
	}
	*usesElem = *usesElem || w.usesElem
	*usesInput = *usesInput || w.usesInput
	if w.usesVal && !hasFrom {
		c.r.add(a.n, CodeBadRule, "the expression uses value but the rule has no from")
		ok = false
	}
	if w.elemOutside {
		c.r.add(a.n, CodeBadRule, "the expression uses elem outside an each block")
		ok = false
	}
	est, err := env.EstimateCost(checked, estimator{})
	switch {
	case err != nil:
		c.r.add(a.n, CodeCELCost, "the cost of the expression cannot be estimated: "+err.Error())
		ok = false
	case est.Max > c.opts.CostLimit:
		c.r.add(a.n, CodeCELCost, "the expression may cost up to "+formatUint(est.Max)+", over the limit of "+formatUint(c.opts.CostLimit))
		ok = false
	}
	if !ok {
		return nil, nil, nil
	}
	if *usesInput {
		c.hasInput = true
	}
	prg, err := env.Program(checked, cel.CostLimit(c.opts.CostLimit), cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		c.r.add(a.n, CodeCELType, "building the program: "+err.Error())
		return nil, nil, nil
	}
	if in := intrinsicOf(native.Expr()); in != nil {
		return prg, in, nil
	}
	return prg, nil, templateOf(native)
}

func formatUint(n uint64) string { return strconv.FormatUint(n, 10) }
