package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestMappingLintBuiltin checks Relais's own specs, as `relais mapping lint`
// with no argument does.
func TestMappingLintBuiltin(t *testing.T) {
	t.Parallel()
	out, err := runCLI(t, "mapping", "lint")
	if err != nil {
		t.Fatalf("mapping lint: %v\n%s", err, out)
	}
	if !strings.Contains(out, "no problem") {
		t.Errorf("mapping lint: want the no-problem summary, got:\n%s", out)
	}
}

// brokenSpec reads a field it does not declare, on line 13, and calls an
// unknown function on line 15.
const brokenSpec = `spec: relais.mapping/v1
name: demo.broken.outbound
platform: demo
operation: broken
direction: outbound
purpose: >-
  Vérifier que le contrôle des règles signale chaque problème à sa ligne.
reads:
  - person.birth_family_name
rules:
  - target: nom
    # not in reads
    from: person.used_name
  - target: prenom
    expr: noSuchFunction(input.person.birth_family_name)
`

// TestMappingLintBroken checks that a broken spec fails the lint and that
// every problem is located as file:line:column.
func TestMappingLintBroken(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "broken.outbound.yaml")
	if err := os.WriteFile(file, []byte(brokenSpec), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, arg := range []string{file, dir} {
		out, err := runCLI(t, "mapping", "lint", arg)
		if err == nil {
			t.Fatalf("mapping lint %s: want an error, got none:\n%s", arg, out)
		}
		for _, line := range []string{"13", "15"} {
			re := regexp.MustCompile(regexp.QuoteMeta(file) + ":" + line + `:[0-9]+: [a-z_]+: `)
			if !re.MatchString(out) {
				t.Errorf("mapping lint %s: no problem located at %s:%s:<column>:\n%s", arg, file, line, out)
			}
		}
	}
}

// TestMappingRun maps an activity report with the built-in TDDUI spec: the
// bundle on stdout, the fields the spec does not read listed as dropped.
func TestMappingRun(t *testing.T) {
	t.Parallel()
	input := filepath.Join(t.TempDir(), "report.json")
	body := `{"bundle": {"identifier": {"system": "https://relais-dev.github.io/relais/fhir/sid/report-chunk", "value": "rpt-cli-1"},
    "version": 1, "organizations": [{"finess": "750000010", "name": "EHPAD Les Tilleuls"}]},
  "activity_report": {
  "finess": "750000010",
  "period": {"start": "2024-01-01", "end": "2024-03-31"},
  "persons": [{"local_id": "3750000010/DUI451", "person": {"birth_family_name": "ROUX", "used_name": "BLANC",
    "given_names": ["JEANNE"], "sex": "F", "birth_date": "1940-06"}}]}}`
	if err := os.WriteFile(input, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := runCLI(t, "mapping", "run", "--at", "2024-12-02T09:30:00Z", "tddui/activity.outbound.yaml", input)
	if err != nil {
		t.Fatalf("mapping run: %v\n%s", err, out)
	}
	for _, want := range []string{`"resourceType": "Bundle"`, `"birthDate": "1940-06"`, `"gender": "female"`,
		"dropped (not declared in reads):", "activity_report.persons[].person.used_name", "activity_report.period"} {
		if !strings.Contains(out, want) {
			t.Errorf("mapping run: no %q in:\n%s", want, out)
		}
	}

	// An input the canonical schema refuses: the run fails and says why.
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"activity_report": {"finess": "750000010"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := runCLI(t, "mapping", "run", "tddui/activity.outbound.yaml", bad); err == nil || !strings.Contains(out, "input_schema") {
		t.Errorf("mapping run on an invalid report: want an input_schema error, got %v:\n%s", err, out)
	}
}
