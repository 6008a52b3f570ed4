package contracts_test

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	junit "github.com/joshdk/go-junit"

	"github.com/relais-dev/relais/contracts"
)

// sampleReports are two platforms: one with a failure and a skip, one clean.
func sampleReports() []contracts.Report {
	return []contracts.Report{
		{
			Platform: "apiparticulier", Target: "http://127.0.0.1:1234", Mock: true, Duration: 1500 * time.Millisecond,
			Credentials: []string{"RELAIS_CONTRACT_APIPARTICULIER_TOKEN: mock default"},
			Results: []contracts.Result{
				{Case: "qf.cnaf", Operation: "quotient_familial.identite", Status: 200, Got: 200, Duration: 12 * time.Millisecond},
				{Case: "qf.msa", Operation: "quotient_familial.identite", Status: 200, Got: 200, Duration: 9 * time.Millisecond, Violations: []contracts.Violation{
					{Kind: contracts.KindRetyped, Path: "$.data.quotient_familial.valeur", Detail: "want integer, got string"},
					{Kind: contracts.KindSchema, Path: "$.data.quotient_familial.valeur", Detail: "value must be an integer"},
				}},
				{Case: "qf.fixture", Operation: "quotient_familial.identite", Status: 200, Skipped: "runs only against the mock"},
				{Case: "statut.coverage", Operation: "statut_etudiant", Auto: true, Violations: []contracts.Violation{
					{Kind: contracts.KindUncheckedOperation, Detail: "no case expects a success (2xx) from statut_etudiant"},
				}},
			},
		},
		{
			Platform: "coffrefort", Target: "http://127.0.0.1:5678", Duration: 250 * time.Millisecond,
			Results: []contracts.Result{
				{Case: "token", Operation: "token", Status: 200, Got: 200, Duration: 3 * time.Millisecond},
			},
		},
	}
}

func TestJUnitIsReadByAJUnitParser(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := contracts.WriteJUnit(&buf, sampleReports()); err != nil {
		t.Fatalf("writing: %v", err)
	}
	path := t.TempDir() + "/contracts.xml"
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	suites, err := junit.IngestFile(path)
	if err != nil {
		t.Fatalf("parsing:\n%s\n%v", buf.String(), err)
	}
	if len(suites) != 2 {
		t.Fatalf("%d suites, want 2:\n%s", len(suites), buf.String())
	}
	ap, cf := suites[0], suites[1]
	if ap.Name != "apiparticulier" || cf.Name != "coffrefort" {
		t.Fatalf("suite names %q, %q", ap.Name, cf.Name)
	}
	if got, want := ap.Totals, (junit.Totals{Tests: 4, Passed: 1, Failed: 2, Skipped: 1, Duration: ap.Totals.Duration}); got != want {
		t.Errorf("apiparticulier totals %+v, want %+v", got, want)
	}
	if got := cf.Totals; got.Tests != 1 || got.Passed != 1 || got.Failed != 0 {
		t.Errorf("coffrefort totals %+v", got)
	}
	if ap.Properties["target"] != "http://127.0.0.1:1234" || ap.Properties["mock"] != "true" {
		t.Errorf("properties %v", ap.Properties)
	}
	msa := ap.Tests[1]
	if msa.Name != "qf.msa" || msa.Classname != "apiparticulier.quotient_familial.identite" || msa.Status != junit.StatusFailed {
		t.Fatalf("qf.msa: %+v", msa)
	}
	if msa.Duration != 9*time.Millisecond {
		t.Errorf("qf.msa duration %s", msa.Duration)
	}
	var jerr junit.Error
	if e, ok := msa.Error.(junit.Error); ok {
		jerr = e
	} else {
		t.Fatalf("qf.msa error %T %v", msa.Error, msa.Error)
	}
	if jerr.Type != "retyped" || jerr.Message != "retyped $.data.quotient_familial.valeur: want integer, got string (and 1 more)" {
		t.Errorf("failure type %q message %q", jerr.Type, jerr.Message)
	}
	if !strings.Contains(jerr.Body, "schema $.data.quotient_familial.valeur: value must be an integer") {
		t.Errorf("failure body %q does not list every violation", jerr.Body)
	}
	if sk := ap.Tests[2]; sk.Status != junit.StatusSkipped || sk.Message != "runs only against the mock" {
		t.Errorf("skipped case %+v", sk)
	}
	if cov := ap.Tests[3]; cov.Classname != "apiparticulier.statut_etudiant" || cov.Status != junit.StatusFailed {
		t.Errorf("coverage check %+v", cov)
	}
	// The root element carries the totals too.
	if !strings.Contains(buf.String(), `<testsuites name="relais contracts" tests="5" failures="2" errors="0" skipped="1" time="1.750">`) {
		t.Errorf("root element:\n%s", buf.String())
	}
}

func TestWriteText(t *testing.T) {
	t.Parallel()
	out := text(t, sampleReports()...)
	for _, want := range []string{
		"apiparticulier  http://127.0.0.1:1234 (mock)",
		"credentials: RELAIS_CONTRACT_APIPARTICULIER_TOKEN: mock default",
		"✓ quotient_familial.identite  qf.cnaf          200  12ms",
		"✗ quotient_familial.identite  qf.msa           200  9ms",
		"      retyped      $.data.quotient_familial.valeur  want integer, got string",
		"- quotient_familial.identite  qf.fixture       200  0s  skipped: runs only against the mock",
		"      unchecked_operation -  no case expects a success (2xx) from statut_etudiant",
		"apiparticulier: 4 checks, 1 passed, 2 failed, 1 skipped in 1.5s",
		"coffrefort  http://127.0.0.1:5678 (target)",
		"coffrefort: 1 check, 1 passed, 0 failed, 0 skipped in 250ms",
		"FAIL: 2 platforms, 5 checks, 2 passed, 2 failed, 1 skipped in 1.75s",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the text report lacks %q:\n%s", want, out)
		}
	}
	pass := text(t, sampleReports()[1])
	if !strings.Contains(pass, "PASS: 1 platform, 1 check, 1 passed, 0 failed, 0 skipped") {
		t.Errorf("passing report:\n%s", pass)
	}
}

func TestReportFailed(t *testing.T) {
	t.Parallel()
	reps := sampleReports()
	if !reps[0].Failed() || reps[1].Failed() {
		t.Fatalf("Failed: %v %v", reps[0].Failed(), reps[1].Failed())
	}
	if (contracts.Report{}).Failed() {
		t.Fatal("an empty report failed")
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, fmt.Errorf("disk full") }

func TestWritersReportWriteErrors(t *testing.T) {
	t.Parallel()
	if err := contracts.WriteText(failingWriter{}, sampleReports()); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("WriteText: %v", err)
	}
	if err := contracts.WriteJUnit(failingWriter{}, sampleReports()); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("WriteJUnit: %v", err)
	}
}
