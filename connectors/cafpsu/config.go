package cafpsu

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/mapping"
)

// Scope is the scope a declaration needs.
const Scope = "psu.declarations"

// Structure maps an establishment to its CAF partner number.
type Structure struct {
	// FINESS is the establishment's FINESS number. Required.
	FINESS string `yaml:"finess"`
	// PartnerNumber is its CAF partner number (8 digits). Required.
	PartnerNumber string `yaml:"partner_number"`
}

// Config configures one CAF declaration destination.
type Config struct {
	// BaseURL is the API's root URL. Required. A trailing slash is ignored.
	BaseURL string `yaml:"base_url"`
	// ClientID is Relais's OAuth2 client id. Required.
	ClientID string `yaml:"client_id"`
	// ClientSecret is its secret. Required.
	ClientSecret connectors.Secret `yaml:"client_secret"`
	// Structures are the crèches declared for. At least one.
	Structures []Structure `yaml:"structures"`
	// Stack configures the transport stack. Its Auth is derived from the
	// fields above (client credentials, form token request at
	// BaseURL+"/oauth/token", the client in the form); only
	// Auth.RefreshBefore may be set.
	Stack connectors.StackConfig `yaml:"stack"`
}

var rePartner = regexp.MustCompile(`^[0-9]{8}$`)

// WithDefaults returns c with its stack's authentication derived from its
// credentials and the stack's defaults.
func (c Config) WithDefaults() Config {
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if c.Stack.Auth.Kind == "" {
		c.Stack.Auth.Kind = connectors.AuthOAuth2ClientCredentials
		c.Stack.Auth.TokenURL = c.BaseURL + "/oauth/token"
		c.Stack.Auth.ClientID = c.ClientID
		c.Stack.Auth.ClientSecret = c.ClientSecret
		c.Stack.Auth.Scopes = []string{Scope}
		// The contract's token request carries the client in the form.
		c.Stack.Auth.ClientAuth = "body"
	}
	c.Stack = c.Stack.WithDefaults()
	return c
}

// Validate reports the first faulty field.
func (c Config) Validate() error {
	if err := connectors.ValidateBaseURL("base_url", c.BaseURL); err != nil {
		return err
	}
	if c.ClientID == "" {
		return &connectors.ConfigError{Field: "client_id", Problem: "is required"}
	}
	if c.ClientSecret == "" {
		return &connectors.ConfigError{Field: "client_secret", Problem: "is required"}
	}
	if len(c.Structures) == 0 {
		return &connectors.ConfigError{Field: "structures", Problem: "needs at least one structure"}
	}
	seen := map[string]bool{}
	for i, s := range c.Structures {
		switch {
		case !mapping.ValidFINESS(s.FINESS) || seen[s.FINESS]:
			return &connectors.ConfigError{Field: fmt.Sprintf("structures[%d].finess", i), Problem: "must be a valid FINESS number, once"}
		case !rePartner.MatchString(s.PartnerNumber):
			return &connectors.ConfigError{Field: fmt.Sprintf("structures[%d].partner_number", i), Problem: "must be 8 digits"}
		}
		seen[s.FINESS] = true
	}
	a := c.Stack.Auth
	if a.Kind != connectors.AuthOAuth2ClientCredentials || a.TokenURL != c.BaseURL+"/oauth/token" || a.ClientID != c.ClientID || a.ClientSecret != c.ClientSecret {
		return &connectors.ConfigError{Field: "stack.auth", Problem: "is derived from base_url, client_id and client_secret; set only refresh_before"}
	}
	if err := c.Stack.Validate(); err != nil {
		return connectors.PrefixConfigError("stack", err)
	}
	return nil
}
