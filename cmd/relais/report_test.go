package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relais-dev/relais/mapping/activitycsv"
)

const reportSamples = "../../mapping/activitycsv/testdata/samples"

func sampleFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".golden") {
			files = append(files, filepath.Join(dir, e.Name()))
		}
	}
	return files
}

func TestReportValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		args  []string
		ok    bool
		wants []string
	}{
		{name: "valid files", args: sampleFiles(t, reportSamples+"/valid/windows-1252"), ok: true,
			wants: []string{"fichier des usagers, Windows-1252, séparateur « ; », 3 lignes dont 3 valides", "Le rapport du 01/01/2024 au 31/12/2024 est valide."}},
		{name: "a valid zip", args: []string{reportSamples + "/valid/rapport-2024.zip"}, ok: true,
			wants: []string{"rapport-2024.zip/export/presences.csv : fichier des présences et absences, UTF-8 avec BOM", "est valide."}},
		{name: "invalid files", args: sampleFiles(t, reportSamples+"/invalid/cells"),
			wants: []string{"sejours.csv : Ligne 3, colonne « Date d'entrée » : « 31/02/2024 » n'est pas une date valide.",
				"Le rapport n'est pas valide : 16 erreurs."}},
		{name: "a zip slip", args: []string{reportSamples + "/invalid/zip-slip.zip"},
			wants: []string{"chemin dangereux"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, err := runCLI(t, append([]string{"report", "validate", "--finess", "750000010", "--year", "2024"}, tc.args...)...)
			if (err == nil) != tc.ok {
				t.Fatalf("error %v, want ok=%t\n%s", err, tc.ok, out)
			}
			for _, w := range tc.wants {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if !tc.ok && !strings.Contains(err.Error(), "le rapport n'est pas valide") {
				t.Errorf("error %q", err)
			}
		})
	}
}

func TestReportValidateFlags(t *testing.T) {
	t.Parallel()
	file := reportSamples + "/valid/utf8-bom/usagers.csv"
	for want, args := range map[string][]string{
		"--finess est obligatoire": {"--year", "2024", file},
		"--finess : ce n'est pas":  {"--finess", "750000011", "--year", "2024", file},
		"--siret":                  {"--finess", "750000010", "--siret", "1", "--year", "2024", file},
		"indiquez la période":      {"--finess", "750000010", file},
		"pas les deux":             {"--finess", "750000010", "--year", "2024", "--from", "01/01/2024", file},
		"--to : la fin":            {"--finess", "750000010", "--from", "01/07/2024", "--to", "30/06/2024", file},
		"indiquez les fichiers":    {"--finess", "750000010", "--year", "2024"},
	} {
		_, err := runCLI(t, append([]string{"report", "validate"}, args...)...)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v: error %v, want %q", args, err, want)
		}
	}
}

// TestReportValidateJSON checks the JSON output scripts read.
func TestReportValidateJSON(t *testing.T) {
	t.Parallel()
	args := append([]string{"report", "validate", "--json", "--finess", "750000010", "--from", "01/01/2024", "--to", "31/12/2024"},
		sampleFiles(t, reportSamples+"/invalid/truncated")...)
	var out, errOut strings.Builder
	err := run(t.Context(), args, env{stdout: &out, stderr: &errOut, getenv: func(string) string { return "" }})
	if err == nil {
		t.Fatal("an invalid upload passed")
	}
	var res activitycsv.Result
	if err := json.Unmarshal([]byte(out.String()), &res); err != nil {
		t.Fatalf("%v:\n%s", err, out.String())
	}
	if res.Total != 1 || res.Problems[0].Code != "unterminated_quote" || res.Problems[0].Line != 5 || res.Files[2].Kind != activitycsv.KindPresences {
		t.Errorf("result: %+v", res)
	}
}

// TestReportTemplateAndGenerate writes the templates and a generated
// upload, and checks both validate.
func TestReportTemplateAndGenerate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out, err := runCLI(t, "report", "template", "--dir", dir)
	if err != nil || strings.Count(out, "modèle écrit") != 4 {
		t.Fatalf("template: %v\n%s", err, out)
	}
	if _, err := runCLI(t, "report", "template", "--dir", dir); err == nil || !strings.Contains(err.Error(), "existe déjà") {
		t.Errorf("writing the templates twice: %v", err)
	}
	templates := sampleFiles(t, dir)
	if out, err := runCLI(t, append([]string{"report", "validate", "--finess", "750000010", "--year", "2024"}, templates...)...); err != nil {
		t.Errorf("the templates do not validate: %v\n%s", err, out)
	}
	gen := t.TempDir()
	out, err = runCLI(t, "report", "generate", "--rows", "2000", "--events", "20", "--year", "2023", "--dir", gen)
	if err != nil || !strings.Contains(out, "relais report validate --finess 750000010 --year 2023") {
		t.Fatalf("generate: %v\n%s", err, out)
	}
	out, err = runCLI(t, append([]string{"report", "validate", "--finess", "750000010", "--year", "2023"}, sampleFiles(t, gen)...)...)
	if err != nil || !strings.Contains(out, "2000 lignes dont 2000 valides") {
		t.Errorf("the generated files do not validate: %v\n%s", err, out)
	}
}
