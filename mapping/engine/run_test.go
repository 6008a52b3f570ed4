package engine_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/relais-dev/relais/mapping/engine"
)

// featureSpec uses every kind of rule: an outbound mapping of a canonical
// person to a made-up platform's query.
const featureSpec = `spec: relais.mapping/v1
name: test.person.outbound
platform: test
operation: identity
direction: outbound
purpose: Find a person on the test platform.
reads:
  - person.birth_family_name
  - person.used_name
  - person.given_names
  - person.sex
  - person.birth_date
  - person.children[].given_names
  - person.children[].birth_date
  - person.tags
  - person.country
public:
  - person.sex
  - person.country
tables:
  sexe: {F: F, M: M, I: U}
  country: {"99100": France, "99350": Maroc}
forbidden:
  - query.nir
rules:
  - target: query.nomNaissance
    from: person.birth_family_name
    expr: value.upperAscii()
    required: true
  - target: query.nomUsage
    from: person.used_name
  - target: query.prenoms[]
    from: person.given_names[]
  - target: query.sexeEtatCivil
    from: person.sex
    table: sexe
    reverse: true
  - target: query.pays
    from: person.country
    table: country
    default: Inconnu
  - target: query.anneeDateNaissance
    from: person.birth_date
    expr: int(value.substring(0, 4))
  - target: query.jour
    from: person.birth_date
    when: value.size() == 10
    expr: int(value.substring(8, 10))
  - target: query.source
    const: relais
  - target: query.enfants[]
    each: person.children[]
    when: has(elem.birth_date)
    rules:
      - target: prenom
        expr: elem.given_names[0]
      - target: annee
        from: birth_date
        expr: value.substring(0, 4)
  - target: query.enfants[]
    each: person.children[]
    when: "!has(elem.birth_date)"
    rules:
      - target: prenom
        expr: elem.given_names[0]
      - target: annee
        const: inconnue
  - target: query.tags
    from: person.tags
    default: []
`

func mustParse(t testing.TB, src string) *engine.Plan {
	t.Helper()
	p, err := engine.Parse("feature.yaml", []byte(src), engine.Options{})
	if err != nil {
		t.Fatalf("loading: %v", err)
	}
	return p
}

func TestRunFeatures(t *testing.T) {
	t.Parallel()
	p := mustParse(t, featureSpec)
	for _, tc := range []struct {
		name, in, want string
		dropped        []string
	}{
		{
			"full",
			`{"person":{"birth_family_name":"ano'nymos","given_names":["JEAN","PHILIPPE"],"sex":"U","birth_date":"1980-06-27","country":"99350","nir":"1800675123456","children":[{"given_names":["LEA"],"birth_date":"2010-01-02"},{"given_names":["TOM"]},{"given_names":["ZOE"],"birth_date":"2012"}],"tags":["a"]}}`,
			`{"query":{"nomNaissance":"ANO'NYMOS","prenoms":["JEAN","PHILIPPE"],"sexeEtatCivil":"I","pays":"Maroc","anneeDateNaissance":1980,"jour":27,"source":"relais","enfants":[{"prenom":"LEA","annee":"2010"},{"prenom":"ZOE","annee":"2012"},{"prenom":"TOM","annee":"inconnue"}],"tags":["a"]}}`,
			[]string{"person.nir"},
		},
		{
			"defaults and absent values",
			`{"person":{"birth_family_name":"Roux","used_name":null,"sex":"F","birth_date":"1987-06","country":"99999"},"extra":{"deep":[1,2]}}`,
			`{"query":{"nomNaissance":"ROUX","sexeEtatCivil":"F","pays":"Inconnu","anneeDateNaissance":1987,"source":"relais","tags":[]}}`,
			[]string{"extra"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res, err := p.Run([]byte(tc.in), engine.RunOptions{})
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			if string(res.Output) != tc.want {
				t.Errorf("output\n got %s\nwant %s", res.Output, tc.want)
			}
			if !slices.Equal(res.Dropped, tc.dropped) {
				t.Errorf("dropped: got %q, want %q", res.Dropped, tc.dropped)
			}
			if res.Provenance != nil {
				t.Errorf("an outbound mapping has no provenance: %+v", res.Provenance)
			}
		})
	}
}

func TestRunErrors(t *testing.T) {
	t.Parallel()
	p := mustParse(t, featureSpec)
	for _, tc := range []struct {
		name, in string
		want     []engine.Error // Path, Source, Code, Personal; Message checked for values
	}{
		{"not JSON", `{"person":`, []engine.Error{{Code: engine.CodeBadJSON}}},
		{"not an object", `[1]`, []engine.Error{{Code: engine.CodeBadJSON}}},
		{"duplicate declared key", `{"person":{"sex":"F","sex":"M"}}`, []engine.Error{{Code: engine.CodeBadJSON}}},
		{"required missing", `{"person":{"sex":"F"}}`, []engine.Error{{Path: "query.nomNaissance", Source: "person.birth_family_name", Code: engine.CodeRequired, Personal: true}}},
		{"required empty", `{"person":{"birth_family_name":"  "}}`, []engine.Error{{Path: "query.nomNaissance", Source: "person.birth_family_name", Code: engine.CodeRequired, Personal: true}}},
		{
			"public value quoted, personal value not",
			`{"person":{"birth_family_name":"X","sex":"Z","birth_date":"SECRET"}}`,
			[]engine.Error{
				{Path: "query.sexeEtatCivil", Source: "person.sex", Code: engine.CodeTableMiss},
				{Path: "query.anneeDateNaissance", Source: "person.birth_date", Code: engine.CodeExprError, Personal: true},
			},
		},
		{"wrong kind for a table", `{"person":{"birth_family_name":"X","sex":{"a":1}}}`, []engine.Error{{Path: "query.sexeEtatCivil", Source: "person.sex", Code: engine.CodeTypeMismatch}}},
		{"element index in errors", `{"person":{"birth_family_name":"X","children":[{"given_names":["A"]},{"given_names":[]}]}}`, []engine.Error{{Path: "query.enfants[1].prenom", Code: engine.CodeExprError, Personal: true}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := p.Run([]byte(tc.in), engine.RunOptions{})
			var errs engine.Errors
			if !errors.As(err, &errs) {
				t.Fatalf("want Errors, got %v", err)
			}
			if len(errs) != len(tc.want) {
				t.Fatalf("got %d errors, want %d: %v", len(errs), len(tc.want), err)
			}
			for i, w := range tc.want {
				g := errs[i]
				if g.Path != w.Path || g.Source != w.Source || g.Code != w.Code || g.Personal != w.Personal {
					t.Errorf("error %d: got %+v, want %+v", i, *g, w)
				}
				if g.Message == "" || strings.Contains(g.Message, "SECRET") {
					t.Errorf("error %d: message %q", i, g.Message)
				}
				if g.Rule > 0 && (g.Target == "" || g.Line == 0) {
					t.Errorf("error %d names a rule without its target or line: %+v", i, *g)
				}
				if !errors.Is(err, &engine.Error{Code: w.Code}) {
					t.Errorf("errors.Is does not find code %s", w.Code)
				}
			}
			if tc.name == "public value quoted, personal value not" && !strings.Contains(errs[0].Message, `"Z"`) {
				t.Errorf("the public value is not quoted: %q", errs[0].Message)
			}
		})
	}
}

// TestRunCostLimit feeds an expression more data than the static estimate
// assumes: the run-time limit stops it.
func TestRunCostLimit(t *testing.T) {
	t.Parallel()
	src := strings.Replace(head, "rules:\n", "rules:\n  - target: o\n    from: a.b\n    expr: value.split(' ').size()\n", 1)
	p, err := engine.Parse("t.yaml", []byte(src), engine.Options{CostLimit: 400})
	if err != nil {
		t.Fatalf("loading: %v", err)
	}
	if _, err := p.Run([]byte(`{"a":{"b":"x y z"}}`), engine.RunOptions{}); err != nil {
		t.Fatalf("small input: %v", err)
	}
	big := strings.Repeat("w ", 5000)
	_, err = p.Run([]byte(`{"a":{"b":"`+big+`"}}`), engine.RunOptions{})
	if !errors.Is(err, &engine.Error{Code: engine.CodeCostLimit}) {
		t.Fatalf("want %s, got %v", engine.CodeCostLimit, err)
	}
}

func TestRunProvenance(t *testing.T) {
	t.Parallel()
	p := mustParse(t, strings.Replace(featureSpec, "direction: outbound", "direction: inbound", 1))
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	res, err := p.Run([]byte(`{"person":{"birth_family_name":"X"}}`), engine.RunOptions{Source: engine.Source{At: at, Cached: true}})
	if err != nil {
		t.Fatal(err)
	}
	pv := res.Provenance
	if pv == nil || pv.Platform != "test" || pv.Operation != "identity" || !pv.At.Equal(at) || !pv.Cached {
		t.Fatalf("provenance: %+v", pv)
	}
	if slices.Contains(pv.Paths, "query.source") || !slices.Contains(pv.Paths, "query.nomNaissance") || !slices.Contains(pv.Paths, "query.enfants[].prenom") {
		t.Errorf("provenance paths: constants are not from the platform, the rest is: %q", pv.Paths)
	}
}

// TestRunConcurrent runs one plan from many goroutines (go test -race).
func TestRunConcurrent(t *testing.T) {
	t.Parallel()
	p := mustParse(t, featureSpec)
	in := []byte(`{"person":{"birth_family_name":"x","given_names":["A"],"sex":"M","birth_date":"1980-06-27","children":[{"given_names":["B"]}]}}`)
	want, err := p.Run(in, engine.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan []byte)
	for range 8 {
		go func() {
			var last []byte
			for range 50 {
				res, err := p.Run(in, engine.RunOptions{})
				if err != nil {
					last = []byte(err.Error())
					break
				}
				last = res.Output
			}
			done <- last
		}()
	}
	for range 8 {
		if got := <-done; string(got) != string(want.Output) {
			t.Errorf("concurrent run: %s", got)
		}
	}
}

func TestErrorJSON(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(&engine.Error{Path: "a.b", Code: engine.CodeRequired, Message: "m", Personal: true})
	if err != nil || string(b) != `{"path":"a.b","code":"required","message":"m","personal":true}` {
		t.Errorf("%s %v", b, err)
	}
}
