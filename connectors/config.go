package connectors

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// ConfigError names a configuration field that is missing or out of range.
type ConfigError struct {
	// Field is the field's path in the configuration, e.g.
	// "stack.breaker.failure_ratio".
	Field string
	// Problem says what is wrong, never quoting a secret.
	Problem string
}

// Error reads "field: problem".
func (e *ConfigError) Error() string { return e.Field + ": " + e.Problem }

func configErrorf(field, format string, args ...any) error {
	return &ConfigError{Field: field, Problem: fmt.Sprintf(format, args...)}
}

// PrefixConfigError puts prefix before the field named by a *ConfigError, so
// a nested Validate can report the full path. Other errors pass unchanged.
func PrefixConfigError(prefix string, err error) error {
	var ce *ConfigError
	if !errors.As(err, &ce) {
		return err
	}
	return &ConfigError{Field: prefix + "." + ce.Field, Problem: ce.Problem}
}

// Deps are the collaborators a stack or connector is given rather than
// finding them in globals. Every field may be left nil.
type Deps struct {
	// Metrics receives the stack's metrics. Default: a Metrics on a fresh,
	// private registry (never the default one).
	Metrics *Metrics
	// Logger receives debug lines and breaker transitions. Default: a logger
	// that discards everything.
	Logger *slog.Logger
	// Reserver, when set, makes rate limits hold across processes: see
	// Reserver. Default: nil, each process keeps its own token bucket.
	Reserver Reserver
	// Now is the clock. Default: time.Now. The circuit breaker, the rate
	// limiter and the OAuth2 token cache keep wall-clock time themselves, as
	// their libraries do; everything else reads Now.
	Now func() time.Time
}

// WithDefaults returns d with its nil fields set to their defaults.
func (d Deps) WithDefaults() Deps {
	if d.Metrics == nil {
		d.Metrics = NewMetrics(prometheus.NewRegistry())
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return d
}

// ValidateBaseURL reports, as a *ConfigError naming field, a base URL that
// is not an absolute http(s) URL without a query (an empty one included).
func ValidateBaseURL(field, raw string) error {
	if u, err := url.Parse(raw); raw == "" || err != nil || !u.IsAbs() || (u.Scheme != "https" && u.Scheme != "http") || u.RawQuery != "" {
		return &ConfigError{Field: field, Problem: "must be an absolute http(s) URL without a query"}
	}
	return nil
}

// BearerConfig is the configuration of a destination reached at one base
// URL with a static bearer token. A connector package whose Config has
// exactly these fields (its own documentation and tags) converts to it for
// WithDefaults and Validate:
//
//	func (c Config) Validate() error { return connectors.BearerConfig(c).Validate() }
type BearerConfig struct {
	// BaseURL is the destination's root URL. Required. A trailing slash is
	// ignored.
	BaseURL string `yaml:"base_url"`
	// Token is the bearer token. Required.
	Token Secret `yaml:"token"`
	// Stack configures the transport stack. Its Auth is derived from
	// Token; leave it empty.
	Stack StackConfig `yaml:"stack"`
}

// WithDefaults returns c with its stack's authentication derived from
// Token and the stack's defaults.
func (c BearerConfig) WithDefaults() BearerConfig {
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if c.Stack.Auth.Kind == "" {
		c.Stack.Auth.Kind = AuthBearer
		c.Stack.Auth.Token = c.Token
	}
	c.Stack = c.Stack.WithDefaults()
	return c
}

// Validate reports the first faulty field.
func (c BearerConfig) Validate() error {
	if err := ValidateBaseURL("base_url", c.BaseURL); err != nil {
		return err
	}
	if c.Token == "" {
		return &ConfigError{Field: "token", Problem: "is required"}
	}
	if a := c.Stack.Auth; a.Kind != AuthBearer || a.Token != c.Token {
		return &ConfigError{Field: "stack.auth", Problem: "is derived from token; leave it empty"}
	}
	if err := c.Stack.Validate(); err != nil {
		return PrefixConfigError("stack", err)
	}
	return nil
}
