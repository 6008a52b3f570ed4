package report_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/relais-dev/relais/mapping/activitycsv"
)

// BenchmarkAccept100k accepts a 100,000-row upload (persons, stays,
// presences) on SQLite: read and check every cell, stage the sealed rows,
// and persist the version with its deliveries, as POST /v1/reports does
// before its 202.
func BenchmarkAccept100k(b *testing.B) {
	f := setup(b, "sqlite", 1000)
	dir := b.TempDir()
	paths, err := activitycsv.WriteSample(dir, activitycsv.Sample{FINESS: finess, Year: 2024, Persons: 1000, Presences: 98000})
	if err != nil {
		b.Fatal(err)
	}
	var files []activitycsv.Input
	for _, p := range paths {
		fh, err := os.Open(p)
		if err != nil {
			b.Fatal(err)
		}
		defer fh.Close()
		st, _ := fh.Stat()
		files = append(files, activitycsv.Input{Name: st.Name(), R: fh, Size: st.Size()})
	}
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		out, err := f.svc.Accept(ctx, upload(f, files, fmt.Sprintf("bench-%d", i), false))
		if err != nil || !out.Accepted {
			b.Fatalf("Accept = %+v, %v", out.Summary.Problems, err)
		}
		if i == 1 {
			b.ReportMetric(float64(out.Summary.Rows.Total()), "rows/op")
		}
	}
}
