package engine

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/interpreter"
)

// Source says when an inbound payload was fetched and whether the platform
// served it from its cache. The plan adds its platform and operation.
type Source struct {
	// At is when the platform answered.
	At time.Time
	// Cached is true when the platform answered from its cache (API
	// Particulier's X-Response-Cached header).
	Cached bool
}

// Provenance says where the values of an inbound mapping come from. One
// Provenance covers a whole run: the values at Paths were pulled from
// Platform's Operation at At.
type Provenance struct {
	Platform  string    `json:"platform"`
	Operation string    `json:"operation"`
	At        time.Time `json:"at"`
	Cached    bool      `json:"cached"`
	// Paths are the output paths ("[]" for every element) whose values came
	// from the platform; the others are constants of the spec. The slice is
	// shared: do not modify it.
	Paths []string `json:"paths"`
}

// RunOptions tune one run.
type RunOptions struct {
	// Source is where the input comes from (inbound specs).
	Source Source
	// SkipValidation skips the input and output schemas, for callers that
	// validated the input already and trust the spec's output.
	SkipValidation bool
}

// Result is a mapped payload.
type Result struct {
	// Output is the mapped JSON: only the rules' targets.
	Output []byte
	// Dropped lists the input paths ("[]" for every element) that the spec
	// does not declare in reads: they never reached a rule.
	Dropped []string
	// Provenance is set for inbound specs.
	Provenance *Provenance
}

// Run maps one JSON payload. On errors it returns Errors (every problem
// found, each an *Error) and, once the input has been read, a Result with
// Dropped only.
func (p *Plan) Run(input []byte, opts RunOptions) (*Result, error) {
	if !opts.SkipValidation && p.inSchema != nil {
		full, err := decodeAll(input)
		if err != nil {
			return nil, Errors{{Code: CodeBadJSON, Message: "l'entrée n'est pas un objet JSON valide"}}
		}
		if errs := p.inSchema.validate(full, CodeInputSchema, p.public); len(errs) > 0 {
			return nil, errs
		}
	}
	in, dropped, err := decodeProjected(input, p.reads)
	if err != nil {
		return nil, Errors{{Code: CodeBadJSON, Message: "l'entrée n'est pas un objet JSON valide"}}
	}
	res := &Result{Dropped: dropped}
	s := &runner{plan: p, input: in}
	s.act.at = types.Timestamp{Time: opts.Source.At}
	s.srcIdx, s.dstIdx = s.idxBuf[0][:0], s.idxBuf[1][:0]
	out := make(map[string]any, len(p.shape.keys))
	s.apply(p.rules, &frame{src: in, dst: out})
	if len(s.errs) > 0 {
		return res, s.errs
	}
	if !opts.SkipValidation && p.outSchema != nil {
		if errs := p.outSchema.validate(out, CodeOutputSchema, nil); len(errs) > 0 {
			return res, errs
		}
	}
	b, err := appendJSON(make([]byte, 0, 1024), out, p.shape)
	if err != nil {
		return res, Errors{{Code: CodeTypeMismatch, Message: "la sortie contient une valeur sans forme JSON"}}
	}
	res.Output = b
	if p.Direction == Inbound {
		res.Provenance = &Provenance{Platform: p.Platform, Operation: p.Operation, At: opts.Source.At, Cached: opts.Source.Cached, Paths: p.prov}
	}
	return res, nil
}

// runner is the state of one run.
type runner struct {
	plan     *Plan
	input    map[string]any
	inputVal ref.Val
	act      activation
	tv       tmplVars
	errs     Errors
	srcIdx   []int // indices of the current input elements, outermost first
	dstIdx   []int // indices of the current output elements
	idxBuf   [2][4]int
}

// frame is the current input element and output object.
type frame struct {
	src     any
	dst     map[string]any
	elem    any
	elemVal ref.Val
	inBlock bool
	self    any
	hasSelf bool
}

func (s *runner) apply(rules []*rule, f *frame) {
	for _, r := range rules {
		if len(s.errs) >= maxErrors {
			return
		}
		if r.kind == kindBlock {
			s.block(r, f)
		} else {
			s.leaf(r, f)
		}
	}
}

func (s *runner) block(b *rule, f *frame) {
	v, _ := lookup(f.src, b.each)
	arr, _ := v.([]any)
	var out []any
	if prev, ok := lookup(f.dst, b.tpath); ok {
		out, _ = prev.([]any)
	}
	n := len(out)
	if len(arr) > 0 {
		out = append(make([]any, 0, n+len(arr)), out...)
	}
	s.srcIdx = append(s.srcIdx, 0)
	s.dstIdx = append(s.dstIdx, 0)
	child := &frame{inBlock: true}
	for i, e := range arr {
		s.srcIdx[len(s.srcIdx)-1] = i
		s.dstIdx[len(s.dstIdx)-1] = len(out)
		*child = frame{src: e, elem: e, inBlock: true}
		if b.when != nil {
			ok, failed := s.cond(b, child, nil, false)
			if failed || !ok {
				continue
			}
		}
		child.dst = make(map[string]any, b.size)
		s.apply(b.rules, child)
		if child.hasSelf {
			out = append(out, child.self)
		} else {
			out = append(out, child.dst)
		}
	}
	s.srcIdx = s.srcIdx[:len(s.srcIdx)-1]
	s.dstIdx = s.dstIdx[:len(s.dstIdx)-1]
	if len(out) == 0 {
		if b.required {
			s.fail(b, CodeRequired, "au moins un élément est obligatoire", false)
		}
		return
	}
	if len(out) > n {
		set(f.dst, b.tpath, out, true, b.hints)
	}
}

func (s *runner) leaf(r *rule, f *frame) {
	var v any
	present := false
	if r.hasFrom {
		v, present = lookup(f.src, r.from)
		present = present && v != nil
	}
	// A rule whose from is absent or null yields no value: its when, expr
	// and table are not evaluated, its default or required apply.
	if r.when != nil && (present || !r.hasFrom) {
		ok, failed := s.cond(r, f, v, present)
		if failed || !ok {
			return
		}
	}
	var out any
	has := false
	switch r.kind {
	case kindConst:
		out, has = r.constVal, true
	case kindFrom:
		out, has = v, present
	case kindTable:
		if !present {
			break
		}
		key, ok := scalarKey(v)
		if !ok {
			s.fail(r, CodeTypeMismatch, "une table de codes ne s'applique qu'à une valeur simple", true)
			return
		}
		if out, has = r.table[key]; !has && !r.hasDef {
			msg := "valeur absente de la table de codes « " + r.tableName + " »"
			if r.public {
				msg += " : " + strconv.Quote(key)
			}
			s.fail(r, CodeTableMiss, msg, true)
			return
		}
	case kindExpr:
		if r.hasFrom && !present {
			break
		}
		if r.native != nil {
			x, ok := r.native.fn(v)
			if !ok {
				s.fail(r, CodeExprError, r.native.message, true)
				return
			}
			out, has = x, x != nil
			break
		}
		if r.tmpl != nil {
			x, ok := r.tmpl.eval(s.vars(f, v, present))
			if !ok {
				s.fail(r, CodeExprError, "l'expression n'a pas pu être évaluée", true)
				return
			}
			out, has = x, x != nil
			break
		}
		res, ok := s.eval(r, r.expr, f, v, present)
		if !ok {
			return
		}
		x, err := fromCEL(res)
		if err != nil {
			s.fail(r, CodeTypeMismatch, "l'expression a produit une valeur sans forme JSON", true)
			return
		}
		out, has = x, x != nil
	}
	if r.required && has && isEmpty(out) {
		has = false
	}
	if !has {
		switch {
		case r.hasDef:
			out = r.def
		case r.required:
			s.fail(r, CodeRequired, "champ obligatoire sans valeur", true)
			return
		default:
			return
		}
	}
	if len(r.tpath) == 0 {
		f.self, f.hasSelf = out, true
		return
	}
	if !set(f.dst, r.tpath, out, false, r.hints) {
		s.fail(r, CodeWriteConflict, "deux règles écrivent ce champ", false)
	}
}

// isEmpty reports an empty string or list, which a required rule refuses.
func isEmpty(v any) bool {
	switch v := v.(type) {
	case string:
		return strings.TrimSpace(v) == ""
	case []any:
		return len(v) == 0
	}
	return false
}

// cond evaluates a when; failed is true when it could not be evaluated (an
// error was recorded).
func (s *runner) cond(r *rule, f *frame, v any, present bool) (ok, failed bool) {
	if r.whenTmpl != nil {
		res, evalOK := r.whenTmpl.eval(s.vars(f, v, present))
		if !evalOK {
			s.fail(r, CodeExprError, "l'expression n'a pas pu être évaluée", true)
			return false, true
		}
		b, isBool := res.(bool)
		if !isBool {
			s.fail(r, CodeTypeMismatch, "la condition when n'a pas produit un booléen", true)
			return false, true
		}
		return b, false
	}
	res, evalOK := s.eval(r, r.when, f, v, present)
	if !evalOK {
		return false, true
	}
	b, isBool := res.(types.Bool)
	if !isBool {
		s.fail(r, CodeTypeMismatch, "la condition when n'a pas produit un booléen", true)
		return false, true
	}
	return bool(b), false
}

// vars sets the variables of a template, as eval sets those of a program.
func (s *runner) vars(f *frame, v any, present bool) *tmplVars {
	s.tv = tmplVars{input: s.input}
	if present {
		s.tv.value = v
	}
	if f.inBlock {
		s.tv.elem = f.elem
	}
	return &s.tv
}

func (s *runner) eval(r *rule, prg cel.Program, f *frame, v any, present bool) (ref.Val, bool) {
	if s.plan.hasInput && s.inputVal == nil {
		s.inputVal = toCEL(s.input)
	}
	s.act.input = s.inputVal
	if s.act.input == nil {
		s.act.input = types.NullValue
	}
	s.act.value = types.NullValue
	if present {
		s.act.value = toCEL(v)
	}
	s.act.elem = types.NullValue
	if f.inBlock {
		if f.elemVal == nil {
			f.elemVal = toCEL(f.elem)
		}
		s.act.elem = f.elemVal
	}
	res, _, err := prg.Eval(&s.act)
	if err != nil {
		var cancelled interpreter.EvalCancelledError
		if errors.As(err, &cancelled) && cancelled.Cause == interpreter.CostLimitExceeded {
			s.fail(r, CodeCostLimit, "l'expression dépasse la limite de coût", true)
		} else {
			s.fail(r, CodeExprError, "l'expression n'a pas pu être évaluée", true)
		}
		return nil, false
	}
	return res, true
}

// fail records an error of rule r at the current elements.
func (s *runner) fail(r *rule, code, msg string, withSource bool) {
	if len(s.errs) >= maxErrors {
		return
	}
	e := &Error{Path: fillIndices(r.target, s.dstIdx), Rule: r.index, Line: r.line, Target: r.target, Code: code, Message: msg, Personal: !r.public}
	if withSource && r.hasFrom {
		e.Source = fillIndices(r.fromAbs.String(), s.srcIdx)
	}
	s.errs = append(s.errs, e)
	if len(s.errs) == maxErrors {
		s.errs = append(s.errs, &Error{Code: CodeTooManyErrors, Message: "trop d'erreurs : les suivantes ne sont pas listées"})
	}
}

// fillIndices writes the indices of the enclosing elements into the []s of
// a path pattern.
func fillIndices(pattern string, idx []int) string {
	if len(idx) == 0 || !strings.Contains(pattern, elemStep) {
		return pattern
	}
	var b strings.Builder
	i := 0
	for {
		j := strings.Index(pattern, elemStep)
		if j < 0 || i >= len(idx) {
			b.WriteString(pattern)
			return b.String()
		}
		b.WriteString(pattern[:j])
		b.WriteByte('[')
		b.WriteString(strconv.Itoa(idx[i]))
		b.WriteByte(']')
		pattern = pattern[j+len(elemStep):]
		i++
	}
}

// lookup follows a path of keys from v.
func lookup(v any, p Path) (any, bool) {
	for _, k := range p {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[k]; !ok {
			return nil, false
		}
	}
	return v, true
}

// set writes v at p under m, making the objects on the way (hints[i] is
// the number of keys the object at p[i] will get). It returns false when a
// value is already there, unless it is an array and grow is set (blocks
// append to the array of an earlier block).
func set(m map[string]any, p Path, v any, grow bool, hints []int) bool {
	for i, k := range p[:len(p)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			if _, taken := m[k]; taken {
				return false
			}
			size := 0
			if i < len(hints) {
				size = hints[i]
			}
			next = make(map[string]any, size)
			m[k] = next
		}
		m = next
	}
	last := p[len(p)-1]
	if old, taken := m[last]; taken {
		if _, isArr := old.([]any); !isArr || !grow {
			return false
		}
	}
	m[last] = v
	return true
}
