package gateway_test

import (
	"strings"
	"testing"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/connectors/apiparticulier"
	"github.com/relais-dev/relais/connectors/tddui"
	"github.com/relais-dev/relais/gateway"
)

// TestConfigOptionalParts checks that the optional connector and source
// parts get their defaults and that a fault in one is named under its
// place in the file.
func TestConfigOptionalParts(t *testing.T) {
	t.Parallel()
	base := func() gateway.Config {
		return gateway.Config{
			Store:      gateway.StoreConfig{Driver: "sqlite", DSN: "file::memory:"},
			Encryption: gateway.EncryptionConfig{Keys: "k1:AAAA"},
		}
	}
	valid := base()
	valid.Connectors.TDDUI = &tddui.Config{BaseURL: "https://tddui.example/", Token: "t"}
	if got := valid.WithDefaults(); got.Validate() != nil || got.Connectors.TDDUI.BaseURL != "https://tddui.example" ||
		got.Connectors.TDDUI.Stack.Auth.Kind != connectors.AuthBearer || got.Connectors.CAFPSU != nil {
		t.Fatalf("defaults of connectors.tddui: %+v, %v", got.Connectors, got.Validate())
	}
	for _, tc := range []struct {
		name  string
		set   func(*gateway.Config)
		field string
	}{
		{"destination", func(c *gateway.Config) { c.Connectors.TDDUI = &tddui.Config{BaseURL: "https://tddui.example"} }, "connectors.tddui.token"},
		{"source", func(c *gateway.Config) { c.Profiles.APIParticulier = &apiparticulier.Config{} }, "profiles.apiparticulier."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := base()
			tc.set(&c)
			err := c.WithDefaults().Validate()
			if err == nil || !strings.HasPrefix(err.Error(), tc.field) {
				t.Fatalf("Validate = %v, want an error naming %s", err, tc.field)
			}
		})
	}
}
