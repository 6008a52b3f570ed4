package activitycsv_test

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"testing"

	"github.com/relais-dev/relais/mapping/activitycsv"
)

// benchRows is the size of the scale benchmark's presences file; the
// acceptance is stated at a million rows. RELAIS_BENCH_ROWS overrides it.
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

// BenchmarkReadMillion validates and maps a generated upload whose
// presences file has a million rows (plus the persons and stays it refers
// to), and reports rows per second of wall time and of CPU time (the
// machine may be shared), and the heap the runtime holds from the system
// at the end (HeapSys never shrinks: an upper bound of the peak heap).
// Peak RSS: run `relais report generate --rows 1000000` then `relais report
// validate` on its files under /usr/bin/time -v.
func BenchmarkReadMillion(b *testing.B) {
	rows := benchRows(b)
	dir := b.TempDir()
	paths, err := activitycsv.WriteSample(dir, activitycsv.Sample{FINESS: finess, Year: 2024, Presences: rows})
	if err != nil {
		b.Fatal(err)
	}
	var total int64
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			b.Fatal(err)
		}
		total += st.Size()
	}
	b.SetBytes(total)
	b.ReportAllocs()
	read := 0
	cpu0, cpuOK := cpuTime()
	for b.Loop() {
		inputs := openInputs(b, paths)
		read = 0
		res, err := activitycsv.Read(context.Background(), options(), func(r activitycsv.Row) error {
			read++
			return nil
		}, inputs...)
		if err != nil {
			b.Fatal(err)
		}
		if !res.Valid() || read < rows {
			b.Fatalf("%d rows handed on, %d problems: %v", read, res.Total, res.Problems)
		}
	}
	b.ReportMetric(float64(read)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	if cpu1, ok := cpuTime(); ok && cpuOK {
		b.ReportMetric(float64(read)*float64(b.N)/(cpu1-cpu0).Seconds(), "rows/cpu-s")
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapSys)/(1<<20), "MiB-heap-sys")
}

func openInputs(tb testing.TB, paths []string) []activitycsv.Input {
	tb.Helper()
	inputs := make([]activitycsv.Input, len(paths))
	for i, p := range paths {
		f, err := os.Open(p) //nolint:gosec // a test file
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { _ = f.Close() })
		st, err := f.Stat()
		if err != nil {
			tb.Fatal(err)
		}
		inputs[i] = activitycsv.Input{Name: st.Name(), R: f, Size: st.Size()}
	}
	return inputs
}
