package tddui

import (
	"net/url"
	"strings"

	"github.com/relais-dev/relais/connectors"
)

// Config configures one TDDUI receiver destination.
type Config struct {
	// BaseURL is the receiver's root URL; the FHIR base is BaseURL+"/fhir".
	// Required. A trailing slash is ignored.
	BaseURL string `yaml:"base_url"`
	// Token is the bearer token the receiver gave the establishment.
	// Required.
	Token connectors.Secret `yaml:"token"`
	// Stack configures the transport stack. Its Auth is derived from Token
	// (a static bearer token); leave it empty.
	Stack connectors.StackConfig `yaml:"stack"`
}

// WithDefaults returns c with its stack's authentication derived from
// Token and the stack's defaults.
func (c Config) WithDefaults() Config {
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if c.Stack.Auth.Kind == "" {
		c.Stack.Auth.Kind = connectors.AuthBearer
		c.Stack.Auth.Token = c.Token
	}
	c.Stack = c.Stack.WithDefaults()
	return c
}

// Validate reports the first faulty field.
func (c Config) Validate() error {
	if u, err := url.Parse(c.BaseURL); c.BaseURL == "" || err != nil || !u.IsAbs() || (u.Scheme != "https" && u.Scheme != "http") || u.RawQuery != "" {
		return &connectors.ConfigError{Field: "base_url", Problem: "must be an absolute http(s) URL without a query"}
	}
	if c.Token == "" {
		return &connectors.ConfigError{Field: "token", Problem: "is required"}
	}
	if a := c.Stack.Auth; a.Kind != connectors.AuthBearer || a.Token != c.Token {
		return &connectors.ConfigError{Field: "stack.auth", Problem: "is derived from token; leave it empty"}
	}
	if err := c.Stack.Validate(); err != nil {
		return connectors.PrefixConfigError("stack", err)
	}
	return nil
}
