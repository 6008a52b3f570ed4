package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime/pprof"

	"github.com/relais-dev/relais/gateway/loadtest"
)

func runBench(ctx context.Context, args []string, e env) error {
	if len(args) == 0 || args[0] != "deliver" {
		return errors.New("usage: relais bench deliver [--store sqlite|postgres] [--dsn URL] [--submissions N] [--clients N] [--rate R] [--workers N]")
	}
	fs := newFlagSet("bench deliver", e)
	driver := fs.String("store", "sqlite", "store driver: sqlite or postgres")
	dsn := fs.String("dsn", e.getenv("RELAIS_BENCH_DATABASE_URL"), "PostgreSQL DSN (default $RELAIS_BENCH_DATABASE_URL)")
	n := fs.Int("submissions", 5000, "submissions in the throughput phase")
	clients := fs.Int("clients", 32, "concurrent clients in the throughput phase")
	rate := fs.Float64("rate", 300, "submissions per second in the latency phase")
	latN := fs.Int("latency-submissions", 3000, "submissions in the latency phase")
	workers := fs.Int("workers", 100, "delivery workers")
	size := fs.Int("document-size", 4096, "document size in bytes")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile to this file")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *driver == "postgres" && *dsn == "" {
		return errors.New("--dsn is required with --store postgres")
	}
	dir, err := os.MkdirTemp("", "relais-bench-")
	if err != nil {
		return fmt.Errorf("creating bench directory: %w", err)
	}
	defer os.RemoveAll(dir)
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fmt.Errorf("creating CPU profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("starting CPU profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	res, err := loadtest.Run(ctx, loadtest.Options{
		Driver: *driver, DSN: *dsn, DataDir: dir, Submissions: *n, Clients: *clients,
		Rate: *rate, LatencySubmissions: *latN, Workers: *workers, DocumentSize: *size,
	})
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(e.stdout).Encode(res)
	}
	fmt.Fprintln(e.stdout, res)
	return nil
}
