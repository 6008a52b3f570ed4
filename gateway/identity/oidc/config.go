package oidc

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/relais-dev/relais/connectors"
)

// Profile names the kind of provider a Config talks to. It selects the
// profile's rules (encryption for FranceConnect+, the siret claim for
// ProConnect); endpoints always come from discovery.
type Profile string

// The supported profiles. ProfileGeneric is any conformant OpenID Provider.
const (
	ProfileFranceConnect     Profile = "franceconnect"
	ProfileFranceConnectPlus Profile = "franceconnectplus"
	ProfileProConnect        Profile = "proconnect"
	ProfileProSanteConnect   Profile = "prosanteconnect"
	ProfileGeneric           Profile = "generic"
)

// Client authentication methods at the token endpoint.
const (
	AuthClientSecretPost  = "client_secret_post"
	AuthClientSecretBasic = "client_secret_basic"
)

// DefaultLeeway is the clock-skew tolerance applied to exp and iat.
const DefaultLeeway = 30 * time.Second

// Config configures one provider. Every field says its default.
type Config struct {
	// Name identifies the provider in routes (/auth/{name}/login) and cookies.
	// Default: the profile's name.
	Name string `yaml:"name"`
	// Profile selects the provider's rules. Required.
	Profile Profile `yaml:"profile"`
	// IssuerURL is the OP's issuer; discovery reads
	// IssuerURL/.well-known/openid-configuration. Required.
	IssuerURL string `yaml:"issuer_url"`
	// ClientID is Relais' client id at the OP. Required.
	ClientID string `yaml:"client_id"`
	// ClientSecret is Relais' client secret at the OP. Required.
	ClientSecret connectors.Secret `yaml:"client_secret"`
	// ClientAuth is how Relais authenticates at the token endpoint:
	// client_secret_post or client_secret_basic. Default: client_secret_post.
	ClientAuth string `yaml:"client_auth"`
	// RedirectURL is the exact callback URL registered at the OP. Required.
	RedirectURL string `yaml:"redirect_url"`
	// PostLogoutRedirectURL is where the OP sends the browser after logout.
	// Default: none (logout URL omits the parameter).
	PostLogoutRedirectURL string `yaml:"post_logout_redirect_url"`
	// Scopes requested; "openid" is added when missing. Default: openid.
	Scopes []string `yaml:"scopes"`
	// ACRValues is sent as acr_values. Default: MinACR when set.
	ACRValues []string `yaml:"acr_values"`
	// MinACR is the lowest acceptable acr on the eidas1 < eidas2 < eidas3
	// scale; a login may demand more. Default: none for generic and
	// ProConnect, eidas1 for FranceConnect and Pro Santé Connect, eidas2 for
	// FranceConnect+.
	MinACR string `yaml:"min_acr"`
	// Encrypted requires the id_token and userinfo to be JWE encrypted to
	// Relais' key. Default: true for FranceConnect+, false otherwise.
	Encrypted bool `yaml:"encrypted"`
	// EncryptionKeyFile is a JWK Set (JSON) holding Relais' private
	// decryption keys. Required when Encrypted, unless the keys are given
	// in Options.Keys (New checks).
	EncryptionKeyFile string `yaml:"encryption_key_file"`
	// AllowPlainUserinfo accepts a userinfo answered as application/json
	// (plain OIDC). Default: false: userinfo must be a signed JWT.
	AllowPlainUserinfo bool `yaml:"allow_plain_userinfo"`
	// Leeway is the clock-skew tolerance on exp and iat. Default: 30s.
	Leeway time.Duration `yaml:"leeway"`
	// SecureCookie sets Secure on the binding cookie. Default: false here;
	// the server sets it outside the sandbox.
	SecureCookie bool `yaml:"secure_cookie"`
}

// WithDefaults returns c with every unset field at its default.
func (c Config) WithDefaults() Config {
	if c.Name == "" {
		c.Name = string(c.Profile)
	}
	if c.ClientAuth == "" {
		c.ClientAuth = AuthClientSecretPost
	}
	if !slices.Contains(c.Scopes, "openid") {
		c.Scopes = append([]string{"openid"}, c.Scopes...)
	}
	if c.MinACR == "" {
		switch c.Profile {
		case ProfileFranceConnect, ProfileProSanteConnect:
			c.MinACR = ACREidas1
		case ProfileFranceConnectPlus:
			c.MinACR = ACREidas2
		}
	}
	if len(c.ACRValues) == 0 && c.MinACR != "" {
		c.ACRValues = []string{c.MinACR}
	}
	if c.Profile == ProfileFranceConnectPlus {
		c.Encrypted = true
	}
	if c.Leeway == 0 {
		c.Leeway = DefaultLeeway
	}
	return c
}

// Validate reports the first faulty field by its name.
func (c Config) Validate() error {
	switch c.Profile {
	case ProfileFranceConnect, ProfileFranceConnectPlus, ProfileProConnect, ProfileProSanteConnect, ProfileGeneric:
	case "":
		return errors.New("profile: required")
	default:
		return fmt.Errorf("profile: unknown profile %q", c.Profile)
	}
	if c.Name == "" {
		return errors.New("name: required")
	}
	if err := absoluteURL(c.IssuerURL); err != nil {
		return fmt.Errorf("issuer_url: %w", err)
	}
	if c.ClientID == "" {
		return errors.New("client_id: required")
	}
	if c.ClientSecret == "" {
		return errors.New("client_secret: required")
	}
	if c.ClientAuth != AuthClientSecretPost && c.ClientAuth != AuthClientSecretBasic {
		return fmt.Errorf("client_auth: %q is neither %s nor %s", c.ClientAuth, AuthClientSecretPost, AuthClientSecretBasic)
	}
	if err := absoluteURL(c.RedirectURL); err != nil {
		return fmt.Errorf("redirect_url: %w", err)
	}
	if c.PostLogoutRedirectURL != "" {
		if err := absoluteURL(c.PostLogoutRedirectURL); err != nil {
			return fmt.Errorf("post_logout_redirect_url: %w", err)
		}
	}
	if c.MinACR != "" && acrRank(c.MinACR) == 0 {
		return fmt.Errorf("min_acr: %q is not one of eidas1, eidas2, eidas3", c.MinACR)
	}
	if c.Profile == ProfileFranceConnectPlus && !c.Encrypted {
		return errors.New("encrypted: FranceConnect+ requires encryption")
	}
	if c.Profile == ProfileFranceConnectPlus && acrRank(c.MinACR) < acrRank(ACREidas2) {
		return errors.New("min_acr: FranceConnect+ requires eidas2 or eidas3")
	}
	if c.Leeway < 0 || c.Leeway > 5*time.Minute {
		return fmt.Errorf("leeway: %s is outside 0..5m", c.Leeway)
	}
	return nil
}

func absoluteURL(raw string) error {
	if raw == "" {
		return errors.New("required")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("parsing: %w", err)
	}
	if u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http(s) URL", raw)
	}
	if u.Fragment != "" {
		return fmt.Errorf("%q has a fragment", raw)
	}
	return nil
}

// The eIDAS levels used as acr values, in increasing order.
const (
	ACREidas1 = "eidas1"
	ACREidas2 = "eidas2"
	ACREidas3 = "eidas3"
)

// acrRank places an acr on the eidas1 < eidas2 < eidas3 scale; 0 is below
// every level (unknown or missing acr).
func acrRank(acr string) int {
	switch acr {
	case ACREidas1:
		return 1
	case ACREidas2:
		return 2
	case ACREidas3:
		return 3
	}
	return 0
}

// ACRAtLeast reports whether got meets min on the eidas scale. An empty min
// accepts anything.
func ACRAtLeast(got, minimum string) bool {
	if minimum == "" {
		return true
	}
	return acrRank(got) >= acrRank(minimum) && acrRank(got) > 0
}
