package connectors_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/relais-dev/relais/connectors"
)

func TestStackConfigDefaults(t *testing.T) {
	t.Parallel()
	c := connectors.StackConfig{}.WithDefaults()
	if err := c.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"timeout", c.Timeout, 30 * time.Second},
		{"max_idle_conns_per_host", c.MaxIdleConnsPerHost, 64},
		{"auth.kind", c.Auth.Kind, connectors.AuthNone},
		{"auth.header_name", c.Auth.HeaderName, "X-API-Key"},
		{"auth.refresh_before", c.Auth.RefreshBefore, 60 * time.Second},
		{"rate_limit.requests_per_second", c.RateLimit.RequestsPerSecond, 50.0},
		{"rate_limit.burst", c.RateLimit.Burst, 10},
		{"breaker.consecutive_failures", c.Breaker.ConsecutiveFailures, uint32(5)},
		{"breaker.failure_ratio", c.Breaker.FailureRatio, 0.5},
		{"breaker.min_requests", c.Breaker.MinRequests, uint32(20)},
		{"breaker.interval", c.Breaker.Interval, 60 * time.Second},
		{"breaker.open_timeout", c.Breaker.OpenTimeout, 30 * time.Second},
		{"breaker.half_open_probes", c.Breaker.HalfOpenProbes, uint32(1)},
		{"retry.max", c.Retry.Max, 2},
		{"retry.wait_min", c.Retry.WaitMin, 100 * time.Millisecond},
		{"retry.wait_max", c.Retry.WaitMax, 2 * time.Second},
		{"retry.max_retry_after", c.Retry.MaxRetryAfter, 30 * time.Second},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("default %s = %v, want %v", ch.name, ch.got, ch.want)
		}
	}
}

func TestStackConfigValidateNamesField(t *testing.T) {
	t.Parallel()
	tests := []struct {
		field  string
		mutate func(*connectors.StackConfig)
	}{
		{"timeout", func(c *connectors.StackConfig) { c.Timeout = -time.Second }},
		{"auth.kind", func(c *connectors.StackConfig) { c.Auth.Kind = "basic" }},
		{"auth.token_url", func(c *connectors.StackConfig) { c.Auth.Kind = connectors.AuthOAuth2ClientCredentials }},
		{"auth.token_url", func(c *connectors.StackConfig) {
			c.Auth = connectors.AuthConfig{Kind: connectors.AuthOAuth2ClientCredentialsJSON, TokenURL: "/api/token"}
		}},
		{"auth.client_id", func(c *connectors.StackConfig) {
			c.Auth = connectors.AuthConfig{Kind: connectors.AuthOAuth2ClientCredentialsJSON, TokenURL: "https://safe.example/api/token"}
		}},
		{"auth.client_secret", func(c *connectors.StackConfig) {
			c.Auth = connectors.AuthConfig{Kind: connectors.AuthOAuth2ClientCredentials, TokenURL: "https://safe.example/api/token", ClientID: "relais"}
		}},
		{"auth.token", func(c *connectors.StackConfig) { c.Auth.Kind = connectors.AuthBearer }},
		{"rate_limit.requests_per_second", func(c *connectors.StackConfig) { c.RateLimit.RequestsPerSecond = -1 }},
		{"rate_limit.burst", func(c *connectors.StackConfig) { c.RateLimit.Burst = -1 }},
		{"breaker.failure_ratio", func(c *connectors.StackConfig) { c.Breaker.FailureRatio = 1.5 }},
		{"breaker.open_timeout", func(c *connectors.StackConfig) { c.Breaker.OpenTimeout = -time.Second }},
		{"retry.max", func(c *connectors.StackConfig) { c.Retry.Max = -2 }},
		{"retry.wait_max", func(c *connectors.StackConfig) { c.Retry.WaitMin, c.Retry.WaitMax = time.Second, time.Millisecond }},
	}
	for _, tt := range tests {
		c := connectors.StackConfig{}
		tt.mutate(&c)
		err := c.WithDefaults().Validate()
		var ce *connectors.ConfigError
		if !errors.As(err, &ce) {
			t.Errorf("%s: Validate() = %v, want a *ConfigError", tt.field, err)
			continue
		}
		if ce.Field != tt.field {
			t.Errorf("Validate() named %q (%v), want %q", ce.Field, err, tt.field)
		}
	}
	if _, err := connectors.NewStack("x", connectors.StackConfig{Timeout: -1}, connectors.Deps{}); err == nil {
		t.Error("NewStack accepted an invalid config")
	}
}

func TestDepsDefaults(t *testing.T) {
	t.Parallel()
	d := connectors.Deps{}.WithDefaults()
	if d.Metrics == nil || d.Logger == nil || d.Now == nil {
		t.Fatalf("WithDefaults left a nil field: %+v", d)
	}
	d.Logger.Info("goes nowhere")
	if time.Since(d.Now()) > time.Minute {
		t.Error("default clock is not time.Now")
	}
}

func TestBearerConfig(t *testing.T) {
	t.Parallel()
	ok := connectors.BearerConfig{BaseURL: "https://receiver.example/", Token: "k"}
	if c := ok.WithDefaults(); c.BaseURL != "https://receiver.example" || c.Stack.Auth.Kind != connectors.AuthBearer || c.Stack.Auth.Token != "k" {
		t.Errorf("WithDefaults = %+v", c)
	}
	if err := ok.WithDefaults().Validate(); err != nil {
		t.Errorf("valid config: %v", err)
	}
	for field, mutate := range map[string]func(c *connectors.BearerConfig){
		"base_url":                    func(c *connectors.BearerConfig) { c.BaseURL = "" },
		"token":                       func(c *connectors.BearerConfig) { c.Token = "" },
		"stack.auth":                  func(c *connectors.BearerConfig) { c.Stack.Auth.Kind = connectors.AuthNone },
		"stack.breaker.failure_ratio": func(c *connectors.BearerConfig) { c.Stack.Breaker.FailureRatio = 2 },
	} {
		c := ok
		mutate(&c)
		err := c.WithDefaults().Validate()
		if ce, isCE := errors.AsType[*connectors.ConfigError](err); !isCE || !strings.HasPrefix(ce.Field, field) {
			t.Errorf("%s: error = %v", field, err)
		}
	}
}

func TestValidateBaseURL(t *testing.T) {
	t.Parallel()
	for raw, valid := range map[string]bool{
		"https://safe.example":       true,
		"http://127.0.0.1:8080/base": true,
		"":                           false,
		"safe.example":               false,
		"/relative":                  false,
		"ftp://safe.example":         false,
		"https://safe.example/?a=b":  false,
		"https://safe example.fr":    false,
	} {
		err := connectors.ValidateBaseURL("base_url", raw)
		if ce, isCE := errors.AsType[*connectors.ConfigError](err); (err == nil) != valid || (err != nil && (!isCE || ce.Field != "base_url")) {
			t.Errorf("ValidateBaseURL(%q) = %v, want valid %v", raw, err, valid)
		}
	}
}
