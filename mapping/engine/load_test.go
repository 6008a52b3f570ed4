package engine_test

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/relais-dev/relais/mapping/engine"
)

// head is a valid spec up to its rules: lines 1 to 12, rules start on
// line 13.
const head = `spec: relais.mapping/v1
name: test.inbound
platform: test
operation: op
direction: inbound
purpose: tests
reads:
  - a.b
  - a.n
  - a.list[].x
  - a.list[].y
rules:
`

func load(t *testing.T, src string) (*engine.Plan, *engine.LoadError) {
	t.Helper()
	p, err := engine.Parse("t.yaml", []byte(src), engine.Options{CostLimit: 10_000})
	if err == nil {
		return p, nil
	}
	var le *engine.LoadError
	if !errors.As(err, &le) {
		t.Fatalf("error is not a *LoadError: %v", err)
	}
	return nil, le
}

func TestLoadValid(t *testing.T) {
	t.Parallel()
	p, le := load(t, head+`  - target: out.b
    from: a.b
  - target: out.items[].x
    from: a.list[].x
`)
	if le != nil {
		t.Fatalf("a valid spec did not load: %v", le)
	}
	if got := strings.Join(p.Targets(), " "); got != "out.b out.items[].x" {
		t.Errorf("targets: %s", got)
	}
	if got := strings.Join(p.Reads(), " "); got != "a.b a.n a.list[].x a.list[].y" {
		t.Errorf("reads: %s", got)
	}
}

// TestLoadProblems checks that every kind of problem is reported with its
// code at its line and column.
func TestLoadProblems(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, src string
		code      string
		line, col int
	}{
		{"yaml syntax", head + "  - target: [out\n", engine.CodeYAML, 12, 0},
		{"not a mapping", "- a\n", engine.CodeBadValue, 1, 1},
		{"unknown top key", strings.Replace(head, "purpose: tests\n", "purpose: tests\npurpsoe: x\n", 1) + "  - {target: o, const: 1}\n", engine.CodeUnknownKey, 7, 1},
		{"unknown rule key", head + "  - target: out.b\n    form: a.b\n", engine.CodeUnknownKey, 14, 5},
		{"duplicate key", head + "  - target: out.b\n    from: a.b\n    from: a.n\n", engine.CodeDuplicateKey, 15, 5},
		{"missing purpose", strings.Replace(head, "purpose: tests\n", "", 1) + "  - {target: o, const: 1}\n", engine.CodeMissingKey, 1, 1},
		{"empty purpose", strings.Replace(head, "purpose: tests\n", "purpose: '  '\n", 1) + "  - {target: o, const: 1}\n", engine.CodeMissingKey, 6, 10},
		{"bad version", strings.Replace(head, "relais.mapping/v1", "relais.mapping/v2", 1) + "  - {target: o, const: 1}\n", engine.CodeBadVersion, 1, 7},
		{"bad direction", strings.Replace(head, "direction: inbound", "direction: sideways", 1) + "  - {target: o, const: 1}\n", engine.CodeBadValue, 5, 12},
		{"no rules", head + "  []\n", engine.CodeMissingKey, 13, 3},
		{"bad path", head + "  - target: out.b\n    from: a..b\n", engine.CodeBadPath, 14, 11},
		{"bad path chars", head + "  - target: out.b-c\n    from: a.b\n", engine.CodeBadPath, 13, 13},
		{"undeclared from", head + "  - target: out.b\n    from: a.c\n", engine.CodeUndeclaredRead, 14, 11},
		{"from the parent of a read", head + "  - target: out.b\n    from: a\n", engine.CodeUndeclaredRead, 14, 11},
		{"undeclared in expr", head + "  - target: out.b\n    expr: input.a.b + input.a.secret\n", engine.CodeUndeclaredRead, 14, 30},
		{"undeclared through elem", head + "  - target: out.l[]\n    each: a.list[]\n    rules:\n      - target: z\n        expr: elem.z\n", engine.CodeUndeclaredRead, 17, 19},
		{"undeclared through a loop", head + "  - target: out.b\n    expr: input.a.list.map(i, i.z)\n", engine.CodeUndeclaredRead, 14, 32},
		{"whole input", head + "  - target: out.b\n    expr: size(input) > 0\n", engine.CodeUndeclaredRead, 14, 16},
		{"computed index", head + "  - target: out.b\n    from: a.b\n    expr: input.a[value]\n", engine.CodeUndeclaredRead, 15, 18},
		{"each over nothing declared", head + "  - target: out.l[]\n    each: a.other[]\n    rules:\n      - {target: z, const: 1}\n", engine.CodeUndeclaredRead, 14, 11},
		{"cel syntax", head + "  - target: out.b\n    from: a.b\n    expr: value +\n", engine.CodeCELSyntax, 15, 18},
		{"cel type", head + "  - target: out.b\n    expr: 1 + 'a'\n", engine.CodeCELType, 14, 13},
		{"when not a boolean", head + "  - target: out.b\n    from: a.b\n    when: \"'yes'\"\n", engine.CodeCELType, 15, 11},
		{"cel over the cost limit", head + "  - target: out.b\n    expr: input.a.list.all(x, input.a.list.all(y, input.a.list.all(z, x.x == y.y)))\n", engine.CodeCELCost, 14, 11},
		{"value without from", head + "  - target: out.b\n    expr: value + 'x'\n", engine.CodeBadRule, 14, 11},
		{"elem outside a block", head + "  - target: out.b\n    expr: elem\n", engine.CodeBadRule, 14, 11},
		{"unknown table", head + "  - target: out.b\n    from: a.b\n    table: nope\n", engine.CodeUnknownTable, 15, 12},
		{"table not reversible", strings.Replace(head, "rules:\n", "tables:\n  t: {A: x, B: x}\nrules:\n", 1) + "  - target: out.b\n    from: a.b\n    table: t\n    reverse: true\n", engine.CodeBadTable, 13, 16},
		{"table needs from", head + "  - target: out.b\n    expr: \"'x'\"\n    table: t\n", engine.CodeBadRule, 13, 5},
		{"const and from", head + "  - target: out.b\n    from: a.b\n    const: 1\n", engine.CodeBadRule, 13, 5},
		{"no source", head + "  - target: out.b\n    required: true\n", engine.CodeBadRule, 13, 5},
		{"forbidden target written", strings.Replace(head, "rules:\n", "forbidden:\n  - out.nir\nrules:\n", 1) + "  - target: out.nir\n    from: a.b\n", engine.CodeForbiddenTarget, 15, 13},
		{"forbidden under a written object", strings.Replace(head, "rules:\n", "forbidden:\n  - out.x.nir\nrules:\n", 1) + "  - target: out.x\n    from: a.b\n", engine.CodeForbiddenTarget, 15, 13},
		{"duplicate target", head + "  - target: out.b\n    from: a.b\n  - target: out.b\n    from: a.n\n", engine.CodeDuplicateTarget, 15, 13},
		{"overlapping targets", head + "  - target: out.b\n    from: a.b\n  - target: out.b.c\n    from: a.n\n", engine.CodeTargetConflict, 15, 13},
		{"array mismatch", head + "  - target: out.l[].x\n    from: a.b\n", engine.CodeArrayMismatch, 13, 13},
		{"array mismatch from", head + "  - target: out.x\n    from: a.list[].x\n", engine.CodeArrayMismatch, 14, 11},
		{"each without []", head + "  - target: out.l\n    each: a.list[]\n    rules:\n      - {target: z, const: 1}\n", engine.CodeArrayMismatch, 13, 13},
		{"unresolved schema", strings.Replace(head, "rules:\n", "output_schema: mapping:household\nrules:\n", 1) + "  - {target: o, const: 1}\n", engine.CodeBadSchema, 12, 16},
		{"schema file outside the folder", strings.Replace(head, "rules:\n", "input_schema: ../x.json\nrules:\n", 1) + "  - {target: o, const: 1}\n", engine.CodeBadSchema, 12, 15},
		{"public not read", strings.Replace(head, "rules:\n", "public:\n  - a.zz\nrules:\n", 1) + "  - {target: o, const: 1}\n", engine.CodeUndeclaredRead, 13, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, le := load(t, tc.src)
			if le == nil {
				t.Fatalf("the spec loaded; want %s", tc.code)
			}
			for _, p := range le.Problems {
				if p.Code == tc.code && p.Line == tc.line && p.Column == tc.col {
					if p.File != "t.yaml" || p.Message == "" {
						t.Errorf("problem without file or message: %+v", p)
					}
					return
				}
			}
			t.Errorf("want %s at %d:%d, got:\n%v", tc.code, tc.line, tc.col, le)
		})
	}
}

// TestLoadReportsEveryProblem checks that loading goes on after a problem.
func TestLoadReportsEveryProblem(t *testing.T) {
	t.Parallel()
	_, le := load(t, head+"  - target: out.b\n    from: a.c\n  - target: out.n\n    from: a.n\n    table: none\n  - target: out.x\n    expr: 'value +'\n")
	if le == nil {
		t.Fatal("the spec loaded")
	}
	for _, code := range []string{engine.CodeUndeclaredRead, engine.CodeUnknownTable, engine.CodeCELSyntax} {
		if !le.Has(code) {
			t.Errorf("missing %s in:\n%v", code, le)
		}
	}
	for _, line := range strings.Split(le.Error(), "\n")[1:] {
		if !strings.HasPrefix(strings.TrimSpace(line), "t.yaml:") {
			t.Errorf("problem line without file:line: %q", line)
		}
	}
}

func TestLoadCatalog(t *testing.T) {
	t.Parallel()
	spec := head + "  - target: out.b\n    from: a.b\n"
	fsys := fstest.MapFS{
		"test/op.inbound.yaml":       {Data: []byte(spec)},
		"test/testdata/ignored.yaml": {Data: []byte("not: a spec")},
		"test/schema.json":           {Data: []byte(`{"type":"object"}`)},
	}
	cat, err := engine.LoadCatalog(fsys, engine.Options{})
	if err != nil {
		t.Fatalf("loading: %v", err)
	}
	if p, ok := cat.Plan("test", "op", engine.Inbound); !ok || p.File != "test/op.inbound.yaml" || p.Dir() != "test" {
		t.Fatalf("plan not found: %v", cat.Plans())
	}
	if _, ok := cat.Plan("test", "op", engine.Outbound); ok {
		t.Error("found an outbound plan that does not exist")
	}

	withSchema := strings.Replace(spec, "rules:\n", "input_schema: schema.json\nrules:\n", 1)
	fsys["test/op.inbound.yaml"] = &fstest.MapFile{Data: []byte(withSchema)}
	cat, err = engine.LoadCatalog(fsys, engine.Options{})
	if err != nil {
		t.Fatalf("loading with a schema file: %v", err)
	}
	p, _ := cat.Plan("test", "op", engine.Inbound)
	if _, err := p.Run([]byte(`[]`), engine.RunOptions{}); !errors.Is(err, &engine.Error{Code: engine.CodeInputSchema}) {
		t.Errorf("the schema file is not applied: %v", err)
	}

	fsys["test/copy.yaml"] = &fstest.MapFile{Data: []byte(spec)}
	fsys["test/broken.yaml"] = &fstest.MapFile{Data: []byte(head + "  - target: x\n    from: nope\n")}
	_, err = engine.LoadCatalog(fsys, engine.Options{})
	var le *engine.LoadError
	if err == nil || !strings.Contains(err.Error(), "both map test op inbound") || !errors.As(err, &le) || !le.Has(engine.CodeUndeclaredRead) {
		t.Errorf("want the duplicate and the broken spec reported, got %v", err)
	}
}
