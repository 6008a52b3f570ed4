package indicators_test

import (
	"context"
	"io"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/relais-dev/relais/mapping"
	"github.com/relais-dev/relais/mapping/activitycsv"
	"github.com/relais-dev/relais/mapping/indicators"
)

// benchRows is the number of presence rows of the scale benchmarks: a
// million, as the acceptance states; RELAIS_BENCH_ROWS overrides it.
func benchRows(b *testing.B) int {
	if s := os.Getenv("RELAIS_BENCH_ROWS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			b.Fatalf("RELAIS_BENCH_ROWS: %v", err)
		}
		return n
	}
	return 1_000_000
}

// BenchmarkAccumulate feeds a million rows (persons, their stays, then
// presences and absences, one per person and day) to an Accumulator, each
// row made as it is fed: no slice of rows.
func BenchmarkAccumulate(b *testing.B) {
	rows := benchRows(b)
	persons := (rows + 365) / 366
	period := mapping.Period{Start: "2024-01-01", End: "2024-12-31"}
	day0 := time.Date(2024, 1, 1, 8, 0, 0, 0, paris)
	ids := make([]string, persons)
	for i := range ids {
		ids[i] = "3" + finess + "/U" + strconv.Itoa(i)
	}
	reason := &mapping.Coding{Display: "Maladie"}
	b.ReportAllocs()
	for b.Loop() {
		a, err := indicators.New(indicators.Options{FINESS: finess, Period: period, Capacity: persons})
		if err != nil {
			b.Fatal(err)
		}
		var rp mapping.ReportPerson
		var st mapping.Stay
		for i, id := range ids {
			rp = mapping.ReportPerson{LocalID: id, Person: mapping.Person{Sex: mapping.SexFemale, BirthDate: mapping.PartialDate("20" + strconv.Itoa(10+i%14) + "-03-01")}}
			a.AddPerson(&rp)
			st = mapping.Stay{Identifier: id + "-SEJOUR-1", PersonLocalID: id, Start: "2023-09-01"}
			a.AddStay(&st)
		}
		var pa mapping.PresenceAbsence
		for i := range rows {
			id, d := ids[i%persons], i/persons
			start := day0.AddDate(0, 0, d)
			pa = mapping.PresenceAbsence{Identifier: id + "-PA-" + strconv.Itoa(d), Kind: mapping.Presence, Start: start, End: start.Add(9 * time.Hour), Invoiced: true}
			if i%10 == 0 {
				pa.Kind, pa.Reason = mapping.Absence, reason
			}
			a.AddPresenceAbsence(&pa)
		}
		if r := a.Report(); r.Presences.Total+r.Absences.Total != rows {
			b.Fatalf("counted %d slots, want %d", r.Presences.Total+r.Absences.Total, rows)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkReadAndAccumulate validates a generated upload of a million
// presence rows with activitycsv and computes its indicators as the rows
// stream by: the whole path of an upload to its indicator report.
func BenchmarkReadAndAccumulate(b *testing.B) {
	rows := benchRows(b)
	dir := b.TempDir()
	paths, err := activitycsv.WriteSample(dir, activitycsv.Sample{FINESS: finess, Year: 2024, Presences: rows})
	if err != nil {
		b.Fatal(err)
	}
	period := mapping.Period{Start: "2024-01-01", End: "2024-12-31"}
	b.ReportAllocs()
	for b.Loop() {
		a, err := indicators.New(indicators.Options{FINESS: finess, Period: period})
		if err != nil {
			b.Fatal(err)
		}
		var inputs []activitycsv.Input
		var files []io.Closer
		for _, p := range paths {
			f, err := os.Open(p) //nolint:gosec // the benchmark's own files
			if err != nil {
				b.Fatal(err)
			}
			st, err := f.Stat()
			if err != nil {
				b.Fatal(err)
			}
			files = append(files, f)
			inputs = append(inputs, activitycsv.Input{Name: p, R: f, Size: st.Size()})
		}
		res, err := activitycsv.Read(context.Background(), activitycsv.Options{FINESS: finess, Period: period}, a.Row, inputs...)
		for _, f := range files {
			_ = f.Close()
		}
		if err != nil || !res.Valid() {
			b.Fatalf("reading: %v %v", err, res.Problems)
		}
		if r := a.Report(); r.Presences.Total+r.Absences.Total != rows {
			b.Fatalf("counted %d slots, want %d", r.Presences.Total+r.Absences.Total, rows)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
