package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/relais-dev/relais/gateway/loadtest"
)

const benchUsage = `usage:
  relais bench deliver [--store sqlite|postgres] [--dsn URL] [--submissions N] [--clients N] [--rate R] [--workers N]
  relais bench lookup [--store sqlite|postgres] [--dsn URL] [--lookups N] [--rate R] [--latencies 20ms,30ms,50ms]`

func runBench(ctx context.Context, args []string, e env) error {
	if len(args) == 0 {
		return errors.New(benchUsage)
	}
	switch args[0] {
	case "deliver":
		return runBenchDeliver(ctx, args[1:], e)
	case "lookup":
		return runBenchLookup(ctx, args[1:], e)
	}
	return errors.New(benchUsage)
}

// benchFlags are the flags every bench takes.
type benchFlags struct {
	driver, dsn, cpuProfile *string
	asJSON                  *bool
}

func addBenchFlags(fs *flag.FlagSet, e env) benchFlags {
	return benchFlags{
		driver:     fs.String("store", "sqlite", "store driver: sqlite or postgres"),
		dsn:        fs.String("dsn", e.getenv("RELAIS_BENCH_DATABASE_URL"), "PostgreSQL DSN (default $RELAIS_BENCH_DATABASE_URL)"),
		asJSON:     fs.Bool("json", false, "print the result as JSON"),
		cpuProfile: fs.String("cpuprofile", "", "write a CPU profile to this file"),
	}
}

// run checks the flags, runs bench in a scratch directory, profiling it if
// asked, and prints its result.
func (f benchFlags) run(e env, bench func(dir string) (fmt.Stringer, error)) error {
	if *f.driver == "postgres" && *f.dsn == "" {
		return errors.New("--dsn is required with --store postgres")
	}
	dir, err := os.MkdirTemp("", "relais-bench-")
	if err != nil {
		return fmt.Errorf("creating bench directory: %w", err)
	}
	defer os.RemoveAll(dir)
	if *f.cpuProfile != "" {
		pf, err := os.Create(*f.cpuProfile)
		if err != nil {
			return fmt.Errorf("creating CPU profile: %w", err)
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return fmt.Errorf("starting CPU profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	res, err := bench(dir)
	if err != nil {
		return err
	}
	if *f.asJSON {
		return json.NewEncoder(e.stdout).Encode(res)
	}
	fmt.Fprintln(e.stdout, res)
	return nil
}

func runBenchDeliver(ctx context.Context, args []string, e env) error {
	fs := newFlagSet("bench deliver", e)
	f := addBenchFlags(fs, e)
	n := fs.Int("submissions", 5000, "submissions in the throughput phase")
	clients := fs.Int("clients", 32, "concurrent clients in the throughput phase")
	rate := fs.Float64("rate", 300, "submissions per second in the latency phase")
	latN := fs.Int("latency-submissions", 3000, "submissions in the latency phase")
	workers := fs.Int("workers", 100, "delivery workers")
	size := fs.Int("document-size", 4096, "document size in bytes")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	return f.run(e, func(dir string) (fmt.Stringer, error) {
		return loadtest.Run(ctx, loadtest.Options{
			Driver: *f.driver, DSN: *f.dsn, DataDir: dir, Submissions: *n, Clients: *clients,
			Rate: *rate, LatencySubmissions: *latN, Workers: *workers, DocumentSize: *size,
		})
	})
}

func runBenchLookup(ctx context.Context, args []string, e env) error {
	fs := newFlagSet("bench lookup", e)
	f := addBenchFlags(fs, e)
	n := fs.Int("lookups", 2000, "lookups measured")
	rate := fs.Float64("rate", 200, "lookups per second, open loop")
	latencies := fs.String("latencies", "20ms,30ms,50ms", "the sources' fixed latencies, one source each")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var lat []time.Duration
	for s := range strings.SplitSeq(*latencies, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil || d < 0 {
			return fmt.Errorf("--latencies: %q is not a duration", s)
		}
		lat = append(lat, d)
	}
	return f.run(e, func(dir string) (fmt.Stringer, error) {
		return loadtest.RunLookup(ctx, loadtest.LookupOptions{
			Driver: *f.driver, DSN: *f.dsn, DataDir: dir, Lookups: *n, Rate: *rate, Latencies: lat,
		})
	})
}
