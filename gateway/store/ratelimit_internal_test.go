package store

import (
	"context"
	"fmt"
	"math"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/gateway/vault"
)

// envDatabaseURL is storetest.EnvDatabaseURL, which this package's own
// tests cannot import.
const envDatabaseURL = "RELAIS_TEST_DATABASE_URL"

// sharedPostgres opens n stores on one fresh PostgreSQL database, as n
// Relais processes would, migrated and closed at cleanup. It skips, loudly,
// without RELAIS_TEST_DATABASE_URL.
func sharedPostgres(tb testing.TB, n int) []*Store {
	tb.Helper()
	base := os.Getenv(envDatabaseURL)
	if base == "" {
		tb.Skipf("SKIPPING PostgreSQL test: set %s (e.g. postgres://127.0.0.1:5432/test) to run it", envDatabaseURL)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dsn, drop, err := CreateTempDatabase(ctx, base, "relais_rl")
	if err != nil {
		tb.Fatalf("%s: %v", envDatabaseURL, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := drop(ctx); err != nil {
			tb.Logf("dropping test database: %v", err)
		}
	})
	keys, err := vault.ParseKeys(vault.GenerateKeySpec("test1"), "")
	if err != nil {
		tb.Fatal(err)
	}
	stores := make([]*Store, n)
	for i := range stores {
		s, err := Open(ctx, Options{Driver: "postgres", DSN: dsn, Keyring: keys, MaxConns: 8})
		if err != nil {
			tb.Fatalf("opening store %d: %v", i, err)
		}
		tb.Cleanup(s.Close)
		if err := s.Migrate(ctx); err != nil {
			tb.Fatalf("migrating store %d: %v", i, err)
		}
		stores[i] = s
	}
	return stores
}

func limiterOf(tb testing.TB, s *Store) *sharedLimiter {
	tb.Helper()
	l, ok := s.Reserver().(*sharedLimiter)
	if !ok {
		tb.Fatalf("the %s store's Reserver is %T", s.Driver(), s.Reserver())
	}
	return l
}

// maxInWindow is the largest number of slots in any window of length w,
// slots sorted.
func maxInWindow(slots []time.Time, w time.Duration) int {
	most, j := 0, 0
	for i := range slots {
		for slots[i].Sub(slots[j]) >= w {
			j++
		}
		most = max(most, i-j+1)
	}
	return most
}

// TestSharedLimiterTwoProcesses: two stores on one database, as two Relais
// processes, book slots of one key from many goroutines at once. The slots
// booked are all distinct and never more than the rate in any one-second
// window (or rate·w in a window w); the times they are reached, after
// their waits, never more than that + burst - 1 (a burst is spent at once).
func TestSharedLimiterTwoProcesses(t *testing.T) {
	t.Parallel()
	stores := sharedPostgres(t, 2)
	for _, tc := range []struct {
		rate       float64
		burst      int
		goroutines int // per store
		each       int
		window     time.Duration
	}{
		{rate: 20, burst: 1, goroutines: 16, each: 5, window: time.Second}, // 160 slots: 8 s
		{rate: 50, burst: 10, goroutines: 12, each: 10, window: time.Second},
		{rate: 3, burst: 1, goroutines: 4, each: 3, window: time.Second}, // T is not a whole number of µs
		// Faster than the bookings: the key keeps going idle and
		// filling up again.
		{rate: 20000, burst: 3, goroutines: 8, each: 50, window: 5 * time.Millisecond},
	} {
		t.Run(fmt.Sprintf("rate=%g,burst=%d", tc.rate, tc.burst), func(t *testing.T) {
			t.Parallel()
			key := fmt.Sprintf("ratelimit:test-%g-%d", tc.rate, tc.burst)
			cfg := connectors.RateLimitConfig{RequestsPerSecond: tc.rate, Burst: tc.burst}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			var (
				mu    sync.Mutex
				slots []time.Time
				sends []time.Time
				wg    sync.WaitGroup
				errs  = make(chan error, len(stores)*tc.goroutines)
			)
			start := time.Now()
			for _, s := range stores {
				l := limiterOf(t, s)
				for range tc.goroutines {
					wg.Go(func() {
						for range tc.each {
							r, err := l.reserve(ctx, key, cfg)
							if err != nil {
								errs <- err
								return
							}
							// The wait leads to the slot, not before it
							// (give or take the skew between this clock
							// and the database's).
							if reached := time.Now().Add(r.wait); r.slot.IsZero() || reached.Before(r.slot.Add(-50*time.Millisecond)) {
								errs <- fmt.Errorf("slot %s reached at %s", r.slot, reached)
								return
							}
							mu.Lock()
							slots = append(slots, r.slot)
							sends = append(sends, r.at.Add(r.wait))
							mu.Unlock()
						}
					})
				}
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			booking := time.Since(start)
			slices.SortFunc(slots, time.Time.Compare)
			slices.SortFunc(sends, time.Time.Compare)
			if want := len(stores) * tc.goroutines * tc.each; len(slots) != want || len(slices.Compact(slices.Clone(slots))) != want {
				t.Fatalf("%d slots, %d distinct, want %d", len(slots), len(slices.Compact(slices.Clone(slots))), want)
			}
			perWindow := int(math.Ceil(tc.rate * tc.window.Seconds()))
			if most := maxInWindow(slots, tc.window); most > perWindow {
				t.Fatalf("%d slots in %s, want at most %d", most, tc.window, perWindow)
			}
			if most, limit := maxInWindow(sends, tc.window), perWindow+tc.burst-1; most > limit {
				t.Fatalf("%d slots reached in %s, want at most %d", most, tc.window, limit)
			}
			// Not slower than the rate either: the slots are T apart, but
			// for the gaps while the key was idle, within the time taken
			// to book them.
			span := slots[len(slots)-1].Sub(slots[0])
			need := time.Duration(float64(len(slots)-1) / tc.rate * float64(time.Second))
			if span > need+booking+100*time.Millisecond {
				t.Fatalf("%d slots span %s, want about %s", len(slots), span, need)
			}
			t.Logf("%d slots booked in %s, span %s, at most %d booked and %d reached in %s",
				len(slots), booking.Round(time.Millisecond), span.Round(time.Millisecond), maxInWindow(slots, tc.window), maxInWindow(sends, tc.window), tc.window)
		})
	}
}

// TestSharedLimiterDeadline: a slot after the caller's deadline is not
// booked, so abandoned requests do not push later slots away, and the wait
// returned outlasts the deadline.
func TestSharedLimiterDeadline(t *testing.T) {
	t.Parallel()
	l := limiterOf(t, sharedPostgres(t, 1)[0])
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg := connectors.RateLimitConfig{RequestsPerSecond: 10, Burst: 1}
	const key = "ratelimit:deadline"
	var last reservation
	for range 20 { // two seconds of slots
		r, err := l.reserve(ctx, key, cfg)
		if err != nil {
			t.Fatal(err)
		}
		last = r
	}
	short, cancelShort := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancelShort()
	for range 5 {
		r, err := l.reserve(short, key, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if !r.slot.IsZero() || r.wait <= 500*time.Millisecond {
			t.Fatalf("booked %s with a wait of %s past the deadline", r.slot, r.wait)
		}
	}
	next, err := l.reserve(ctx, key, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if gap := next.slot.Sub(last.slot); gap != 100*time.Millisecond {
		t.Fatalf("the next slot is %s after the last one booked, want 100ms: refused reservations moved it", gap)
	}
	if _, err := l.reserve(ctx, key, connectors.RateLimitConfig{}); err == nil {
		t.Fatal("a zero configuration was accepted")
	}
}

// TestReserverSQLite: SQLite shares no limiter; the gateway keeps the
// in-process buckets.
func TestReserverSQLite(t *testing.T) {
	t.Parallel()
	s := openTestStore(t, nil)
	if r := s.Reserver(); r != nil {
		t.Fatalf("SQLite store has a shared Reserver %T", r)
	}
}

// BenchmarkReserve books slots of one key, one at a time (the latency of
// a reservation), then from parallel goroutines of two stores on one
// database (as two processes), on one hot key (every booking waits for the
// row's lock) and on a key per goroutine. It reports the latency
// percentiles of one reservation.
func BenchmarkReserve(b *testing.B) {
	stores := sharedPostgres(b, 2)
	cfg := connectors.RateLimitConfig{RequestsPerSecond: 1e6, Burst: 1}
	report := func(b *testing.B, latencies []time.Duration) {
		slices.Sort(latencies)
		if len(latencies) > 0 {
			b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds()), "p99-µs")
		}
	}
	b.Run("serial", func(b *testing.B) {
		l := limiterOf(b, stores[0])
		latencies := make([]time.Duration, 0, b.N)
		b.ReportAllocs()
		for b.Loop() {
			start := time.Now()
			if _, err := l.Reserve(context.Background(), "ratelimit:bench-serial", cfg); err != nil {
				b.Fatal(err)
			}
			latencies = append(latencies, time.Since(start))
		}
		report(b, latencies)
	})
	for _, hot := range []bool{true, false} {
		name := "parallel,key=per-goroutine"
		if hot {
			name = "parallel,key=one"
		}
		b.Run(name, func(b *testing.B) {
			var (
				mu        sync.Mutex
				latencies []time.Duration
				next      int
			)
			b.ReportAllocs()
			b.SetParallelism(4)
			b.RunParallel(func(pb *testing.PB) {
				mu.Lock()
				l := limiterOf(b, stores[next%len(stores)])
				key := fmt.Sprintf("ratelimit:bench-%d", next)
				next++
				mu.Unlock()
				if hot {
					key = "ratelimit:bench-hot"
				}
				own := make([]time.Duration, 0, b.N)
				for pb.Next() {
					start := time.Now()
					if _, err := l.Reserve(context.Background(), key, cfg); err != nil {
						b.Error(err)
						return
					}
					own = append(own, time.Since(start))
				}
				mu.Lock()
				latencies = append(latencies, own...)
				mu.Unlock()
			})
			report(b, latencies)
		})
	}
}
