package engine

import (
	"reflect"
	"testing"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"github.com/go-json-experiment/json/jsontext"
)

// TestTemplateMatchesCEL runs every template-shaped expression both ways on
// values of every JSON kind: a template must give CEL's result, or fail
// where CEL fails.
func TestTemplateMatchesCEL(t *testing.T) {
	t.Parallel()
	env, err := sharedEnv()
	if err != nil {
		t.Fatal(err)
	}
	exprs := []string{
		"[{'value': value}]",
		"[{'system': 'https://x', 'value': value}]",
		"[{'family': elem.person.birth_family_name, 'given': elem.person.given_names}]",
		"has(elem.end) && elem.end != '' ? 'finished' : 'in-progress'",
		"has(value.code) ? [{'coding': [value]}] : [{'text': value.display}]",
		"has(value.code) ? {'coding': [value]} : {'text': value.display}",
		"(has(elem.planned) && elem.planned ? 'planned=true' : 'planned=false') + (has(elem.invoiced) && elem.invoiced ? ';invoiced=true' : ';invoiced=false')",
		"elem.a == 'x' || elem.b != 'y'",
		"'x' == value",
		"value",
		"elem.a",
		"null",
		"[1, 2u, 2.5, true, null, 'a', {}]",
		"{'a': {'b': [value, elem]}}",
		"value.a || value.b",
		"value.a && value.b",
		"value ? 1 : 2",
		"input.a.b",
		"has(input.a)",
	}
	vals := []any{
		nil, "", "x", "y", int64(3), 2.5, true, false,
		[]any{"x"}, map[string]any{},
		map[string]any{"code": "C", "display": "D"},
		map[string]any{"display": "D"},
		map[string]any{"a": "x", "b": "y", "end": "", "planned": true, "invoiced": false},
		map[string]any{"a": true, "b": false, "end": "2024", "planned": "yes", "invoiced": nil},
		map[string]any{"a": false, "b": int64(1), "end": nil},
		map[string]any{"b": true},
		map[string]any{"person": map[string]any{"birth_family_name": "N", "given_names": []any{"A"}}},
		map[string]any{"person": map[string]any{"birth_family_name": "N"}},
		map[string]any{"person": nil},
	}
	inputs := []map[string]any{{}, {"a": map[string]any{"b": "x"}}, {"a": "x"}}
	for _, src := range exprs {
		checked, iss := env.Compile(src)
		if iss.Err() != nil {
			t.Fatalf("%s: %v", src, iss.Err())
		}
		tmpl := templateOf(checked.NativeRep())
		if tmpl == nil {
			t.Errorf("%s: no template", src)
			continue
		}
		prg, err := env.Program(checked, cel.EvalOptions(cel.OptOptimize))
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range inputs {
			for _, val := range vals {
				for _, el := range vals {
					act := &activation{input: toCEL(in), value: toCEL(val), elem: toCEL(el), at: types.Timestamp{}}
					want, _, werr := prg.Eval(act)
					var wantJSON any
					if werr == nil {
						wantJSON, werr = fromCEL(want)
					}
					got, ok := tmpl.eval(&tmplVars{value: val, elem: el, input: in})
					if (werr == nil) != ok || (ok && !reflect.DeepEqual(got, wantJSON)) {
						t.Errorf("%s with value %#v, elem %#v, input %#v: template %#v (ok %v), CEL %#v (err %v)", src, val, el, in, got, ok, wantJSON, werr)
					}
				}
			}
		}
	}
	for _, src := range []string{"value.size()", "[value][0]", "{1: 2}", "value + 'x'", "b'x'", "at", "value == 1"} {
		checked, iss := env.Compile(src)
		if iss.Err() != nil {
			t.Fatalf("%s: %v", src, iss.Err())
		}
		if templateOf(checked.NativeRep()) != nil {
			t.Errorf("%s: a template, want CEL", src)
		}
	}
}

// TestAppendQuoteMatchesJSONText checks the fast path against jsontext.
func TestAppendQuoteMatchesJSONText(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "abc", "a b", "a\"b", "a\\b", "<&>", "é", "\x7f", "\x00\n\t", "\xff", "https://x.fr/a?b=c"} {
		got, gerr := appendQuote([]byte("x"), s)
		want, werr := jsontext.AppendQuote([]byte("x"), s)
		if string(got) != string(want) || (gerr == nil) != (werr == nil) {
			t.Errorf("%q: got %q (%v), want %q (%v)", s, got, gerr, want, werr)
		}
	}
}
