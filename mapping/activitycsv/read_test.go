package activitycsv_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/relais-dev/relais/mapping"
	"github.com/relais-dev/relais/mapping/activitycsv"
)

// zipOf builds a zip in memory; a name ending in "!" is stored with the
// encryption flag set.
func zipOf(t *testing.T, files ...[2]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		h := &zip.FileHeader{Name: strings.TrimSuffix(f[0], "!"), Method: zip.Deflate}
		if strings.HasSuffix(f[0], "!") {
			h.Flags |= 0x1
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(f[1])); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestZip(t *testing.T) {
	t.Parallel()
	valid := [][2]string{{"usagers.csv", personsCSV}, {"sejours.csv", staysCSV}, {"evenements.csv", eventsCSV}, {"presences.csv", presencesCSV}}
	many := make([][2]string, 17)
	for i := range many {
		many[i] = [2]string{fmt.Sprintf("presences-%d.csv", i), presencesCSV}
	}
	for _, tc := range []struct {
		name  string
		files [][2]string
		want  []at
		rows  int
	}{
		{name: "valid, files in any order", files: [][2]string{valid[3], valid[1], valid[0], valid[2]}, rows: 7},
		{name: "files named otherwise, kinds told by their headers", files: [][2]string{
			{"a.csv", presencesCSV}, {"b.csv", eventsCSV}, {"c.csv", staysCSV}, {"d.csv", personsCSV}}, rows: 7},
		{name: "zip bomb", files: append(valid[:2:2], [2]string{"presences.csv", presHeader + strings.Repeat(" ", 1<<20)}),
			want: []at{{"upload.zip", 0, 0, "zip_bomb"}}},
		{name: "too many files", files: many, want: []at{{"upload.zip", 0, 0, "zip_too_many_files"}}},
		{name: "path out of the archive", files: [][2]string{valid[0], {"../sejours.csv", staysCSV}},
			want: []at{{"upload.zip", 0, 0, "zip_unsafe_path"}}},
		{name: "absolute path", files: [][2]string{{"/etc/usagers.csv", personsCSV}},
			want: []at{{"upload.zip", 0, 0, "zip_unsafe_path"}}},
		{name: "encrypted", files: [][2]string{{"usagers.csv!", personsCSV}}, want: []at{{"upload.zip", 0, 0, "zip_encrypted"}}},
		{name: "a zip inside", files: append(valid[:2:2], [2]string{"more.zip", "PK"}),
			want: []at{{"upload.zip/more.zip", 0, 0, "zip_nested"}}, rows: 4},
		{name: "not a CSV inside", files: append(valid[:2:2], [2]string{"notes.docx", "x"}),
			want: []at{{"upload.zip/notes.docx", 0, 0, "unsupported_file"}}, rows: 4},
		{name: "a workbook inside", files: append(valid[:2:2], [2]string{"presences.xlsx", "PK"}),
			want: []at{{"upload.zip/presences.xlsx", 1, 0, "spreadsheet_file"}}, rows: 4},
		{name: "a workbook renamed .zip", files: [][2]string{{"[Content_Types].xml", "<Types/>"}, {"xl/workbook.xml", "<workbook/>"}},
			want: []at{{"upload.zip", 0, 0, "spreadsheet_file"}}},
		{name: "archivers' metadata skipped", files: append(valid[:2:2], [2]string{"__MACOSX/usagers.csv", "\x00\x05\x16\x07"}, [2]string{".DS_Store", "\x00\x00\x00\x01Bud1"}),
			rows: 4},
		{name: "problems inside are named by their path", files: [][2]string{valid[0], {"export/sejours.csv", stays2("U2-SEJOUR-1;U2;31/02/2024;;;;;")}},
			want: []at{{"upload.zip/export/sejours.csv", 3, 3, "invalid_date"}}, rows: 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			z := zipOf(t, tc.files...)
			rows := 0
			opts := options()
			opts.Partial = true
			res, err := activitycsv.Read(context.Background(), opts, func(activitycsv.Row) error { rows++; return nil },
				activitycsv.Input{Name: "upload.zip", R: bytes.NewReader(z), Size: int64(len(z))})
			if err != nil {
				t.Fatal(err)
			}
			var got []at
			for _, p := range res.Problems {
				got = append(got, at{p.File, p.Line, p.Column, p.Code})
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
				t.Errorf("problems:\n got %v\nwant %v\n%v", got, tc.want, messages(res))
			}
			if rows != tc.rows {
				t.Errorf("%d rows handed on, want %d", rows, tc.rows)
			}
		})
	}
}

func TestZipNotAZip(t *testing.T) {
	t.Parallel()
	body := []byte("PK\x03\x04 but nothing else")
	res, err := activitycsv.Read(context.Background(), options(), nil, activitycsv.Input{Name: "upload.zip", R: bytes.NewReader(body), Size: int64(len(body))})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Problems) != 1 || res.Problems[0].Code != "zip_invalid" {
		t.Errorf("problems: %v", messages(res))
	}
}

// TestZipLimits checks the size limits against what the archive declares.
func TestZipLimits(t *testing.T) {
	t.Parallel()
	z := zipOf(t, [2]string{"usagers.csv", personsCSV}, [2]string{"sejours.csv", staysCSV})
	opts := options()
	opts.Limits.MaxZipBytes = int64(len(personsCSV)) + 10
	res, err := activitycsv.Read(context.Background(), opts, nil, activitycsv.Input{Name: "u.zip", R: bytes.NewReader(z), Size: int64(len(z))})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Problems) != 1 || res.Problems[0].Code != "zip_too_large" {
		t.Errorf("problems: %v", messages(res))
	}
}

// TestPartial checks both modes: without Partial no row is handed on once
// a problem is found; with it, every valid row is.
func TestPartial(t *testing.T) {
	t.Parallel()
	u := validUpload(upload{"presences.csv": presHeader + presRow2 + "U1-PA-2;U1-SEJOUR-1;absence;;06/02/2024;06/02/2024;;non;non\n" +
		"U1-PA-3;U1-SEJOUR-1;présence;;07/02/2024 08:30;;7,5;;oui\n"})
	res, rows := read(t, options(), u)
	if res.Valid() {
		t.Fatal("valid")
	}
	// Persons, stays, the event and the first presence come before the
	// problem; the last presence after it.
	if len(rows) != 6 {
		t.Errorf("without partial: %d rows handed on, want the 6 before the problem", len(rows))
	}
	opts := options()
	opts.Partial = true
	res, rows = read(t, opts, u)
	if len(rows) != 7 || res.Total != 1 {
		t.Errorf("partial: %d rows handed on, %d problems; want 7 and 1", len(rows), res.Total)
	}
	for _, r := range rows {
		if r.Presence != nil && strings.HasSuffix(r.Presence.Identifier, "PA-2") {
			t.Error("the invalid row was handed on")
		}
	}
	var sum struct{ rows, valid int }
	for _, f := range res.Files {
		sum.rows += f.Rows
		sum.valid += f.ValidRows
	}
	if sum.rows != 8 || sum.valid != 7 {
		t.Errorf("files count %d rows, %d valid; want 8 and 7", sum.rows, sum.valid)
	}
}

func TestTooManyErrors(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString(presHeader)
	for i := range 30 {
		fmt.Fprintf(&b, "U1-PA-%d;U1-SEJOUR-1;absence;;06/02/2024;06/02/2024;;non;non\n", i)
	}
	opts := options()
	opts.Limits.MaxProblems = 10
	res, _ := read(t, opts, validUpload(upload{"presences.csv": b.String()}))
	if res.Total != 30 || len(res.Problems) != 11 {
		t.Fatalf("total %d, listed %d; want 30 and 11", res.Total, len(res.Problems))
	}
	last := res.Problems[10]
	if last.Code != "too_many_errors" || last.Line != 12 || last.File != "presences.csv" ||
		!strings.Contains(last.Message, "20 autres erreurs") {
		t.Errorf("last problem: %+v", last)
	}
}

func TestHandlerErrorStops(t *testing.T) {
	t.Parallel()
	stop := errors.New("stop")
	n := 0
	_, err := activitycsv.Read(context.Background(), options(), func(activitycsv.Row) error {
		n++
		if n == 3 {
			return stop
		}
		return nil
	}, validUpload(nil).inputs()...)
	if !errors.Is(err, stop) || n != 3 {
		t.Errorf("err %v after %d rows", err, n)
	}
}

func TestContextDone(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := activitycsv.Read(ctx, options(), nil, validUpload(nil).inputs()...)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err %v, want context.Canceled", err)
	}
}

func TestOptionsNameTheFaultyField(t *testing.T) {
	t.Parallel()
	for want, change := range map[string]func(*activitycsv.Options){
		"FINESS: is required":  func(o *activitycsv.Options) { o.FINESS = "" },
		"FINESS: must be":      func(o *activitycsv.Options) { o.FINESS = "750000011" },
		"SIRET: must be":       func(o *activitycsv.Options) { o.SIRET = "12345678901234" },
		"Period.Start":         func(o *activitycsv.Options) { o.Period.Start = "2024-02-30" },
		"Period.End: must not": func(o *activitycsv.Options) { o.Period.End = "2023-12-31" },
		"max_columns":          func(o *activitycsv.Options) { o.Limits.MaxColumns = 1 },
		"max_zip_ratio":        func(o *activitycsv.Options) { o.Limits.MaxZipRatio = 1 },
	} {
		o := options()
		change(&o)
		_, err := activitycsv.NewValidator(o, nil)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want it to name %q", err, want)
		}
	}
	o := options()
	o.SIRET = "73282932000074"
	if _, err := activitycsv.NewValidator(o, nil); err != nil {
		t.Errorf("a valid SIRET: %v", err)
	}
}

// TestTemplates writes the four templates and reads them back: headers
// only, they are a valid empty upload.
func TestTemplates(t *testing.T) {
	t.Parallel()
	u := upload{}
	for _, k := range activitycsv.Kinds() {
		var b bytes.Buffer
		if err := activitycsv.WriteTemplate(&b, k); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(b.String(), "\uFEFF"+activitycsv.Headers(k)[0]+";") || !strings.HasSuffix(b.String(), "\r\n") {
			t.Errorf("%v template: %q", k, b.String())
		}
		u[k.TemplateName()] = b.String()
	}
	res, rows := read(t, options(), u)
	if !res.Valid() || len(rows) != 0 || len(res.Files) != 4 {
		t.Errorf("templates: %v, %d rows, %d files", messages(res), len(rows), len(res.Files))
	}
}

// TestWriteSample checks the generator writes a valid upload of the size
// asked.
func TestWriteSample(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	paths, err := activitycsv.WriteSample(dir, activitycsv.Sample{FINESS: finess, Year: 2024, Presences: 3000, Events: 100})
	if err != nil {
		t.Fatal(err)
	}
	counts := map[activitycsv.Kind]int{}
	res, err := activitycsv.Read(context.Background(), options(), func(r activitycsv.Row) error {
		counts[r.Kind]++
		return nil
	}, openInputs(t, paths)...)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Valid() {
		t.Fatalf("problems: %v", messages(res)[:min(5, len(res.Problems))])
	}
	if counts[activitycsv.KindPresences] != 3000 || counts[activitycsv.KindEvents] != 100 || counts[activitycsv.KindStays] != counts[activitycsv.KindPersons] {
		t.Errorf("rows: %v", counts)
	}
}

// TestREADMEListsEveryHeader keeps the README's tables in step with the
// columns read.
func TestREADMEListsEveryHeader(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range activitycsv.Kinds() {
		for _, h := range activitycsv.Headers(k) {
			if !regexp.MustCompile(`(?m)^\| ` + regexp.QuoteMeta(h) + ` \|`).Match(readme) {
				t.Errorf("README.md has no row for the %v header %q", k, h)
			}
		}
	}
	for _, code := range activitycsv.Codes() {
		if !bytes.Contains(readme, []byte("`"+code+"`")) {
			t.Errorf("README.md does not list the code %s", code)
		}
	}
}

// TestRowsAreCanonical checks that the rows of the valid upload form a
// valid canonical activity report.
func TestRowsAreCanonical(t *testing.T) {
	t.Parallel()
	_, rows := read(t, options(), validUpload(nil))
	r := mapping.ActivityReport{FINESS: finess, Period: options().Period}
	for _, row := range rows {
		switch {
		case row.Person != nil:
			r.Persons = append(r.Persons, *row.Person)
		case row.Stay != nil:
			r.Stays = append(r.Stays, *row.Stay)
		case row.Event != nil:
			r.Events = append(r.Events, *row.Event)
		case row.Presence != nil:
			r.PresenceAbsences = append(r.PresenceAbsences, *row.Presence)
		}
	}
	if len(rows) != 7 {
		t.Fatalf("%d rows, want 7", len(rows))
	}
	if errs := r.Validate(); len(errs) > 0 {
		t.Errorf("report: %v", errs)
	}
}

// TestWideLineCostsABoundedMemory reads a line of 10,000 columns and one
// of 1,000,000: both are refused (too_many_columns) for the same memory,
// since the guard stops the line before encoding/csv splits it. Not
// parallel: it measures the process's allocations.
func TestWideLineCostsABoundedMemory(t *testing.T) { //nolint:paralleltest // measures allocations
	alloc := func(columns int) uint64 {
		body := personsCSV + "U3" + strings.Repeat(";x", columns-1) + "\n"
		v, err := activitycsv.NewValidator(options(), nil)
		if err != nil {
			t.Fatal(err)
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		if err := v.ReadCSV(context.Background(), "usagers.csv", strings.NewReader(body)); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		if p := v.Result().Problems; len(p) != 1 || p[0].Code != "too_many_columns" || p[0].Column != 257 {
			t.Fatalf("%d columns: %v", columns, messages(v.Result()))
		}
		return after.TotalAlloc - before.TotalAlloc
	}
	small, huge := alloc(10_000), alloc(1_000_000)
	t.Logf("allocated: %d bytes for 10,000 columns, %d for 1,000,000", small, huge)
	if huge > 2*small || huge > 1<<20 {
		t.Errorf("allocations grow with the columns: %d bytes for 10,000, %d for 1,000,000", small, huge)
	}
}
