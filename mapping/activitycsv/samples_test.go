package activitycsv_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/relais-dev/relais/mapping"
	"github.com/relais-dev/relais/mapping/activitycsv"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const samples = "testdata/samples"

// sampleInputs opens a sample: a folder of files, or one file (a zip).
func sampleInputs(t *testing.T, path string) []activitycsv.Input {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	paths := []string{path}
	if st.IsDir() {
		entries, err := os.ReadDir(path)
		if err != nil {
			t.Fatal(err)
		}
		paths = nil
		for _, e := range entries {
			if !strings.HasSuffix(e.Name(), ".golden") {
				paths = append(paths, filepath.Join(path, e.Name()))
			}
		}
	}
	return openInputs(t, paths)
}

// golden compares got with a golden file, or rewrites it with -update.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o600); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path) //nolint:gosec // a test file
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run with -update to rewrite it):\n got:\n%s\nwant:\n%s", path, got, want)
	}
}

// TestValidSamples reads every valid sample, one per dialect (byte order
// mark or not, Windows-1252, headers spelt otherwise, commas, tabs, a
// zip), and checks that all give the same canonical rows, that those rows
// form a valid canonical activity report, and what was detected.
func TestValidSamples(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(samples, "valid")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	wantDetected := map[string]string{
		"utf8-bom":             "utf-8-bom ;",
		"utf8-variant-headers": "utf-8 ;",
		"windows-1252":         "windows-1252 ;",
		"comma":                "utf-8 ,",
		"tab":                  "utf-8 tab",
		"rapport-2024.zip":     "utf-8-bom ;",
	}
	n := 0
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".golden") {
			continue
		}
		n++
		t.Run(e.Name(), func(t *testing.T) {
			t.Parallel()
			report := mapping.ActivityReport{FINESS: finess, Period: options().Period}
			var out bytes.Buffer
			res, err := activitycsv.Read(t.Context(), options(), func(r activitycsv.Row) error {
				var v any
				switch r.Kind {
				case activitycsv.KindPersons:
					v = r.Person
					report.Persons = append(report.Persons, *r.Person)
				case activitycsv.KindStays:
					v = r.Stay
					report.Stays = append(report.Stays, *r.Stay)
				case activitycsv.KindEvents:
					v = r.Event
					report.Events = append(report.Events, *r.Event)
				case activitycsv.KindPresences:
					v = r.Presence
					report.PresenceAbsences = append(report.PresenceAbsences, *r.Presence)
				}
				b, err := json.Marshal(v)
				if err != nil {
					return err
				}
				fmt.Fprintf(&out, "%s %s\n", r.Kind, b)
				return nil
			}, sampleInputs(t, filepath.Join(dir, e.Name()))...)
			if err != nil {
				t.Fatal(err)
			}
			if !res.Valid() {
				t.Fatalf("problems in a valid sample: %v", messages(res))
			}
			if errs := report.Validate(); len(errs) > 0 {
				t.Errorf("the rows do not form a valid canonical report: %v", errs)
			}
			golden(t, filepath.Join(dir, "rows.golden"), out.Bytes())
			if len(res.Files) != 4 {
				t.Fatalf("%d files read, want 4: %+v", len(res.Files), res.Files)
			}
			for _, f := range res.Files {
				if got := string(f.Encoding) + " " + f.Separator; got != wantDetected[e.Name()] {
					t.Errorf("%s: detected %q, want %q", f.Name, got, wantDetected[e.Name()])
				}
				if f.Rows == 0 || f.Rows != f.ValidRows {
					t.Errorf("%s: %d rows, %d valid", f.Name, f.Rows, f.ValidRows)
				}
			}
		})
	}
	if n < len(wantDetected) {
		t.Errorf("%d valid samples, want %d", n, len(wantDetected))
	}
}

// TestInvalidSamples reads every invalid sample and compares its problems
// with its golden list.
func TestInvalidSamples(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(samples, "invalid")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".golden") {
			continue
		}
		t.Run(e.Name(), func(t *testing.T) {
			t.Parallel()
			var handed int
			opts := options()
			opts.Partial = true
			res, err := activitycsv.Read(t.Context(), opts, func(activitycsv.Row) error { handed++; return nil },
				sampleInputs(t, filepath.Join(dir, e.Name()))...)
			if err != nil {
				t.Fatal(err)
			}
			if res.Valid() {
				t.Fatal("no problem in an invalid sample")
			}
			var out bytes.Buffer
			for _, p := range res.Problems {
				checkMessage(t, p)
				fmt.Fprintf(&out, "%s:%d:%d %s\n\t%s\n", p.File, p.Line, p.Column, p.Code, p.Message)
			}
			valid := 0
			for _, f := range res.Files {
				valid += f.ValidRows
				fmt.Fprintf(&out, "file %s: %s, %s %q, %d rows, %d valid, %d problems\n",
					f.Name, f.Kind, f.Encoding, f.Separator, f.Rows, f.ValidRows, f.Problems)
			}
			if handed != valid {
				t.Errorf("partial mode handed on %d rows, %d are valid", handed, valid)
			}
			golden(t, filepath.Join(dir, e.Name()+".golden"), out.Bytes())
		})
	}
}

// TestSamplesCoverEveryDialect guards the samples the acceptance asks for.
func TestSamplesCoverEveryDialect(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ path, what string }{
		{"valid/utf8-bom/presences.csv", "\xEF\xBB\xBF"},
		{"valid/windows-1252/usagers.csv", "Lef\xE8vre"},
		{"valid/utf8-bom/presences.csv", ";7,5;"},
		{"valid/utf8-bom/presences.csv", "\"Hospitalisation; retour prévu\nle 30/04\""},
		{"valid/comma/presences.csv", ",\"7,5\","},
	} {
		b, err := os.ReadFile(filepath.Join(samples, c.path))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(b, []byte(c.what)) {
			t.Errorf("%s lacks %q", c.path, c.what)
		}
	}
	b, err := os.ReadFile(filepath.Join(samples, "valid/utf8-variant-headers/usagers.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.HasPrefix(b, []byte("\xEF\xBB\xBF")) || slices.Contains(strings.Split(string(b), "\n")[:1], "") {
		t.Error("the no-BOM sample starts with a byte order mark")
	}
}
