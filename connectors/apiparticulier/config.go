package apiparticulier

import (
	"fmt"
	"math"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/relais-dev/relais/connectors"
)

// Defaults.
const (
	// PlatformRequestsPerSecond is the platform's limit per token.
	PlatformRequestsPerSecond = 20
	// DefaultRequestsPerSecond is the rate the connector keeps to per token,
	// a little under the platform's: the platform counts in fixed one-second
	// windows opened by a token's first request, and the time a request
	// takes to reach it varies, so a request sent on time may land in the
	// next window. With a burst of 1, a window holds at most 18 requests
	// sent on time, and room for late ones.
	DefaultRequestsPerSecond = 18
	// DefaultCacheTTL is how long the platform keeps an answer in its cache.
	DefaultCacheTTL = 24 * time.Hour
)

// Config configures one API Particulier source: one tenant's token.
type Config struct {
	// BaseURL is the platform's root URL: "https://particulier.api.gouv.fr"
	// in production, "https://staging.particulier.api.gouv.fr" for the
	// sandbox. Required. A trailing slash is ignored.
	BaseURL string `yaml:"base_url"`
	// Token is the tenant's platform token (the JWT the platform issues
	// for 18 months after the habilitation), sent as a bearer on every
	// route but the /france_connect ones. Required.
	Token connectors.Secret `yaml:"token"`
	// Operations lists the operations the token's habilitation covers, by
	// name (OpQuotientFamilial, ...): only these are offered and run.
	// Default: every operation.
	Operations []string `yaml:"operations"`
	// CacheTTL is how long the platform caches an answer, to tell from
	// X-Cache-Expires-in when a cached answer was fetched. The platform's
	// documentation says 24 hours (its OpenAPI document, one hour).
	// Default: DefaultCacheTTL.
	CacheTTL time.Duration `yaml:"cache_ttl"`
	// Stack configures the transport stack. Its Auth is derived from Token
	// (a static bearer); only the other fields may be set. Its rate limit
	// defaults to DefaultRequestsPerSecond with a burst of 1 and may not
	// exceed PlatformRequestsPerSecond. The /france_connect routes, whose
	// bearer is each citizen's access token, go through a second stack with
	// the same settings and no credentials of its own.
	Stack connectors.StackConfig `yaml:"stack"`
}

// WithDefaults returns c with its zero fields set to their defaults and its
// stack's authentication derived from Token.
func (c Config) WithDefaults() Config {
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if c.Operations == nil {
		for _, op := range operations() {
			c.Operations = append(c.Operations, op.Name)
		}
	}
	if c.CacheTTL == 0 {
		c.CacheTTL = DefaultCacheTTL
	}
	if c.Stack.Auth.Kind == "" {
		c.Stack.Auth.Kind = connectors.AuthBearer
		c.Stack.Auth.Token = c.Token
	}
	if c.Stack.RateLimit.RequestsPerSecond == 0 {
		c.Stack.RateLimit.RequestsPerSecond = DefaultRequestsPerSecond
	}
	if c.Stack.RateLimit.Burst == 0 {
		c.Stack.RateLimit.Burst = 1
	}
	c.Stack = c.Stack.WithDefaults()
	return c
}

// Validate reports the first faulty field.
func (c Config) Validate() error {
	if c.BaseURL == "" {
		return &connectors.ConfigError{Field: "base_url", Problem: "is required"}
	}
	if u, err := url.Parse(c.BaseURL); err != nil || !u.IsAbs() || (u.Scheme != "https" && u.Scheme != "http") || u.RawQuery != "" || u.Fragment != "" {
		return &connectors.ConfigError{Field: "base_url", Problem: "must be an absolute http(s) URL without a query"}
	}
	if c.Token == "" {
		return &connectors.ConfigError{Field: "token", Problem: "is required"}
	}
	if len(c.Operations) == 0 {
		return &connectors.ConfigError{Field: "operations", Problem: "must list at least one operation"}
	}
	known := operations()
	for i, name := range c.Operations {
		if !slices.ContainsFunc(known, func(op operation) bool { return op.Name == name }) {
			return &connectors.ConfigError{Field: fmt.Sprintf("operations[%d]", i), Problem: fmt.Sprintf("unknown operation %q", name)}
		}
		if slices.Index(c.Operations, name) != i {
			return &connectors.ConfigError{Field: fmt.Sprintf("operations[%d]", i), Problem: fmt.Sprintf("operation %q is listed twice", name)}
		}
	}
	if c.CacheTTL < 0 {
		return &connectors.ConfigError{Field: "cache_ttl", Problem: "must not be negative"}
	}
	if a := c.Stack.Auth; a.Kind != connectors.AuthBearer || a.Token != c.Token {
		return &connectors.ConfigError{Field: "stack.auth", Problem: "is derived from token; set only refresh_before"}
	}
	// A token bucket lets through its burst, then one request per
	// 1/rate: a one-second window may see burst + ceil(rate) - 1.
	rl := c.Stack.RateLimit
	if rl.RequestsPerSecond > PlatformRequestsPerSecond {
		return &connectors.ConfigError{Field: "stack.rate_limit.requests_per_second", Problem: fmt.Sprintf("must be at most %d, the platform's limit per token", PlatformRequestsPerSecond)}
	}
	if float64(rl.Burst)+math.Ceil(rl.RequestsPerSecond)-1 > PlatformRequestsPerSecond {
		return &connectors.ConfigError{Field: "stack.rate_limit.burst", Problem: fmt.Sprintf("with requests_per_second, must not let more than %d requests into one second, the platform's limit per token", PlatformRequestsPerSecond)}
	}
	if err := c.Stack.Validate(); err != nil {
		return connectors.PrefixConfigError("stack", err)
	}
	return nil
}
