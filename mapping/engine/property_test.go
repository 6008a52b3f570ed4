package engine_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/relais-dev/relais/mapping/engine"
)

// propSpec reads a few fields in every way a spec can: copies (of whole
// objects too), expressions over value, elem and input, loops, blocks.
const propSpec = `spec: relais.mapping/v1
name: prop.inbound
platform: prop
operation: op
direction: inbound
purpose: property test
reads:
  - a.b
  - a.n
  - a.obj
  - a.list[].x
  - a.list[].y
rules:
  - target: out.b
    from: a.b
  - target: out.n
    from: a.n
    expr: "type(value) == int && value < 1000000 && value > -1000000 ? value * 2 : value"
  - target: out.obj
    from: a.obj
  - target: out.has
    expr: "has(input.a.b) ? 'yes' : 'no'"
  - target: out.xs
    expr: "has(input.a.list) && type(input.a.list) == list ? input.a.list.filter(e, type(e) == map && has(e.x)).map(e, e.x) : []"
  - target: out.items[]
    each: a.list[]
    rules:
      - target: x
        from: x
      - target: y
        expr: "type(elem) == map && has(elem.y) ? elem.y : null"
`

// gen builds random JSON values: declared positions get "D" strings (or
// anything under a declared whole value), every other position "SECRET".
type gen struct {
	r *rand.Rand
	n int
}

func (g *gen) secret() string { g.n++; return fmt.Sprintf("SECRET-%d", g.n) }

// any returns a random value whose strings all start with prefix.
func (g *gen) any(depth int, prefix string) any {
	switch k := g.r.IntN(7); {
	case k == 0:
		return nil
	case k == 1:
		return g.r.IntN(2000) - 1000
	case k == 2:
		return g.r.IntN(2) == 0
	case k == 3 && depth > 0:
		m := map[string]any{}
		for range g.r.IntN(4) {
			m[g.key()] = g.any(depth-1, prefix)
		}
		return m
	case k == 4 && depth > 0:
		a := []any{}
		for range g.r.IntN(4) {
			a = append(a, g.any(depth-1, prefix))
		}
		return a
	default:
		g.n++
		return fmt.Sprintf("%s-%d", prefix, g.n)
	}
}

func (g *gen) key() string {
	return []string{"a", "b", "n", "obj", "list", "x", "y", "z", "secret", "c"}[g.r.IntN(10)]
}

// input builds a document shaped like the reads, with undeclared keys and
// wrong shapes mixed in.
func (g *gen) input() map[string]any {
	doc := map[string]any{}
	if g.r.IntN(10) > 0 {
		a := map[string]any{}
		if g.r.IntN(3) > 0 {
			a["b"] = g.any(2, "D")
		}
		if g.r.IntN(3) > 0 {
			a["n"] = g.any(1, "D")
		}
		if g.r.IntN(3) > 0 {
			a["obj"] = g.any(3, "D")
		}
		if g.r.IntN(4) > 0 {
			if g.r.IntN(8) == 0 {
				a["list"] = map[string]any{"x": g.secret()} // wrong shape: dropped
			} else {
				var list []any
				for range g.r.IntN(4) {
					if g.r.IntN(6) == 0 {
						list = append(list, []any{g.secret(), map[string]any{"x": g.secret()}}) // wrong shape: dropped
						continue
					}
					e := map[string]any{}
					if g.r.IntN(3) > 0 {
						e["x"] = g.any(2, "D")
					}
					if g.r.IntN(3) > 0 {
						e["y"] = g.any(2, "D")
					}
					if g.r.IntN(2) == 0 {
						e["z"] = g.any(2, "SECRET")
					}
					list = append(list, e)
				}
				a["list"] = list
			}
		}
		for range g.r.IntN(3) {
			a["secret"+g.secret()[7:]] = g.any(2, "SECRET")
		}
		doc["a"] = a
		if g.r.IntN(10) == 0 {
			doc["a"] = g.secret() // wrong shape: dropped
		}
	}
	for range g.r.IntN(3) {
		doc["top"+g.secret()[7:]] = g.any(3, "SECRET")
	}
	return doc
}

// TestMinimisationProperty proves on random inputs (fixed seed) that a
// mapped payload holds only the spec's targets, never a value of a field
// outside reads, and that what is dropped is exactly what reads leaves out.
func TestMinimisationProperty(t *testing.T) {
	t.Parallel()
	p := mustParse(t, propSpec)
	var targets []engine.Path
	for _, s := range p.Targets() {
		tp, _ := engine.ParsePath(s)
		targets = append(targets, tp)
	}
	var reads []engine.Path
	for _, s := range p.Reads() {
		rp, _ := engine.ParsePath(s)
		reads = append(reads, rp)
	}
	g := &gen{r: rand.New(rand.NewPCG(2024, 12))} //nolint:gosec // a repeatable generator, not a secret
	mapped := 0
	for i := range 5000 {
		doc := g.input()
		raw, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		res, err := p.Run(raw, engine.RunOptions{})
		if strings.Contains(fmt.Sprint(err), "SECRET") {
			t.Fatalf("case %d: an error quotes undeclared data: %v", i, err)
		}
		if res == nil {
			t.Fatalf("case %d: no result: %v", i, err)
		}
		for _, d := range res.Dropped {
			dp, err := engine.ParsePath(d)
			if err != nil {
				t.Fatalf("case %d: dropped path %q: %v", i, d, err)
			}
			if covered(reads, dp) {
				t.Errorf("case %d: declared path %s reported dropped", i, d)
			}
		}
		if err != nil {
			continue
		}
		mapped++
		if bytes.Contains(res.Output, []byte("SECRET")) {
			t.Fatalf("case %d: undeclared data in the output\n in: %s\nout: %s", i, raw, res.Output)
		}
		var out any
		if err := json.Unmarshal(res.Output, &out); err != nil {
			t.Fatalf("case %d: output is not JSON: %v", i, err)
		}
		walkLeaves(out, nil, func(p engine.Path) {
			if !covered(targets, p) && !containerOf(targets, p) {
				t.Fatalf("case %d: output path %s is not a target\nout: %s", i, p, res.Output)
			}
		})
	}
	t.Logf("%d of 5000 random inputs mapped, the others failed with clean errors", mapped)
	if mapped < 1000 {
		t.Errorf("only %d of 5000 inputs mapped: the generator is too hostile to prove much", mapped)
	}
}

// covered reports whether p is one of paths or lies inside one.
func covered(paths []engine.Path, p engine.Path) bool {
	for _, q := range paths {
		if len(q) <= len(p) && q.String() == p[:len(q)].String() {
			return true
		}
	}
	return false
}

// containerOf reports whether p is on the way to one of paths (an empty
// object or list that a target would be written in).
func containerOf(paths []engine.Path, p engine.Path) bool {
	for _, q := range paths {
		if len(p) < len(q) && p.String() == q[:len(p)].String() {
			return true
		}
	}
	return false
}

// walkLeaves calls f with the path (indices as []) of every scalar and
// empty container in v.
func walkLeaves(v any, p engine.Path, f func(engine.Path)) {
	switch v := v.(type) {
	case map[string]any:
		if len(v) == 0 {
			f(p)
		}
		for k, x := range v {
			walkLeaves(x, append(append(engine.Path(nil), p...), k), f)
		}
	case []any:
		if len(v) == 0 {
			f(p)
		}
		for _, x := range v {
			walkLeaves(x, append(append(engine.Path(nil), p...), "[]"), f)
		}
	default:
		f(p)
	}
}
