package activitycsv_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/relais-dev/relais/mapping"
	"github.com/relais-dev/relais/mapping/activitycsv"
)

// fuzzLimits keep each run small.
var fuzzLimits = activitycsv.Limits{MaxProblems: 20, MaxColumns: 32, MaxRecordBytes: 4096}

// addSampleSeeds adds every sample file, and the test's valid files.
func addSampleSeeds(f *testing.F, ext string) {
	f.Helper()
	err := filepath.WalkDir(samples, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ext) {
			return err
		}
		b, err := os.ReadFile(path) //nolint:gosec // a test file
		if err == nil && len(b) < 64<<10 {
			f.Add(b)
		}
		return err
	})
	if err != nil {
		f.Fatal(err)
	}
}

// FuzzReadCSV feeds the reader any bytes, after valid persons and stays
// files so that references resolve. It must never panic; every problem
// must have a line (≥ 1), a column within the limit, a code and a French
// sentence; the list must stay within its bound; every row handed on
// must pass the canonical model's checks.
func FuzzReadCSV(f *testing.F) {
	addSampleSeeds(f, ".csv")
	for _, s := range []string{personsCSV, staysCSV, eventsCSV, presencesCSV, "sep=,\nIdentifiant usager,Nom\n", "\"a;b\";c\n\"d", "a\"b;c\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		opts := options()
		opts.Partial = true
		opts.Limits = fuzzLimits
		rows := 0
		v, err := activitycsv.NewValidator(opts, func(r activitycsv.Row) error {
			rows++
			var errs []*mapping.FieldError
			switch r.Kind {
			case activitycsv.KindPersons:
				errs = r.Person.Person.Validate()
			case activitycsv.KindStays:
				errs = r.Stay.Validate()
			case activitycsv.KindEvents:
				errs = r.Event.Validate()
			case activitycsv.KindPresences:
				errs = r.Presence.Validate()
			default:
				t.Fatalf("a row of kind %v", r.Kind)
			}
			if len(errs) > 0 {
				t.Fatalf("a row handed on fails the canonical checks: %v", errs)
			}
			if r.Line < 1 {
				t.Fatalf("a row at line %d", r.Line)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		for name, body := range map[string]string{"usagers.csv": personsCSV, "sejours.csv": staysCSV} {
			if err := v.ReadCSV(ctx, name, strings.NewReader(body)); err != nil {
				t.Fatal(err)
			}
		}
		if err := v.ReadCSV(ctx, "fuzz.csv", bytes.NewReader(data)); err != nil {
			t.Fatalf("ReadCSV: %v", err)
		}
		res := v.Result()
		if len(res.Problems) > fuzzLimits.MaxProblems+1 {
			t.Fatalf("%d problems listed, the bound is %d", len(res.Problems), fuzzLimits.MaxProblems+1)
		}
		if res.Total < len(res.Problems)-1 || (res.Total == 0) != res.Valid() {
			t.Fatalf("total %d for %d problems listed", res.Total, len(res.Problems))
		}
		for _, p := range res.Problems {
			if p.Line < 1 || p.Column < 0 || p.Column > fuzzLimits.MaxColumns+1 || p.Code == "" {
				t.Fatalf("problem out of place: %+v", p)
			}
			if !utf8.ValidString(p.Message) || !strings.HasPrefix(p.Message, "Ligne ") || len(p.Message) > 1000 {
				t.Fatalf("message: %q", p.Message)
			}
		}
		if rows > bytes.Count(data, []byte("\n"))+2+3 { // +3: the fixed persons and stays
			t.Fatalf("%d rows from %d lines", rows, bytes.Count(data, []byte("\n"))+1)
		}
	})
}

// FuzzReadZip feeds Read any bytes as a zip. It must never panic, and
// never fail but for a reason of its own (problems are not failures).
func FuzzReadZip(f *testing.F) {
	addSampleSeeds(f, ".zip")
	f.Fuzz(func(t *testing.T, data []byte) {
		opts := options()
		opts.Limits = fuzzLimits
		res, err := activitycsv.Read(context.Background(), opts, nil,
			activitycsv.Input{Name: "upload.zip", R: bytes.NewReader(data), Size: int64(len(data))})
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		for _, p := range res.Problems {
			if p.Line < 0 || p.Code == "" || p.Message == "" {
				t.Fatalf("problem: %+v", p)
			}
		}
	})
}
