package apiparticulier_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// importSandbox is the directory of the platform's own sandbox cases (the
// `payloads` folder of its staging-data repository). When set,
// TestImportSandbox rewrites testdata/sandbox from it; the other tests only
// read testdata/sandbox.
var importSandbox = flag.String("import-sandbox", "", "rewrite testdata/sandbox from the platform's sandbox cases in `DIR`")

// sandboxOperations maps the platform's case folders to our operationIds:
// the CAF/MSA identity and FranceConnect operations and the France Travail
// ones that have cases.
var sandboxOperations = map[string]string{
	"api_particulier_v3_cnav_quotient_familial_with_civility":           "quotient_familial.identite",
	"api_particulier_v3_cnav_quotient_familial_with_france_connect":     "quotient_familial.france_connect",
	"api_particulier_v3_cnav_revenu_solidarite_active_with_civility":    "revenu_solidarite_active.identite",
	"api_particulier_v3_cnav_prime_activite_with_civility":              "prime_activite.identite",
	"api_particulier_v3_cnav_allocation_adulte_handicape_with_civility": "allocation_adulte_handicape.identite",
	"api_particulier_v3_france_travail_statut_with_identifiant":         "france_travail.statut",
	"api_particulier_v3_france_travail_indemnites_with_identifiant":     "france_travail.indemnites",
}

// sandboxCase is one case in our own form: the query parameters (for a
// FranceConnect operation, the citizen's identity), the status and body.
type sandboxCase struct {
	Params map[string]any  `json:"params"`
	Status int             `json:"status"`
	Body   json.RawMessage `json:"body"`
}

// TestImportSandbox is run by hand:
//
//	go test ./mocks/apiparticulier -run TestImportSandbox -import-sandbox DIR
func TestImportSandbox(t *testing.T) {
	if *importSandbox == "" {
		t.Skip("run by hand with -import-sandbox DIR")
	}
	if err := os.RemoveAll(filepath.Join("testdata", "sandbox")); err != nil {
		t.Fatal(err)
	}
	n := 0
	for folder, op := range sandboxOperations {
		files, err := filepath.Glob(filepath.Join(*importSandbox, folder, "*.y*ml"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no cases in %s: %v", folder, err)
		}
		dir := filepath.Join("testdata", "sandbox", op)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var c struct {
				Params  map[string]any `yaml:"params"`
				Status  int            `yaml:"status"`
				Payload string         `yaml:"payload"`
			}
			if err := yaml.Unmarshal(raw, &c); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			// Keep the body's numbers as written (0.0 stays 0.0).
			dec := json.NewDecoder(strings.NewReader(c.Payload))
			dec.UseNumber()
			var body any
			if err := dec.Decode(&body); err != nil {
				t.Fatalf("%s: payload: %v", f, err)
			}
			out := mustJSON(t, sandboxCase{Params: c.Params, Status: c.Status, Body: mustJSON(t, body)})
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, out, "", "  "); err != nil {
				t.Fatal(err)
			}
			pretty.WriteByte('\n')
			name := strings.TrimSuffix(filepath.Base(f), filepath.Ext(f)) + ".json"
			if err := os.WriteFile(filepath.Join(dir, name), pretty.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	t.Logf("imported %d cases", n)
}

func mustJSON(t *testing.T, v any) json.RawMessage {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSpace(buf.Bytes())
}
