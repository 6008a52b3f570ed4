package francetravail

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/relais-dev/relais/connectors"
)

// Production endpoints: the partner APIs and the authentication host are two
// hosts.
const (
	ProductionBaseURL  = "https://api.francetravail.io/partenaire"
	ProductionTokenURL = "https://entreprise.francetravail.fr" + tokenPath
)

// tokenPath is the token endpoint of the /partenaire realm, below a host.
const tokenPath = "/connexion/oauth2/access_token?realm=%2Fpartenaire"

// Defaults.
const (
	// DefaultDeadline bounds one pull: the platform answers in seconds,
	// tens of seconds at times.
	DefaultDeadline = 45 * time.Second
	// DefaultRequestsPerSecond is the self-imposed limit: the platform's
	// limits are low and integrators keep to a few requests per second.
	DefaultRequestsPerSecond = 3
	// DefaultPaymentMonths is how far back payments are read: a year of
	// resources.
	DefaultPaymentMonths = 12
	DefaultAgentID       = "BATCH"
	DefaultAgentName     = "relais"
)

// DefaultScopes are the API scopes asked for, after application_<client id>.
var DefaultScopes = []string{"api_rechercher-usagerv2", "api_situation-usagerv1"}

// Config configures the France Travail source.
type Config struct {
	// BaseURL is the root of the partner APIs, e.g. ProductionBaseURL or
	// the mock's URL. Required. A trailing slash is ignored.
	BaseURL string `yaml:"base_url"`
	// TokenURL is the token endpoint of the /partenaire realm, with its
	// realm query parameter. Default: BaseURL followed by
	// /connexion/oauth2/access_token?realm=%2Fpartenaire, the mock's
	// layout; production sets ProductionTokenURL.
	TokenURL string `yaml:"token_url"`
	// ClientID is Relais's partner application id ("PAR_..."). Required.
	ClientID string `yaml:"client_id"`
	// ClientSecret is its secret. Required.
	ClientSecret connectors.Secret `yaml:"client_secret"`
	// Scopes are the API scopes asked for; application_<ClientID> is always
	// asked first. Default: DefaultScopes.
	Scopes []string `yaml:"scopes"`
	// AgentID, AgentLastName and AgentFirstName are sent as the
	// pa-identifiant-agent, pa-nom-agent and pa-prenom-agent headers of a
	// search. Default: "BATCH", "relais", "relais" (an automated process).
	AgentID        string `yaml:"agent_id"`
	AgentLastName  string `yaml:"agent_last_name"`
	AgentFirstName string `yaml:"agent_first_name"`
	// PaymentMonths is how many months of payments are read, the current
	// one and the ones before it. Default: 12.
	PaymentMonths int `yaml:"payment_months"`
	// Deadline bounds one pull, every call included; a shorter deadline of
	// the caller's context wins. Default: 45s. The stack's per-try timeout
	// defaults to it, so that no slow answer is cut before it.
	Deadline time.Duration `yaml:"deadline"`
	// Stack configures the transport stack. Its Auth is filled from the
	// fields above (client credentials, form-encoded, at TokenURL); only
	// Auth.RefreshBefore may be set. Default: Timeout is Deadline, and
	// RateLimit is DefaultRequestsPerSecond with a burst of 1.
	Stack connectors.StackConfig `yaml:"stack"`
}

// WithDefaults returns c with its zero fields set to their defaults and its
// stack's authentication derived from its credentials.
func (c Config) WithDefaults() Config {
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if c.TokenURL == "" && c.BaseURL != "" {
		c.TokenURL = c.BaseURL + tokenPath
	}
	if c.Scopes == nil {
		c.Scopes = slices.Clone(DefaultScopes)
	}
	if c.AgentID == "" {
		c.AgentID = DefaultAgentID
	}
	if c.AgentLastName == "" {
		c.AgentLastName = DefaultAgentName
	}
	if c.AgentFirstName == "" {
		c.AgentFirstName = DefaultAgentName
	}
	if c.PaymentMonths == 0 {
		c.PaymentMonths = DefaultPaymentMonths
	}
	if c.Deadline == 0 {
		c.Deadline = DefaultDeadline
	}
	if c.Stack.Timeout == 0 {
		c.Stack.Timeout = c.Deadline
	}
	if c.Stack.RateLimit.RequestsPerSecond == 0 {
		c.Stack.RateLimit.RequestsPerSecond = DefaultRequestsPerSecond
		if c.Stack.RateLimit.Burst == 0 {
			c.Stack.RateLimit.Burst = 1
		}
	}
	if c.Stack.Auth.Kind == "" {
		c.Stack.Auth.Kind = connectors.AuthOAuth2ClientCredentials
		c.Stack.Auth.TokenURL = c.TokenURL
		c.Stack.Auth.ClientID = c.ClientID
		c.Stack.Auth.ClientSecret = c.ClientSecret
		c.Stack.Auth.Scopes = c.scopes()
		c.Stack.Auth.ClientAuth = "body"
	}
	c.Stack = c.Stack.WithDefaults()
	return c
}

// scopes is the scope list asked for: the application, then the APIs.
func (c Config) scopes() []string {
	return append([]string{"application_" + c.ClientID}, c.Scopes...)
}

// Validate reports the first faulty field.
func (c Config) Validate() error {
	if c.BaseURL == "" {
		return &connectors.ConfigError{Field: "base_url", Problem: "is required"}
	}
	if err := connectors.ValidateBaseURL("base_url", c.BaseURL); err != nil {
		return err
	}
	u, err := url.Parse(c.TokenURL)
	if err != nil || !u.IsAbs() || (u.Scheme != "https" && u.Scheme != "http") {
		return &connectors.ConfigError{Field: "token_url", Problem: "must be an absolute http(s) URL"}
	}
	if u.Query().Get("realm") != "/partenaire" {
		return &connectors.ConfigError{Field: "token_url", Problem: "must ask for the realm /partenaire (?realm=%2Fpartenaire)"}
	}
	if c.ClientID == "" {
		return &connectors.ConfigError{Field: "client_id", Problem: "is required"}
	}
	if c.ClientSecret == "" {
		return &connectors.ConfigError{Field: "client_secret", Problem: "is required"}
	}
	for i, s := range c.Scopes {
		if s == "" || strings.ContainsAny(s, " \t\n") || strings.HasPrefix(s, "application_") {
			return &connectors.ConfigError{Field: "scopes[" + strconv.Itoa(i) + "]", Problem: "must be one API scope, without spaces; application_<client_id> is added"}
		}
	}
	for _, a := range []struct{ field, v string }{
		{"agent_id", c.AgentID}, {"agent_last_name", c.AgentLastName}, {"agent_first_name", c.AgentFirstName},
	} {
		if a.v == "" || len(a.v) > 64 || strings.ContainsAny(a.v, "\r\n") {
			return &connectors.ConfigError{Field: a.field, Problem: "must be 1 to 64 characters on one line"}
		}
	}
	if c.PaymentMonths < 1 || c.PaymentMonths > 120 {
		return &connectors.ConfigError{Field: "payment_months", Problem: "must be between 1 and 120"}
	}
	if c.Deadline <= 0 {
		return &connectors.ConfigError{Field: "deadline", Problem: "must be positive"}
	}
	a := c.Stack.Auth
	if a.Kind != connectors.AuthOAuth2ClientCredentials || a.TokenURL != c.TokenURL || a.ClientID != c.ClientID ||
		a.ClientSecret != c.ClientSecret || !slices.Equal(a.Scopes, c.scopes()) {
		return &connectors.ConfigError{Field: "stack.auth", Problem: "is derived from token_url, client_id, client_secret and scopes; set only refresh_before"}
	}
	if err := c.Stack.Validate(); err != nil {
		return connectors.PrefixConfigError("stack", err)
	}
	return nil
}
