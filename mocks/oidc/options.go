package oidc

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// The lifetimes of PLATFORMS.md §1.
const (
	codeLifetime        = 30 * time.Second
	accessTokenLifetime = 60 * time.Second
	idTokenLifetime     = 60 * time.Second
)

// The client authentication methods at /token.
const (
	AuthClientSecretPost = "client_secret_post"
	AuthPrivateKeyJWT    = "private_key_jwt"
)

// Options configures a Provider.
type Options struct {
	// Issuer is the issuer's absolute URL, path prefix included
	// ("https://oidc.example/api/v2", or ".../auth/realms/esante-wallet"
	// for Pro Santé Connect). Default: each request's own scheme and Host
	// plus the profile's issuer path, so that a provider built before it
	// listens (`relais mocks`) names itself wherever it is served.
	Issuer string
	// Clients are the relying parties the provider knows. At least one.
	Clients []Client
	// Users are the test users of the login page. Default:
	// DefaultUsers(profile.Name).
	Users []User
	// Keys are the signing keys. Default: generated, one per
	// profile.KeyAlgorithms.
	Keys *KeySet
	// SigningAlg is the algorithm that signs id_tokens and userinfo.
	// Default: the profile's first key algorithm (ES256 on FranceConnect,
	// FranceConnect+ and ProConnect, RS256 on Pro Santé Connect).
	SigningAlg jose.SignatureAlgorithm
	// RequirePKCE refuses authorization requests without an S256
	// code_challenge. Default false: PKCE is accepted, not required.
	RequirePKCE bool
	// Now is the clock of codes and access tokens. Default time.Now.
	Now func() time.Time
	// HTTPClient fetches the clients' JWKS (Client.JWKSURL). Default
	// http.DefaultClient with a 10 s timeout.
	HTTPClient *http.Client
	// CryptoKey encrypts the opaque access tokens. Default: random.
	CryptoKey [32]byte
	// Logger receives a warning for every discovery or JWKS answer that
	// breaks the provider's contract. Default: none.
	Logger *slog.Logger
}

// Client is a relying party registered at the provider.
type Client struct {
	// ID is the client_id.
	ID string
	// Secret is the client secret (client_secret_post).
	Secret string
	// RedirectURIs are the allowed redirect_uri values, matched exactly.
	RedirectURIs []string
	// PostLogoutRedirectURIs are the allowed post_logout_redirect_uri
	// values, matched exactly.
	PostLogoutRedirectURIs []string
	// AuthMethod is client_secret_post (default) or private_key_jwt.
	AuthMethod string
	// SigningKey is the client's public key that verifies its
	// private_key_jwt assertions. Required with private_key_jwt.
	SigningKey *jose.JSONWebKey
	// EncryptionKey is the client's public key FranceConnect+ encrypts
	// id_tokens and userinfo to (RSA: RSA-OAEP-256; EC: ECDH-ES). On
	// FranceConnect+, it or JWKSURL is required.
	EncryptionKey *jose.JSONWebKey
	// JWKSURL is where the client publishes its keys: the first "enc" key
	// (or key without use) is the encryption key, when EncryptionKey is
	// not set.
	JWKSURL string
}

// WithDefaults returns o with every zero field set to its default
// (Keys and CryptoKey excepted: New generates them).
func (o Options) WithDefaults(p Profile) Options {
	o.Issuer = strings.TrimSuffix(o.Issuer, "/")
	if o.Users == nil {
		o.Users = DefaultUsers(p.Name)
	}
	if o.SigningAlg == "" && len(p.KeyAlgorithms) > 0 {
		o.SigningAlg = p.KeyAlgorithms[0]
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	clients := make([]Client, len(o.Clients))
	for i, c := range o.Clients {
		if c.AuthMethod == "" {
			c.AuthMethod = AuthClientSecretPost
		}
		clients[i] = c
	}
	o.Clients = clients
	return o
}

// Validate names the first invalid field of o, for the provider p.
func (o Options) Validate(p Profile) error {
	if err := p.validate(); err != nil {
		return err
	}
	if o.Issuer != "" {
		u, err := url.Parse(o.Issuer)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return fmt.Errorf("oidc: Options.Issuer %q is not an absolute http(s) URL without query or fragment", o.Issuer)
		}
		if u.Path != p.IssuerPath {
			return fmt.Errorf("oidc: Options.Issuer's path %q is not %s's issuer path %q", u.Path, p.Name, p.IssuerPath)
		}
	}
	if len(o.Clients) == 0 {
		return fmt.Errorf("oidc: Options.Clients is empty")
	}
	if len(o.Users) == 0 {
		return fmt.Errorf("oidc: Options.Users is empty")
	}
	seen := make(map[string]bool)
	for i, c := range o.Clients {
		switch {
		case c.ID == "" || seen[c.ID]:
			return fmt.Errorf("oidc: Options.Clients[%d].ID %q is empty or repeated", i, c.ID)
		case len(c.RedirectURIs) == 0:
			return fmt.Errorf("oidc: Options.Clients[%d].RedirectURIs is empty", i)
		case c.AuthMethod == AuthClientSecretPost && c.Secret == "":
			return fmt.Errorf("oidc: Options.Clients[%d].Secret is empty", i)
		case c.AuthMethod == AuthPrivateKeyJWT && c.SigningKey == nil:
			return fmt.Errorf("oidc: Options.Clients[%d].SigningKey is required with private_key_jwt", i)
		case c.AuthMethod != AuthClientSecretPost && c.AuthMethod != AuthPrivateKeyJWT:
			return fmt.Errorf("oidc: Options.Clients[%d].AuthMethod %q is neither %s nor %s", i, c.AuthMethod, AuthClientSecretPost, AuthPrivateKeyJWT)
		case encrypts(p) && c.EncryptionKey == nil && c.JWKSURL == "":
			return fmt.Errorf("oidc: Options.Clients[%d]: %s encrypts tokens: EncryptionKey or JWKSURL is required", i, p.Name)
		}
		seen[c.ID] = true
	}
	users := make(map[string]bool)
	for i, u := range o.Users {
		if u.ID == "" || users[u.ID] {
			return fmt.Errorf("oidc: Options.Users[%d].ID %q is empty or repeated", i, u.ID)
		}
		if strings.Contains(u.Subject, ":") {
			// op's opaque access tokens are "tokenID:subject".
			return fmt.Errorf("oidc: Options.Users[%d].Subject %q contains a colon", i, u.Subject)
		}
		users[u.ID] = true
	}
	return nil
}

// encrypts tells whether the provider encrypts id_tokens and userinfo.
func encrypts(p Profile) bool { return len(p.IDTokenEncryptionAlgs) > 0 }
