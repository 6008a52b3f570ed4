package apiparticulier_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/connectors/apiparticulier"
)

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	cfg := apiparticulier.Config{BaseURL: "https://particulier.api.gouv.fr/", Token: "jwt"}.WithDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	if cfg.BaseURL != "https://particulier.api.gouv.fr" || cfg.CacheTTL != 24*time.Hour || len(cfg.Operations) != 10 {
		t.Errorf("defaults %+v", cfg)
	}
	if rl := cfg.Stack.RateLimit; rl.RequestsPerSecond != apiparticulier.DefaultRequestsPerSecond || rl.Burst != 1 {
		t.Errorf("rate limit %+v, want %d/s with a burst of 1", rl, apiparticulier.DefaultRequestsPerSecond)
	}
	if a := cfg.Stack.Auth; a.Kind != connectors.AuthBearer || a.Token != "jwt" {
		t.Errorf("auth %+v, want the token as a bearer", a)
	}
	if s := fmt.Sprintf("%v %+v", cfg, cfg); contains(s, "jwt") {
		t.Errorf("the token prints: %s", s)
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		field string
		tune  func(*apiparticulier.Config)
	}{
		{"base_url", func(c *apiparticulier.Config) { c.BaseURL = "" }},
		{"base_url", func(c *apiparticulier.Config) { c.BaseURL = "particulier.api.gouv.fr" }},
		{"base_url", func(c *apiparticulier.Config) { c.BaseURL = "https://particulier.api.gouv.fr?x=1" }},
		{"token", func(c *apiparticulier.Config) { c.Token = "" }},
		{"operations[1]", func(c *apiparticulier.Config) { c.Operations = []string{"quotient_familial", "impots"} }},
		{"operations[1]", func(c *apiparticulier.Config) { c.Operations = []string{"prime_activite", "prime_activite"} }},
		{"cache_ttl", func(c *apiparticulier.Config) { c.CacheTTL = -time.Hour }},
		{"stack.auth", func(c *apiparticulier.Config) {
			c.Stack.Auth = connectors.AuthConfig{Kind: connectors.AuthAPIKey, Token: "jwt"}
		}},
		{"stack.rate_limit.requests_per_second", func(c *apiparticulier.Config) { c.Stack.RateLimit.RequestsPerSecond = 25 }},
		{"stack.rate_limit.burst", func(c *apiparticulier.Config) { c.Stack.RateLimit.Burst = 5 }},
		{"stack.timeout", func(c *apiparticulier.Config) { c.Stack.Timeout = -time.Second }},
	}
	for _, tc := range tests {
		t.Run(tc.field, func(t *testing.T) {
			t.Parallel()
			cfg := apiparticulier.Config{BaseURL: "https://particulier.api.gouv.fr", Token: "jwt"}
			tc.tune(&cfg)
			err := cfg.WithDefaults().Validate()
			ce, ok := errors.AsType[*connectors.ConfigError](err)
			if !ok || ce.Field != tc.field {
				t.Fatalf("error %v, want one naming %s", err, tc.field)
			}
			if contains(err.Error(), "jwt") {
				t.Errorf("the error quotes the token: %v", err)
			}
			if _, err := apiparticulier.New("apiparticulier", cfg, connectors.Deps{}); err == nil {
				t.Error("New accepted the configuration")
			}
		})
	}
}
