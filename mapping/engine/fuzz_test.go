package engine_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/relais-dev/relais/mapping/engine"
)

// FuzzLoadSpec feeds the loader arbitrary specs: it must never panic, and a
// spec either loads or fails with located, coded problems.
func FuzzLoadSpec(f *testing.F) {
	f.Add([]byte(featureSpec))
	f.Add([]byte(propSpec))
	f.Add([]byte(head + "  - target: out.b\n    from: a.b\n"))
	f.Add([]byte(head + "  - target: out.l[]\n    each: a.list[]\n    rules: &r\n      - {target: x, from: x}\n  - target: out.m[]\n    each: a.list[]\n    rules: *r\n"))
	f.Add([]byte(head + "  - target: out.b\n    expr: input.a.list.all(x, input.a.list.all(y, x == y))\n"))
	f.Add([]byte("spec: relais.mapping/v1\nrules: [{target: a, expr: 'value +'}]\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		if len(src) > 1<<14 {
			return
		}
		p, err := engine.Parse("fuzz.yaml", src, engine.Options{})
		if err == nil {
			if len(p.Targets()) == 0 || len(p.Reads()) == 0 {
				t.Fatalf("a loaded plan without targets or reads")
			}
			return
		}
		var le *engine.LoadError
		if !errors.As(err, &le) || len(le.Problems) == 0 {
			t.Fatalf("not a LoadError with problems: %v", err)
		}
		for _, pr := range le.Problems {
			if pr.Code == "" || pr.Message == "" || pr.File != "fuzz.yaml" {
				t.Fatalf("problem without code, message or file: %+v", pr)
			}
		}
	})
}

// FuzzRun feeds a plan arbitrary inputs: it must never panic; a mapped
// payload is JSON holding targets only; errors are coded, in French.
func FuzzRun(f *testing.F) {
	p, err := engine.Parse("feature.yaml", []byte(featureSpec), engine.Options{})
	if err != nil {
		f.Fatal(err)
	}
	var targets []engine.Path
	for _, s := range p.Targets() {
		tp, _ := engine.ParsePath(s)
		targets = append(targets, tp)
	}
	f.Add([]byte(`{"person":{"birth_family_name":"ano'nymos","given_names":["JEAN"],"sex":"I","birth_date":"1980-06-27","children":[{"given_names":["LEA"],"birth_date":"2010"}]}}`))
	f.Add([]byte(`{"person":{"birth_family_name":"X","sex":"Z","birth_date":"SECRET"},"x":[1,2,{"a":null}]}`))
	f.Add([]byte(`{"person":{"birth_family_name":"\u00e9\ud83d\ude00","given_names":"x"}}`))
	f.Add([]byte(`{"person":{"birth_family_name":"X","children":{"a":1}}}`))
	f.Add([]byte(`{"person":null}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, in []byte) {
		res, err := p.Run(in, engine.RunOptions{})
		if err != nil {
			var errs engine.Errors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("not Errors: %v", err)
			}
			for _, e := range errs {
				if e.Code == "" || e.Message == "" {
					t.Fatalf("error without code or message: %+v", e)
				}
			}
			return
		}
		var out any
		if err := json.Unmarshal(res.Output, &out); err != nil {
			t.Fatalf("output is not JSON: %v\n%s", err, res.Output)
		}
		walkLeaves(out, nil, func(q engine.Path) {
			if !covered(targets, q) && !containerOf(targets, q) {
				t.Fatalf("output path %s is not a target", q)
			}
		})
	})
}
