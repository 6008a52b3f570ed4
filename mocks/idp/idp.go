package idp

import (
	"fmt"
	"log/slog"

	"github.com/go-jose/go-jose/v4"

	"github.com/relais-dev/relais/mocks/oidc"
)

// Profile is oidc.Profile.
//
// Deprecated: use oidc.Profile.
type Profile = oidc.Profile

// KeySet is oidc.KeySet.
//
// Deprecated: use oidc.KeySet.
type KeySet = oidc.KeySet

// SigningKey is oidc.SigningKey.
//
// Deprecated: use oidc.SigningKey.
type SigningKey = oidc.SigningKey

// Server is the full mock provider, oidc.Provider.
//
// Deprecated: use oidc.Provider.
type Server = oidc.Provider

// FranceConnect is oidc.FranceConnect.
//
// Deprecated: use oidc.FranceConnect.
func FranceConnect() Profile { return oidc.FranceConnect() }

// FranceConnectPlus is oidc.FranceConnectPlus.
//
// Deprecated: use oidc.FranceConnectPlus.
func FranceConnectPlus() Profile { return oidc.FranceConnectPlus() }

// ProConnect is oidc.ProConnect.
//
// Deprecated: use oidc.ProConnect.
func ProConnect() Profile { return oidc.ProConnect() }

// ProSanteConnect is oidc.ProSanteConnect.
//
// Deprecated: use oidc.ProSanteConnect.
func ProSanteConnect() Profile { return oidc.ProSanteConnect() }

// Profiles is oidc.Profiles.
//
// Deprecated: use oidc.Profiles.
func Profiles() []Profile { return oidc.Profiles() }

// GenerateKeySet is oidc.GenerateKeySet.
//
// Deprecated: use oidc.GenerateKeySet.
func GenerateKeySet(algs ...jose.SignatureAlgorithm) (*KeySet, error) {
	return oidc.GenerateKeySet(algs...)
}

// Options are the options of New. Every field has a default.
//
// Deprecated: use oidc.Options.
type Options struct {
	// Issuer is the fixed issuer. Default: each request's scheme and Host
	// plus the profile's issuer path.
	Issuer string
	// Keys are the signing keys. Default: generated.
	Keys *KeySet
	// Logger receives a warning for every answer that breaks the
	// contract. Default: none.
	Logger *slog.Logger
}

// New returns the full mock of p (oidc.New) with one placeholder client.
// It panics if p or o is inconsistent: a programming error.
//
// Deprecated: use oidc.New.
func New(p Profile, o Options) *Server {
	prov, err := oidc.New(p, oidc.Options{
		Issuer: o.Issuer, Keys: o.Keys, Logger: o.Logger,
		Clients: []oidc.Client{{
			ID: "idp-placeholder", Secret: "idp-placeholder-secret", RedirectURIs: []string{"http://127.0.0.1/callback"},
			JWKSURL: "http://127.0.0.1/.well-known/jwks.json",
		}},
	})
	if err != nil {
		panic(fmt.Sprintf("idp: %v", err))
	}
	return prov
}
