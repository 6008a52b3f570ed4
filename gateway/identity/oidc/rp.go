package oidc

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/relais-dev/relais/mapping"
)

// Options are the collaborators of a RelyingParty.
type Options struct {
	// Pending keeps logins between Begin and Callback. Required.
	Pending PendingStore
	// HTTPClient talks to the OP (discovery, JWKS, token, userinfo).
	// Default: a client with a 10 s timeout.
	HTTPClient *http.Client
	// Now is the clock. Default: time.Now.
	Now func() time.Time
	// Keys decrypts FranceConnect+ tokens. Default: loaded from
	// Config.EncryptionKeyFile when Config.Encrypted.
	Keys *DecryptionKeys
}

// RelyingParty signs people in at one OpenID Provider: authorization code
// flow with state, nonce and PKCE S256, then the id_token and userinfo checks
// of the provider's profile.
type RelyingParty struct {
	cfg      Config
	oauth    oauth2.Config
	verifier *gooidc.IDTokenVerifier
	keySet   gooidc.KeySet
	meta     providerMetadata
	pending  PendingStore
	keys     *DecryptionKeys
	client   *http.Client
	now      func() time.Time
}

// providerMetadata holds the discovery fields go-oidc does not expose.
type providerMetadata struct {
	Issuer             string `json:"issuer"`
	JWKSURI            string `json:"jwks_uri"`
	UserinfoEndpoint   string `json:"userinfo_endpoint"`
	EndSessionEndpoint string `json:"end_session_endpoint"`
}

// SupportedAlgs are the only signature algorithms accepted on id_token and
// userinfo: never none, never HS256.
var supportedAlgs = []string{gooidc.ES256, gooidc.RS256}

// New validates cfg (after WithDefaults), runs discovery at cfg.IssuerURL and
// returns a relying party ready for Begin and Callback.
func New(ctx context.Context, cfg Config, opts Options) (*RelyingParty, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("validating provider %q: %w", cfg.Name, err)
	}
	if opts.Pending == nil {
		return nil, errors.New("validating options: Pending is required")
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if cfg.Encrypted && opts.Keys == nil {
		if cfg.EncryptionKeyFile == "" {
			return nil, fmt.Errorf("validating provider %q: encryption_key_file: required when encrypted and Options.Keys is nil", cfg.Name)
		}
		keys, err := LoadDecryptionKeys(cfg.EncryptionKeyFile)
		if err != nil {
			return nil, fmt.Errorf("loading keys of provider %q: %w", cfg.Name, err)
		}
		opts.Keys = keys
	}
	cctx := gooidc.ClientContext(ctx, opts.HTTPClient)
	provider, err := gooidc.NewProvider(cctx, cfg.IssuerURL)
	if err != nil {
		return nil, newError(CodeDiscovery, fmt.Errorf("discovering %s: %w", cfg.IssuerURL, err))
	}
	var meta providerMetadata
	if err := provider.Claims(&meta); err != nil {
		return nil, newError(CodeDiscovery, fmt.Errorf("reading metadata of %s: %w", cfg.IssuerURL, err))
	}
	if meta.JWKSURI == "" {
		return nil, errorf(CodeDiscovery, "reading metadata of %s: jwks_uri is missing", cfg.IssuerURL)
	}
	leeway := cfg.Leeway
	now := opts.Now
	keySet := gooidc.NewRemoteKeySet(cctx, meta.JWKSURI)
	verifier := gooidc.NewVerifier(meta.Issuer, keySet, &gooidc.Config{
		ClientID:             cfg.ClientID,
		SupportedSigningAlgs: supportedAlgs,
		// go-oidc compares exp with Now: moving Now back by the leeway
		// tolerates an OP clock that runs behind ours.
		Now: func() time.Time { return now().Add(-leeway) },
	})
	style := oauth2.AuthStyleInParams
	if cfg.ClientAuth == AuthClientSecretBasic {
		style = oauth2.AuthStyleInHeader
	}
	endpoint := provider.Endpoint()
	endpoint.AuthStyle = style
	return &RelyingParty{
		cfg: cfg,
		oauth: oauth2.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret.Reveal(),
			Endpoint:     endpoint,
			RedirectURL:  cfg.RedirectURL,
			Scopes:       cfg.Scopes,
		},
		verifier: verifier,
		keySet:   keySet,
		meta:     meta,
		pending:  opts.Pending,
		keys:     opts.Keys,
		client:   opts.HTTPClient,
		now:      now,
	}, nil
}

// Config returns the provider's configuration, defaults applied.
func (rp *RelyingParty) Config() Config { return rp.cfg }

// Login is a started login: send the browser to URL and set Cookie.
type Login struct {
	// URL is the OP's authorization URL with every parameter.
	URL string
	// State identifies the pending login.
	State string
	// Binding is the secret the browser keeps in a cookie; the callback
	// must present it.
	Binding string
}

// BeginOptions tune one login.
type BeginOptions struct {
	// MinACR is the acr the operation requires; the higher of it and
	// Config.MinACR applies and is sent as acr_values.
	MinACR string
	// ReturnTo is where to go after the login (a local path).
	ReturnTo string
}

// randomToken returns 256 random bits as 52 base32 characters (state and
// nonce must be at least 32 characters).
func randomToken() string { return rand.Text() + rand.Text() }

func hashBinding(b string) string {
	sum := sha256.Sum256([]byte(b))
	return hex.EncodeToString(sum[:])
}

// Begin starts a login: it stores a pending login (state, nonce, PKCE
// verifier, browser binding) and returns the authorization URL.
func (rp *RelyingParty) Begin(ctx context.Context, o BeginOptions) (*Login, error) {
	if o.MinACR != "" && acrRank(o.MinACR) == 0 {
		return nil, fmt.Errorf("beginning login: min acr %q is not one of eidas1, eidas2, eidas3", o.MinACR)
	}
	minACR := rp.cfg.MinACR
	if acrRank(o.MinACR) > acrRank(minACR) {
		minACR = o.MinACR
	}
	p := Pending{
		State:    randomToken(),
		Nonce:    randomToken(),
		Verifier: oauth2.GenerateVerifier(),
		Provider: rp.cfg.Name,
		MinACR:   minACR,
		ReturnTo: o.ReturnTo,
		Created:  rp.now(),
	}
	binding := randomToken()
	p.BindingHash = hashBinding(binding)
	if err := rp.pending.Put(ctx, p); err != nil {
		return nil, fmt.Errorf("storing pending login: %w", err)
	}
	params := []oauth2.AuthCodeOption{
		gooidc.Nonce(p.Nonce),
		oauth2.S256ChallengeOption(p.Verifier),
	}
	acrValues := rp.cfg.ACRValues
	if minACR != "" && acrRank(minACR) > acrRank(firstOr(acrValues)) {
		acrValues = []string{minACR}
	}
	if len(acrValues) > 0 {
		params = append(params, oauth2.SetAuthURLParam("acr_values", joinSpace(acrValues)))
	}
	return &Login{URL: rp.oauth.AuthCodeURL(p.State, params...), State: p.State, Binding: binding}, nil
}

func firstOr(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

func joinSpace(s []string) string { return strings.Join(s, " ") }

// CookieName is the name of the cookie binding a login to the browser.
func (rp *RelyingParty) CookieName() string { return "relais_oidc_" + rp.cfg.Name }

// Cookie returns the binding cookie for l: HttpOnly, SameSite=Lax (the
// callback is a cross-site top-level GET), scoped to the callback path,
// living as long as a pending login.
func (rp *RelyingParty) Cookie(l *Login) *http.Cookie {
	path := "/"
	if u, err := url.Parse(rp.cfg.RedirectURL); err == nil && u.Path != "" {
		path = u.Path
	}
	return &http.Cookie{
		Name:     rp.CookieName(),
		Value:    l.Binding,
		Path:     path,
		MaxAge:   int(DefaultPendingTTL / time.Second),
		HttpOnly: true,
		Secure:   rp.cfg.SecureCookie,
		SameSite: http.SameSiteLaxMode,
	}
}

// Identity is a person signed in and checked.
type Identity struct {
	// Provider is the Config.Name.
	Provider string
	// Profile is the provider's profile.
	Profile Profile
	// Subject is the (pairwise) sub.
	Subject string
	// ACR is the level the OP asserted.
	ACR string
	// AMR lists the authentication methods, when sent.
	AMR []string
	// AuthTime is when the person authenticated at the OP, when sent.
	AuthTime time.Time
	// SIRET is the establishment of a ProConnect professional (14 digits):
	// it binds the person to a tenant.
	SIRET string
	// Claims are the id_token claims overlaid with the userinfo claims.
	Claims map[string]any
	// IDToken is the id_token as received, for id_token_hint at logout.
	IDToken string
	// AccessToken is the OP's access token (FranceConnect: used only for the
	// API Particulier calls under the recorded consent, never stored).
	AccessToken string
	// AccessTokenExpiry is when AccessToken expires.
	AccessTokenExpiry time.Time
	// ReturnTo is the pending login's ReturnTo.
	ReturnTo string
}

// Callback finishes a login from the redirect's query and the browser's
// binding cookie value. The pending login is consumed whatever the outcome.
// Every failure is an *Error.
func (rp *RelyingParty) Callback(ctx context.Context, query url.Values, binding string) (*Identity, error) {
	state := query.Get("state")
	if state == "" {
		if e := query.Get("error"); e != "" {
			return nil, providerError(e, query.Get("error_description"))
		}
		return nil, errorf(CodeStateMissing, "reading callback: no state")
	}
	p, err := rp.pending.Take(ctx, state)
	switch {
	case errors.Is(err, ErrPendingExpired):
		return nil, newError(CodeLoginExpired, err)
	case err != nil:
		return nil, newError(CodeStateMismatch, fmt.Errorf("taking pending login: %w", err))
	}
	if p.Provider != rp.cfg.Name {
		return nil, errorf(CodeStateMismatch, "checking state: login was started for %q, not %q", p.Provider, rp.cfg.Name)
	}
	if subtle.ConstantTimeCompare([]byte(hashBinding(binding)), []byte(p.BindingHash)) != 1 {
		return nil, errorf(CodeStateMismatch, "checking state: the browser binding does not match")
	}
	if e := query.Get("error"); e != "" {
		return nil, providerError(e, query.Get("error_description"))
	}
	code := query.Get("code")
	if code == "" {
		return nil, errorf(CodeCodeMissing, "reading callback: no code")
	}
	cctx := context.WithValue(ctx, oauth2.HTTPClient, rp.client)
	tok, err := rp.oauth.Exchange(cctx, code, oauth2.VerifierOption(p.Verifier))
	if err != nil {
		return nil, newError(CodeTokenExchange, fmt.Errorf("exchanging code: %w", err))
	}
	rawID, _ := tok.Extra("id_token").(string)
	if rawID == "" {
		return nil, errorf(CodeIDTokenMissing, "exchanging code: no id_token in the token response")
	}
	id, claims, err := rp.verifyIDToken(ctx, rawID, p.Nonce, p.MinACR)
	if err != nil {
		return nil, err
	}
	info, err := rp.userinfo(ctx, tok, id.Subject)
	if err != nil {
		return nil, err
	}
	for k, v := range info {
		claims[k] = v
	}
	out := &Identity{
		Provider:          rp.cfg.Name,
		Profile:           rp.cfg.Profile,
		Subject:           id.Subject,
		ACR:               stringClaim(claims, "acr"),
		AMR:               stringsClaim(claims, "amr"),
		Claims:            claims,
		IDToken:           rawID,
		AccessToken:       tok.AccessToken,
		AccessTokenExpiry: tok.Expiry,
		ReturnTo:          p.ReturnTo,
	}
	if at, ok := claims["auth_time"].(float64); ok {
		out.AuthTime = time.Unix(int64(at), 0)
	}
	if rp.cfg.Profile == ProfileProConnect {
		siret := stringClaim(claims, "siret")
		if !mapping.ValidSIRET(siret) {
			return nil, errorf(CodeSIRETMissing, "reading claims: siret %q is not 14 digits with a valid check key", siret)
		}
		out.SIRET = siret
	}
	return out, nil
}

func stringClaim(c map[string]any, name string) string {
	s, _ := c[name].(string)
	return s
}

func stringsClaim(c map[string]any, name string) []string {
	raw, ok := c[name].([]any)
	if !ok {
		return nil
	}
	out := make([]string, 0, len(raw))
	for _, v := range raw {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// LogoutURL returns the OP's end_session URL with id_token_hint, state and
// the configured post_logout_redirect_uri.
func (rp *RelyingParty) LogoutURL(idTokenHint, state string) (string, error) {
	if rp.meta.EndSessionEndpoint == "" {
		return "", errorf(CodeLogoutUnsupported, "building logout URL: the provider has no end_session_endpoint")
	}
	u, err := url.Parse(rp.meta.EndSessionEndpoint)
	if err != nil {
		return "", newError(CodeLogoutUnsupported, fmt.Errorf("parsing end_session_endpoint: %w", err))
	}
	q := u.Query()
	q.Set("id_token_hint", idTokenHint)
	if state != "" {
		q.Set("state", state)
	}
	if rp.cfg.PostLogoutRedirectURL != "" {
		q.Set("post_logout_redirect_uri", rp.cfg.PostLogoutRedirectURL)
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// NewLogoutState returns a random state for LogoutURL.
func NewLogoutState() string { return randomToken() }
