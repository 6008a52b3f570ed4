package francetravail_test

import (
	"errors"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/go-json-experiment/json"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/connectors/francetravail"
	"github.com/relais-dev/relais/mapping/engine"
)

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	c := francetravail.Config{BaseURL: "https://api.example/partenaire/", ClientID: "PAR_x", ClientSecret: "s"}.WithDefaults()
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	a := c.Stack.Auth
	switch {
	case c.BaseURL != "https://api.example/partenaire":
		t.Errorf("base URL %q, want the trailing slash gone", c.BaseURL)
	case c.TokenURL != "https://api.example/partenaire/connexion/oauth2/access_token?realm=%2Fpartenaire":
		t.Errorf("token URL %q", c.TokenURL)
	case a.Kind != connectors.AuthOAuth2ClientCredentials || a.TokenURL != c.TokenURL || a.ClientID != "PAR_x" || a.ClientSecret != "s":
		t.Errorf("stack auth %+v, want client credentials derived from the config", a)
	case !slices.Equal(a.Scopes, []string{"application_PAR_x", "api_rechercher-usagerv2", "api_situation-usagerv1"}):
		t.Errorf("scopes %v, want application_PAR_x then the API scopes", a.Scopes)
	case c.Deadline != 45*time.Second || c.Stack.Timeout != 45*time.Second:
		t.Errorf("deadline %s, per-try timeout %s, want 45s both", c.Deadline, c.Stack.Timeout)
	case c.Stack.RateLimit.RequestsPerSecond != 3 || c.Stack.RateLimit.Burst != 1:
		t.Errorf("rate limit %+v, want 3/s, burst 1", c.Stack.RateLimit)
	case c.PaymentMonths != 12 || c.AgentID != "BATCH" || c.AgentLastName != "relais" || c.AgentFirstName != "relais":
		t.Errorf("payment months %d, agent %q %q %q", c.PaymentMonths, c.AgentID, c.AgentLastName, c.AgentFirstName)
	}
	// A per-try timeout set apart from the deadline stays.
	c = francetravail.Config{BaseURL: "https://x", ClientID: "c", ClientSecret: "s", Deadline: time.Minute, Stack: connectors.StackConfig{Timeout: 20 * time.Second}}.WithDefaults()
	if c.Stack.Timeout != 20*time.Second {
		t.Errorf("per-try timeout %s, want the one set", c.Stack.Timeout)
	}
	// Production's two hosts.
	c = francetravail.Config{BaseURL: francetravail.ProductionBaseURL, TokenURL: francetravail.ProductionTokenURL, ClientID: "c", ClientSecret: "s"}.WithDefaults()
	if err := c.Validate(); err != nil {
		t.Errorf("production endpoints: %v", err)
	}
}

func TestConfigValidateNamesTheField(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		field string
		tune  func(*francetravail.Config)
	}{
		{"base_url", func(c *francetravail.Config) { c.BaseURL = "" }},
		{"base_url", func(c *francetravail.Config) { c.BaseURL = "api.example" }},
		{"token_url", func(c *francetravail.Config) { c.TokenURL = "https://auth.example/token" }},
		{"token_url", func(c *francetravail.Config) { c.TokenURL = "https://auth.example/token?realm=%2Findividu" }},
		{"client_id", func(c *francetravail.Config) { c.ClientID = "" }},
		{"client_secret", func(c *francetravail.Config) { c.ClientSecret = "" }},
		{"scopes[1]", func(c *francetravail.Config) { c.Scopes = []string{"api_a", "api_b api_c"} }},
		{"scopes[0]", func(c *francetravail.Config) { c.Scopes = []string{"application_other"} }},
		{"agent_id", func(c *francetravail.Config) { c.AgentID = "BATCH\r\nX-Injected: 1" }},
		{"payment_months", func(c *francetravail.Config) { c.PaymentMonths = -1 }},
		{"deadline", func(c *francetravail.Config) { c.Deadline = -time.Second }},
		{"stack.auth", func(c *francetravail.Config) {
			c.Stack.Auth = connectors.AuthConfig{Kind: connectors.AuthBearer, Token: "t"}
		}},
		{"stack.rate_limit.burst", func(c *francetravail.Config) { c.Stack.RateLimit.Burst = -1 }},
	} {
		t.Run(tt.field, func(t *testing.T) {
			t.Parallel()
			c := francetravail.Config{BaseURL: "https://api.example", ClientID: "PAR_x", ClientSecret: "s"}
			tt.tune(&c)
			err := c.WithDefaults().Validate()
			ce, ok := errors.AsType[*connectors.ConfigError](err)
			if !ok || ce.Field != tt.field {
				t.Fatalf("Validate: %v, want an error naming %s", err, tt.field)
			}
			if _, err := francetravail.New("francetravail", c, connectors.Deps{}); err == nil {
				t.Error("New accepted the config")
			}
		})
	}
}

// New refuses a catalog that lacks the source's specs.
func TestNewNeedsTheSpecs(t *testing.T) {
	t.Parallel()
	empty, err := engine.LoadCatalog(fstest.MapFS{}, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = francetravail.New("francetravail", francetravail.Config{BaseURL: "https://x", ClientID: "c", ClientSecret: "s"}, connectors.Deps{}, francetravail.WithCatalog(empty))
	if err == nil || !strings.Contains(err.Error(), "france_travail_statut") {
		t.Fatalf("New: %v, want an error naming the missing spec", err)
	}
}

// TestPaymentsOutputSchema keeps the canonical output schema of the
// payments spec the same as API Particulier's France Travail payments
// schema, which mapping/specs keeps the same as the canonical payment: a
// schema file beside a spec cannot refer to another.
func TestPaymentsOutputSchema(t *testing.T) {
	t.Parallel()
	read := func(name string) map[string]any {
		raw, err := os.ReadFile(name) //nolint:gosec // the project's own schemas
		if err != nil {
			t.Fatal(err)
		}
		var v map[string]any
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return v
	}
	ours := read("../../mapping/specs/francetravail/paiements.output.schema.json")
	theirs := read("../../mapping/specs/apiparticulier/france_travail_indemnites.output.schema.json")
	for _, k := range []string{"type", "additionalProperties", "properties"} {
		if !reflect.DeepEqual(ours[k], theirs[k]) {
			t.Errorf("%s differs from API Particulier's France Travail payments schema", k)
		}
	}
}
