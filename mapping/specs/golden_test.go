package specs_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/relais-dev/relais/mapping"
	"github.com/relais-dev/relais/mapping/engine"
	"github.com/relais-dev/relais/mapping/specs"
)

var update = flag.Bool("update", false, "rewrite the golden files from the current output")

// fetchedAt is the fixed time the golden cases were fetched at.
var fetchedAt = time.Date(2024, 12, 2, 9, 30, 0, 0, time.UTC)

// setup compiles the canonical schemas and every spec.
func setup(t testing.TB) *engine.Catalog {
	t.Helper()
	schemas, err := mapping.CompileSchemas()
	if err != nil {
		t.Fatalf("compiling the canonical schemas: %v", err)
	}
	cat, err := engine.LoadCatalog(specs.FS, engine.Options{Schemas: schemas.Get})
	if err != nil {
		t.Fatalf("loading the specs: %v", err)
	}
	return cat
}

// golden is what a golden file holds: the output, or the errors, and the
// dropped fields.
type golden struct {
	Output     json.RawMessage    `json:"output,omitempty"`
	Errors     []*engine.Error    `json:"errors,omitempty"`
	Dropped    []string           `json:"dropped,omitempty"`
	Provenance *engine.Provenance `json:"provenance,omitempty"`
}

// TestGolden maps every testdata/<spec>/<case>.input.json of every spec
// (<spec> is the spec's file name without .yaml) and compares the result
// with <case>.golden.json; -update rewrites the golden files.
func TestGolden(t *testing.T) {
	t.Parallel()
	cat := setup(t)
	for _, p := range cat.Plans() {
		dir := caseDir(p)
		inputs, err := filepath.Glob(filepath.Join(dir, "*.input.json"))
		if err != nil {
			t.Fatal(err)
		}
		if len(inputs) == 0 {
			t.Errorf("%s: no golden case in %s", p.File, filepath.ToSlash(dir))
		}
		for _, in := range inputs {
			name := strings.TrimSuffix(filepath.Base(in), ".input.json")
			t.Run(p.Name+"/"+name, func(t *testing.T) {
				t.Parallel()
				raw, err := os.ReadFile(in) //nolint:gosec // the test's own cases
				if err != nil {
					t.Fatal(err)
				}
				got := run(t, p, raw)
				want := strings.TrimSuffix(in, ".input.json") + ".golden.json"
				if *update {
					if err := os.WriteFile(want, got, 0o644); err != nil { //nolint:gosec // golden files are checked in, readable by all
						t.Fatal(err)
					}
					return
				}
				exp, err := os.ReadFile(want) //nolint:gosec // the test's own cases
				if err != nil {
					t.Fatalf("reading the golden file (run with -update to write it): %v", err)
				}
				if !bytes.Equal(got, exp) {
					t.Errorf("%s differs from the output (run with -update to accept):\n%s", want, got)
				}
			})
		}
	}
}

// caseDir is the folder of a spec's golden cases:
// <platform>/testdata/<spec file name without .yaml>.
func caseDir(p *engine.Plan) string {
	return filepath.Join(filepath.FromSlash(p.Dir()), "testdata", strings.TrimSuffix(path.Base(p.File), ".yaml"))
}

// run maps raw and returns the indented golden document. Errors must never
// quote a value of the input: every string value of the input is searched
// in the error messages.
func run(t *testing.T, p *engine.Plan, raw []byte) []byte {
	t.Helper()
	res, err := p.Run(raw, engine.RunOptions{Source: engine.Source{At: fetchedAt}})
	g := golden{}
	if res != nil {
		g.Dropped = res.Dropped
		g.Provenance = res.Provenance
		g.Output = res.Output
	}
	if err != nil {
		var errs engine.Errors
		if !errors.As(err, &errs) {
			t.Fatalf("run: %v", err)
		}
		g.Errors = errs
		for _, e := range errs {
			checkNoValue(t, raw, e)
		}
	} else {
		checkCanonical(t, res.Output)
	}
	b, err := json.MarshalIndent(g, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// checkNoValue fails if a personal error's message quotes a string of the
// input.
func checkNoValue(t *testing.T, raw []byte, e *engine.Error) {
	t.Helper()
	if !e.Personal {
		return
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		case string:
			if len(strings.TrimSpace(v)) > 2 && strings.Contains(e.Message, v) {
				t.Errorf("error %q quotes the personal value %q", e.Error(), v)
			}
		}
	}
	walk(doc)
}

// checkCanonical decodes the output into the canonical Go types and runs
// their own checks, which say more than the schemas (rules across fields).
func checkCanonical(t *testing.T, out []byte) {
	t.Helper()
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("output is not a JSON object: %v", err)
	}
	for key, raw := range doc {
		ent, err := mapping.NewEntity(key)
		if err != nil {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(ent); err != nil {
			t.Errorf("output %s does not decode into the canonical type: %v", key, err)
			continue
		}
		for _, fe := range ent.Validate() {
			t.Errorf("output %s: %s: %s", key, fe.Field, fe.Detail)
		}
	}
}
