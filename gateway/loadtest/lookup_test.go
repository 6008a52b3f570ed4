package loadtest_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/relais-dev/relais/gateway/loadtest"
	"github.com/relais-dev/relais/gateway/store/storetest"
)

// lookupOptions is a run on driver; PostgreSQL runs skip, loudly, without
// RELAIS_TEST_DATABASE_URL.
func lookupOptions(tb testing.TB, driver string) loadtest.LookupOptions {
	tb.Helper()
	o := loadtest.LookupOptions{Driver: driver, DataDir: tb.TempDir()}
	if driver == "postgres" {
		if o.DSN = os.Getenv(storetest.EnvDatabaseURL); o.DSN == "" {
			tb.Skipf("SKIPPING PostgreSQL run: set %s (e.g. postgres://127.0.0.1:5432/test) to run it", storetest.EnvDatabaseURL)
		}
	}
	return o
}

// TestRunLookup: a short run on each store gets every source's data for
// every lookup and measures them all (what it measures is for
// BenchmarkLookup and `relais bench lookup`, not asserted).
func TestRunLookup(t *testing.T) {
	t.Parallel()
	for _, driver := range storetest.Drivers {
		t.Run(storetest.Name(driver), func(t *testing.T) {
			t.Parallel()
			o := lookupOptions(t, driver)
			o.Lookups, o.Rate = 40, 100
			o.Latencies = []time.Duration{time.Millisecond, 2 * time.Millisecond, 3 * time.Millisecond, 4 * time.Millisecond}
			res, err := loadtest.RunLookup(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			if res.Incomplete != 0 || res.Lookups != 40 || res.Slowest != 4*time.Millisecond || res.P50 < res.Slowest || res.Max < res.P99 || res.P99 < res.P50 {
				t.Fatalf("run: %+v", res)
			}
			t.Log(res)
		})
	}
}

// BenchmarkLookup is issue 6's lookup benchmark: 200 lookups a second,
// open loop, of three sources answering in 20, 30 and 50 ms, through the
// HTTP API; it reports Relais's overhead over the slowest source (the
// target is a p99 of at most 5 ms). b.N is the number of lookups: run it
// with -benchtime=2000x (10 s) for a p99 worth reading.
func BenchmarkLookup(b *testing.B) {
	for _, driver := range storetest.Drivers {
		b.Run(storetest.Name(driver), func(b *testing.B) {
			o := lookupOptions(b, driver)
			o.Lookups = b.N
			b.ResetTimer()
			res, err := loadtest.RunLookup(context.Background(), o)
			if err != nil {
				b.Fatal(err)
			}
			if res.Incomplete != 0 {
				b.Fatalf("%d lookups incomplete", res.Incomplete)
			}
			ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
			b.ReportMetric(res.Achieved, "lookups/s")
			b.ReportMetric(ms(res.P99), "p99-ms")
			b.ReportMetric(ms(res.OverheadP50), "p50-overhead-ms")
			b.ReportMetric(ms(res.OverheadP99), "p99-overhead-ms")
		})
	}
}
