package profile_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/gateway/mandate"
	"github.com/relais-dev/relais/gateway/profile"
	"github.com/relais-dev/relais/gateway/profile/profiletest"
	"github.com/relais-dev/relais/mapping"
)

// pullTimes collects how long each source of one lookup took, as the
// source itself measures it.
type pullTimes struct {
	mu      sync.Mutex
	slowest time.Duration
}

type pullTimesKey struct{}

// timed is a source that reports its own duration to the lookup's
// pullTimes.
type timed struct{ connectors.Puller }

func (t timed) Pull(ctx context.Context, q *connectors.PullQuery) ([]connectors.PullItem, error) {
	start := time.Now()
	items, err := t.Puller.Pull(ctx, q)
	d := time.Since(start)
	if pt, ok := ctx.Value(pullTimesKey{}).(*pullTimes); ok {
		pt.mu.Lock()
		pt.slowest = max(pt.slowest, d)
		pt.mu.Unlock()
	}
	return items, err
}

// BenchmarkLookupThreeSources runs lookups of three sources in parallel on
// SQLite and reports the throughput and Relais's overhead over the slowest
// source of each lookup (the lookup's time minus that source's own time:
// basis checks, journal, sealing and storing the prefill, fan-out).
func BenchmarkLookupThreeSources(b *testing.B) {
	third := profiletest.NewPlatform(b)
	third.Set("attestation", profiletest.Answer{Delay: 2 * time.Millisecond, Data: profiletest.Data{Provider: mapping.ProviderCNAF,
		Benefits: []mapping.Benefit{{Kind: mapping.KindPrimeActivite, Provider: mapping.ProviderCNAF, Status: mapping.StatusNotBeneficiary,
			Period: mapping.BenefitPeriod{Year: 2026, Month: 3}}}}})
	thirdP := profiletest.NewPuller(b, "msa", third.URL, []connectors.PullOperation{
		{Name: "attestation", Demarche: mapping.DemarcheSocial, Category: mapping.DataBenefit},
	}, profiletest.PullerOptions{})
	f := setupWith(b, options{})
	for _, pl := range []*profiletest.Platform{f.caf, f.ft} {
		for _, op := range []string{"quotient_familial", "france_travail_statut", "france_travail_indemnites"} {
			if a, ok := pl.Answer(op); ok {
				a.Delay = 2 * time.Millisecond
				pl.Set(op, a)
			}
		}
	}
	// The service again, its sources timed; the clock real.
	svc, err := profile.NewService(profile.Config{}, profile.Deps{
		Pullers: []connectors.Puller{timed{f.cafP}, timed{f.ftP}, timed{thirdP}}, Store: f.st, Mandates: f.mandates,
		PersonKey: testPersonKey, Recipient: func(context.Context, string) (string, error) { return tenantSIRET, nil },
	})
	if err != nil {
		b.Fatal(err)
	}
	f.clock.Advance(time.Since(start)) // mandates valid by the real clock
	mid := f.mandate(b, f.a, mandatePerson(), mandate.Famille, mandate.Social, mandate.Travail)
	req := profile.Request{Identity: identity(), MandateID: mid, Sources: []profile.SourceRequest{
		{Name: "apiparticulier", Operations: []string{"quotient_familial"}}, {Name: "francetravail"}, {Name: "msa"},
	}}
	// lookup runs one lookup and returns Relais's overhead over its
	// slowest source.
	lookup := func(b *testing.B) time.Duration {
		pt := &pullTimes{}
		ctx := context.WithValue(context.Background(), pullTimesKey{}, pt)
		t0 := time.Now()
		p, err := svc.Lookup(ctx, f.a, req)
		total := time.Since(t0)
		if err != nil || !p.Complete {
			b.Errorf("lookup: %v %s", err, statuses(p))
		}
		return total - pt.slowest
	}
	// Saturated: as many lookups as the machine runs, benchParallelism
	// per CPU at once.
	b.Run("saturated", func(b *testing.B) {
		var rec overheadRecorder
		b.SetParallelism(benchParallelism)
		began := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				rec.add(lookup(b))
			}
		})
		rec.report(b, time.Since(began))
	})
	// Paced: 200 lookups a second, each started on time whatever the
	// others do (an open loop), the acceptance criterion's load.
	b.Run("paced-200/s", func(b *testing.B) {
		var (
			rec overheadRecorder
			wg  sync.WaitGroup
		)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		began := time.Now()
		for range b.N {
			<-tick.C
			wg.Go(func() { rec.add(lookup(b)) })
		}
		wg.Wait()
		rec.report(b, time.Since(began))
	})
}

// overheadRecorder collects overheads and reports their percentiles.
type overheadRecorder struct {
	mu        sync.Mutex
	overheads []time.Duration
}

func (r *overheadRecorder) add(d time.Duration) {
	r.mu.Lock()
	r.overheads = append(r.overheads, d)
	r.mu.Unlock()
}

func (r *overheadRecorder) report(b *testing.B, elapsed time.Duration) {
	b.StopTimer()
	if len(r.overheads) == 0 {
		return
	}
	slices.Sort(r.overheads)
	pct := func(q float64) float64 {
		return float64(r.overheads[min(len(r.overheads)-1, int(q*float64(len(r.overheads))))]) / float64(time.Millisecond)
	}
	b.ReportMetric(float64(len(r.overheads))/elapsed.Seconds(), "lookups/s")
	b.ReportMetric(pct(0.50), "p50-overhead-ms")
	b.ReportMetric(pct(0.99), "p99-overhead-ms")
}

// benchParallelism is the goroutines per CPU the lookup benchmark runs.
var benchParallelism = 4
