package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestBenchLookup runs a short `relais bench lookup` and reads its JSON;
// the figures themselves are for people, not assertions.
func TestBenchLookup(t *testing.T) {
	t.Parallel()
	out, err := runCLI(t, "bench", "lookup", "--lookups", "20", "--rate", "100", "--latencies", "1ms, 2ms,3ms", "--json")
	if err != nil {
		t.Fatalf("bench lookup: %v\n%s", err, out)
	}
	var res struct {
		Lookups    int   `json:"lookups"`
		Latencies  []int `json:"source_latencies"`
		Incomplete int   `json:"incomplete"`
		P99        int64 `json:"p99"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("decoding %s: %v", out, err)
	}
	if res.Lookups != 20 || len(res.Latencies) != 3 || res.Incomplete != 0 || res.P99 <= 0 {
		t.Fatalf("bench lookup gave %s", out)
	}
	for _, args := range [][]string{
		{"bench", "lookup", "--latencies", "20ms,soon"},
		{"bench", "lookup", "--store", "postgres"},
		{"bench", "measure"},
	} {
		if out, err := runCLI(t, args...); err == nil {
			t.Errorf("%s: no error\n%s", strings.Join(args, " "), out)
		}
	}
}
