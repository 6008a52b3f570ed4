package apiparticulier_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relais-dev/relais/mocks/apiparticulier"
)

// divergent are the sandbox cases the mock answers differently on purpose,
// with what it answers instead and why.
var divergent = map[string]struct {
	status int
	code   string
	why    string
}{
	"quotient_familial.identite/404": {422, "00366",
		"the case sends no prenoms[], which the published contract requires: the platform validates parameters before its sandbox data (00366)"},
}

// loadSandbox reads testdata/sandbox: operationId/case -> case.
func loadSandbox(t *testing.T) map[string]sandboxCase {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "sandbox", "*", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no sandbox cases: %v", err)
	}
	cases := map[string]sandboxCase{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var c sandboxCase
		if err := dec.Decode(&c); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		name := filepath.Base(filepath.Dir(f)) + "/" + strings.TrimSuffix(filepath.Base(f), ".json")
		cases[name] = c
	}
	return cases
}

// TestSandboxCases is the "real shapes" acceptance test: every case of the
// platform's own sandbox for the identity, FranceConnect and France Travail
// operations, sent to the mock with the case's parameters, must get the
// same status and the same body (same keys at every path, same JSON types,
// same values: the mock's fixtures are deterministic).
func TestSandboxCases(t *testing.T) {
	t.Parallel()
	cases := loadSandbox(t)

	// FranceConnect: each case's identity behind a token of its own.
	table := map[string]apiparticulier.Citizen{}
	for name, c := range cases {
		if strings.HasSuffix(strings.Split(name, "/")[0], ".france_connect") {
			table["fc-"+name] = citizenOf(c.Params)
		}
	}
	b := setup(t, apiparticulier.Options{RateLimit: -1, FranceConnect: citizens(table)})

	pass := 0
	for name, c := range cases {
		op := strings.Split(name, "/")[0]
		cl := call{path: pathOf(op), token: apiparticulier.DefaultToken}
		if strings.HasSuffix(op, ".france_connect") {
			cl.token = "fc-" + name
			cl.query = queryOf(map[string]any{"recipient": recipient})
		} else {
			cl.query = queryOf(c.Params)
			cl.query.Set("recipient", recipient)
		}
		a := b.do(cl)

		if d, ok := divergent[name]; ok {
			if a.status != d.status || a.errorCode() != d.code {
				t.Errorf("%s: got %d %s, want the deliberate %d %s (%s)", name, a.status, a.errorCode(), d.status, d.code, d.why)
			}
			continue
		}
		if a.status != c.Status {
			t.Errorf("%s: status %d, want %d; body %s", name, a.status, c.Status, a.body)
			continue
		}
		diffs, err := jsonDiff(c.Body, a.body, true)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(diffs) > 0 {
			t.Errorf("%s: body differs from the platform's:\n  %s", name, strings.Join(diffs, "\n  "))
			continue
		}
		pass++
	}
	t.Logf("sandbox cases: %d of %d answered exactly as the platform's sandbox; %d differ on purpose", pass, len(cases), len(divergent))
	if want := len(cases) - len(divergent); pass != want {
		t.Errorf("%d cases pass, want %d", pass, want)
	}

	st := b.srv.Stats()
	if st.ResponseViolations != 0 {
		t.Errorf("the mock broke its contract %d times", st.ResponseViolations)
	}
	if st.Violations != int64(len(divergent)) {
		t.Errorf("%d requests refused by the contract, want %d (the divergent cases)", st.Violations, len(divergent))
	}
}

// The default FranceConnect tokens (see the package documentation) are the
// citizens of the platform's FranceConnect cases.
func TestSandboxFranceConnectTokens(t *testing.T) {
	t.Parallel()
	cases := loadSandbox(t)
	tokens := map[string]string{
		"fake_france_connect_cnaf":   "cnaf_qfv2",
		"fake_france_connect_cnaf_2": "all_fc",
		"404":                        "fc_inconnu",
		"france_connect_200_1_parent_0_enfant_cnaf":                               "fc_dubois_angela",
		"france_connect_200_cnaf_1_parent_3_mineurs":                              "fc_mercier_pierre",
		"france_connect_200_cnaf_2_parents_0_enfant":                              "fc_huche_anne_laure",
		"france_connect_200_cnaf_2_parents_2_mineurs_1_majeur":                    "fc_trois_dupre_melissandre",
		"france_connect_200_cnaf_2_parents_3_mineurs":                             "fc_dupont_paul",
		"france_connect_200_cnaf_2_parents_3_mineurs_1_prenom_compose_sans_tiret": "fc_delalalalande_emmanuel",
		"france_connect_200_cnaf_2_parents_4_mineurs_1_majeur":                    "fc_penderie_fabien",
		"france_connect_200_msa_1_parent_1_mineur_2_majeurs":                      "fc_placard_elsa",
		"france_connect_200_msa_2_parents_5_mineurs":                              "fc_commode_cindy",
	}
	b := setup(t, apiparticulier.Options{RateLimit: -1})
	n := 0
	for name, c := range cases {
		op, caseName, _ := strings.Cut(name, "/")
		if op != "quotient_familial.france_connect" {
			continue
		}
		n++
		token, ok := tokens[caseName]
		if !ok {
			t.Errorf("no sandbox token for %s", name)
			continue
		}
		a := b.do(call{path: pathOf(op), token: token, query: queryOf(map[string]any{"recipient": recipient})})
		if a.status != c.Status {
			t.Errorf("%s (%s): status %d, want %d", name, token, a.status, c.Status)
			continue
		}
		if diffs, err := jsonDiff(c.Body, a.body, true); err != nil || len(diffs) > 0 {
			t.Errorf("%s (%s): %v %v", name, token, err, diffs)
		}
	}
	if n != len(tokens) {
		t.Errorf("%d FranceConnect cases, %d tokens", n, len(tokens))
	}
	// The platform's all_cnav and cnaf_eaje are Georges CNAF too.
	for _, token := range []string{"all_cnav", "cnaf_eaje"} {
		a := b.do(call{path: pathOf("quotient_familial.france_connect"), token: token, query: queryOf(map[string]any{"recipient": recipient})})
		if diffs, _ := jsonDiff(cases["quotient_familial.france_connect/fake_france_connect_cnaf"].Body, a.body, true); a.status != 200 || len(diffs) > 0 {
			t.Errorf("%s: %d %v", token, a.status, diffs)
		}
	}
}
