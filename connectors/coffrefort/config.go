package coffrefort

import (
	"strings"

	"github.com/relais-dev/relais/connectors"
)

// DefaultScope is every scope a deposit needs.
const DefaultScope = "beneficiaries_read beneficiaries_create documents_read documents_create documents_update"

// Config configures one digital safe destination.
type Config struct {
	// BaseURL is the safe's root URL, e.g. "https://safe.example"; the API
	// lives under /api. Required. A trailing slash is ignored.
	BaseURL string `yaml:"base_url"`
	// ClientID is Relais's OAuth2 client id at the safe. Required.
	ClientID string `yaml:"client_id"`
	// ClientSecret is its secret. Required.
	ClientSecret connectors.Secret `yaml:"client_secret"`
	// Scope is the space-separated list of scopes asked for. Default:
	// DefaultScope.
	Scope string `yaml:"scope"`
	// MaxDocumentSize is the largest document sent, in bytes; larger ones
	// fail permanently before any call. Default: 20 MiB.
	MaxDocumentSize int64 `yaml:"max_document_size"`
	// BeneficiaryCacheSize bounds the in-process cache from distant_id to
	// the safe's beneficiary id. Default: 10,000.
	BeneficiaryCacheSize int `yaml:"beneficiary_cache_size"`
	// Stack configures the transport stack. Its Auth is filled from the
	// fields above (client credentials, JSON token request at
	// BaseURL+"/api/token"); only Auth.RefreshBefore may be set.
	Stack connectors.StackConfig `yaml:"stack"`
}

// Defaults.
const (
	DefaultMaxDocumentSize      = 20 << 20
	DefaultBeneficiaryCacheSize = 10_000
)

// WithDefaults returns c with its zero fields set to their defaults and its
// stack's authentication derived from its credentials.
func (c Config) WithDefaults() Config {
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if c.Scope == "" {
		c.Scope = DefaultScope
	}
	if c.MaxDocumentSize == 0 {
		c.MaxDocumentSize = DefaultMaxDocumentSize
	}
	if c.BeneficiaryCacheSize == 0 {
		c.BeneficiaryCacheSize = DefaultBeneficiaryCacheSize
	}
	if c.Stack.Auth.Kind == "" {
		c.Stack.Auth.Kind = connectors.AuthOAuth2ClientCredentialsJSON
		c.Stack.Auth.TokenURL = c.BaseURL + "/api/token"
		c.Stack.Auth.ClientID = c.ClientID
		c.Stack.Auth.ClientSecret = c.ClientSecret
		c.Stack.Auth.Scopes = strings.Fields(c.Scope)
	}
	c.Stack = c.Stack.WithDefaults()
	return c
}

// Validate reports the first faulty field.
func (c Config) Validate() error {
	if c.BaseURL == "" {
		return &connectors.ConfigError{Field: "base_url", Problem: "is required"}
	}
	if err := connectors.ValidateBaseURL("base_url", c.BaseURL); err != nil {
		return err
	}
	if c.ClientID == "" {
		return &connectors.ConfigError{Field: "client_id", Problem: "is required"}
	}
	if c.ClientSecret == "" {
		return &connectors.ConfigError{Field: "client_secret", Problem: "is required"}
	}
	if c.MaxDocumentSize < 0 {
		return &connectors.ConfigError{Field: "max_document_size", Problem: "must be positive"}
	}
	if c.BeneficiaryCacheSize < 0 {
		return &connectors.ConfigError{Field: "beneficiary_cache_size", Problem: "must be positive"}
	}
	a := c.Stack.Auth
	if a.Kind != connectors.AuthOAuth2ClientCredentialsJSON || a.TokenURL != c.BaseURL+"/api/token" ||
		a.ClientID != c.ClientID || a.ClientSecret != c.ClientSecret || strings.Join(a.Scopes, " ") != strings.Join(strings.Fields(c.Scope), " ") {
		return &connectors.ConfigError{Field: "stack.auth", Problem: "is derived from base_url, client_id, client_secret and scope; set only refresh_before"}
	}
	if err := c.Stack.Validate(); err != nil {
		return connectors.PrefixConfigError("stack", err)
	}
	return nil
}
