package indicateurs

import "github.com/relais-dev/relais/connectors"

// Config configures one indicator report destination.
type Config struct {
	// BaseURL is the endpoint's root URL. Required. A trailing slash is
	// ignored.
	BaseURL string `yaml:"base_url"`
	// Token is the API key the endpoint gave Relais, sent as a bearer
	// token. Required.
	Token connectors.Secret `yaml:"token"`
	// Stack configures the transport stack. Its Auth is derived from Token;
	// leave it empty.
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
