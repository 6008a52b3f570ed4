package delivery_test

import (
	"log/slog"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/gateway/delivery"
)

// expBackoff is the backoff ceiling of attempt: BackoffBase doubled per
// attempt after the first, capped by BackoffMax, computed without overflow.
func expBackoff(cfg delivery.Config, attempt int) time.Duration {
	exp := cfg.BackoffBase
	for i := 1; i < attempt && exp < cfg.BackoffMax; i++ {
		exp *= 2
	}
	return min(exp, cfg.BackoffMax)
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	configs := map[string]delivery.Config{
		"defaults": {},
		// BackoffMax below MaxRetryAfter, so Retry-After can exceed it.
		"tight":   {BackoffBase: 100 * time.Millisecond, BackoffMax: 5 * time.Second, MaxRetryAfter: 20 * time.Second},
		"odd ns":  {BackoffBase: 3, BackoffMax: 1001, MaxRetryAfter: 1500},
		"big max": {BackoffBase: 3 * time.Second, BackoffMax: 1000 * time.Hour, MaxRetryAfter: time.Hour},
	}
	for name, c := range configs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg := c.WithDefaults()
			if err := cfg.Validate(); err != nil {
				t.Fatalf("config: %v", err)
			}
			w := delivery.NewWorker(nil, connectors.NewRegistry(), cfg, delivery.NewMetrics(prometheus.NewRegistry()), slog.New(slog.DiscardHandler), nil)
			rng := rand.New(rand.NewPCG(1, 2)) // fixed seed: the inputs are reproducible
			attempts := []int{}
			for a := 1; a <= 40; a++ {
				attempts = append(attempts, a)
			}
			attempts = append(attempts, 63, 64, 100, 1000)
			for _, attempt := range attempts {
				exp := expBackoff(cfg, attempt)
				for range 50 {
					got := w.Backoff(attempt, 0)
					if got < exp/2 || got > exp {
						t.Fatalf("Backoff(%d, 0) = %v, want within [%v, %v]", attempt, got, exp/2, exp)
					}

					retryAfter := time.Duration(rng.Int64N(int64(2*cfg.MaxRetryAfter) + 1))
					if rng.IntN(4) == 0 {
						retryAfter = time.Duration(rng.Int64N(int64(exp) + 1)) // around the backoff itself
					}
					capped := min(retryAfter, cfg.MaxRetryAfter)
					got = w.Backoff(attempt, retryAfter)
					if got < capped {
						t.Fatalf("Backoff(%d, %v) = %v, want at least the capped Retry-After %v", attempt, retryAfter, got, capped)
					}
					if hi := max(cfg.BackoffMax, capped); got > hi {
						t.Fatalf("Backoff(%d, %v) = %v, want at most %v", attempt, retryAfter, got, hi)
					}
					if lo, hi := max(exp/2, capped), max(exp, capped); got < lo || got > hi {
						t.Fatalf("Backoff(%d, %v) = %v, want within [%v, %v]", attempt, retryAfter, got, lo, hi)
					}
				}
			}
		})
	}
}

// The jitter spreads retries: a thousand draws are not all the same.
func TestBackoffJitters(t *testing.T) {
	t.Parallel()
	w := delivery.NewWorker(nil, connectors.NewRegistry(), delivery.Config{}, delivery.NewMetrics(prometheus.NewRegistry()), slog.New(slog.DiscardHandler), nil)
	seen := map[time.Duration]bool{}
	for range 1000 {
		seen[w.Backoff(5, 0)] = true
	}
	if len(seen) < 100 {
		t.Errorf("Backoff(5, 0) took %d distinct values in 1000 draws, want jitter", len(seen))
	}
}

func TestConfigWithDefaults(t *testing.T) {
	t.Parallel()
	want := delivery.Config{
		MaxAttempts: 10, BackoffBase: 2 * time.Second, BackoffMax: time.Hour,
		MaxRetryAfter: 10 * time.Minute, BreakerRequeue: time.Second, DependencyWait: time.Second,
	}
	if got := (delivery.Config{}).WithDefaults(); got != want {
		t.Errorf("zero config with defaults = %+v, want %+v", got, want)
	}
	negative := delivery.Config{MaxAttempts: -1, BackoffBase: -1, BackoffMax: -1, MaxRetryAfter: -1, BreakerRequeue: -1, DependencyWait: -1}
	if got := negative.WithDefaults(); got != want {
		t.Errorf("negative config with defaults = %+v, want %+v", got, want)
	}
	set := delivery.Config{
		MaxAttempts: 3, BackoffBase: time.Second, BackoffMax: time.Minute,
		MaxRetryAfter: time.Hour, BreakerRequeue: 5 * time.Second, DependencyWait: 2 * time.Second,
	}
	if got := set.WithDefaults(); got != set {
		t.Errorf("set config with defaults = %+v, want it unchanged", got)
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		cfg   delivery.Config
		field string // "" when valid
	}{
		{"defaults", delivery.Config{}, ""},
		{"1000 attempts", delivery.Config{MaxAttempts: 1000}, ""},
		{"1001 attempts", delivery.Config{MaxAttempts: 1001}, "delivery.max_attempts"},
		{"max equals base", delivery.Config{BackoffBase: time.Minute, BackoffMax: time.Minute}, ""},
		{"max below base", delivery.Config{BackoffBase: time.Minute, BackoffMax: time.Second}, "delivery.backoff_max"},
		{"base above default max", delivery.Config{BackoffBase: 2 * time.Hour}, "delivery.backoff_max"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.cfg.WithDefaults().Validate()
			switch {
			case tt.field == "" && err != nil:
				t.Errorf("Validate = %v, want nil", err)
			case tt.field != "" && err == nil:
				t.Errorf("Validate = nil, want an error naming %s", tt.field)
			case tt.field != "" && !strings.HasPrefix(err.Error(), tt.field+":"):
				t.Errorf("Validate = %q, want it to name %s first", err, tt.field)
			}
		})
	}
}
