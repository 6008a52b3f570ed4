package tddui

import "github.com/relais-dev/relais/connectors"

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
// Token and the stack's defaults (connectors.BearerConfig's).
func (c Config) WithDefaults() Config {
	return Config(connectors.BearerConfig(c).WithDefaults())
}

// Validate reports the first faulty field (connectors.BearerConfig's
// checks).
func (c Config) Validate() error { return connectors.BearerConfig(c).Validate() }
