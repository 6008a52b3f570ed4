package oidc_test

import (
	"fmt"

	"github.com/relais-dev/relais/gateway/identity/oidc"
)

// The configuration of FranceConnect+ after defaults: encryption and eidas2
// are required, the secret never prints.
func ExampleConfig_WithDefaults() {
	cfg := oidc.Config{
		Profile:           oidc.ProfileFranceConnectPlus,
		IssuerURL:         "https://auth.franceconnect.gouv.fr/api/v2",
		ClientID:          "relais",
		ClientSecret:      "do-not-print",
		RedirectURL:       "https://relais.example/auth/franceconnectplus/callback",
		EncryptionKeyFile: "/etc/relais/fcplus-keys.json",
	}.WithDefaults()
	fmt.Println(cfg.Name, cfg.Encrypted, cfg.MinACR, cfg.ACRValues, cfg.Leeway, cfg.ClientSecret)
	fmt.Println(cfg.Validate())
	fmt.Println(oidc.ProviderMessage("access_denied"))
	// Output:
	// franceconnectplus true eidas2 [eidas2] 30s ***
	// <nil>
	// Vous avez annulé la connexion.
}
