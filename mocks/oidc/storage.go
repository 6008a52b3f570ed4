package oidc

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// Compile-time checks.
var (
	_ op.Storage                   = (*storage)(nil)
	_ op.CanSetUserinfoFromRequest = (*storage)(nil)
	_ op.AuthRequest               = (*authRequest)(nil)
	_ op.Client                    = (*client)(nil)
	_ op.Key                       = publicKey{}
)

// errNotFound is what the storage answers for an unknown or expired
// request, code or token.
var errNotFound = errors.New("not found")

// storage is the in-memory op.Storage of one Provider.
type storage struct {
	profile Profile
	kind    Kind
	now     func() time.Time
	pkce    bool
	keys    *KeySet
	signing *SigningKey
	clients map[string]*client
	users   map[string]User

	mu       sync.Mutex
	requests map[string]*authRequest // by id
	codes    map[string]string       // code -> request id
	tokens   map[string]*accessToken // by id
}

// authRequest is an authorization request, from authorize to the code
// exchange.
type authRequest struct {
	id           string
	clientID     string
	redirectURI  string
	state, nonce string
	scopes       []string
	acr          string
	amr          []string
	challenge    *oidc.CodeChallenge
	responseType oidc.ResponseType
	responseMode oidc.ResponseMode
	userID       string
	subject      string
	authTime     time.Time
	done         bool
	codeIssuedAt time.Time
	created      time.Time
}

func (a *authRequest) GetID() string                         { return a.id }
func (a *authRequest) GetACR() string                        { return a.acr }
func (a *authRequest) GetAMR() []string                      { return a.amr }
func (a *authRequest) GetAudience() []string                 { return []string{a.clientID} }
func (a *authRequest) GetAuthTime() time.Time                { return a.authTime }
func (a *authRequest) GetClientID() string                   { return a.clientID }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge { return a.challenge }
func (a *authRequest) GetNonce() string                      { return a.nonce }
func (a *authRequest) GetRedirectURI() string                { return a.redirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType    { return a.responseType }
func (a *authRequest) GetResponseMode() oidc.ResponseMode    { return a.responseMode }
func (a *authRequest) GetScopes() []string                   { return a.scopes }
func (a *authRequest) GetState() string                      { return a.state }
func (a *authRequest) GetSubject() string                    { return a.subject }
func (a *authRequest) Done() bool                            { return a.done }

// accessToken is an issued access token.
type accessToken struct {
	id       string
	clientID string
	subject  string
	scopes   []string
	expires  time.Time
}

// client is a Client as op sees it.
type client struct {
	Client
	loginURL func(id string) string
	scopes   []string
}

func (c *client) GetID() string                       { return c.ID }
func (c *client) RedirectURIs() []string              { return c.Client.RedirectURIs }
func (c *client) PostLogoutRedirectURIs() []string    { return c.Client.PostLogoutRedirectURIs }
func (c *client) ApplicationType() op.ApplicationType { return op.ApplicationTypeWeb }
func (c *client) AuthMethod() oidc.AuthMethod {
	if c.Client.AuthMethod == AuthPrivateKeyJWT {
		return oidc.AuthMethodPrivateKeyJWT
	}
	return oidc.AuthMethodPost
}
func (c *client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c *client) GrantTypes() []oidc.GrantType        { return []oidc.GrantType{oidc.GrantTypeCode} }
func (c *client) LoginURL(id string) string           { return c.loginURL(id) }
func (c *client) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeBearer }
func (c *client) IDTokenLifetime() time.Duration      { return idTokenLifetime }

// DevMode lets http redirect URIs through (the mock serves local relying
// parties); redirect URIs are still matched exactly.
func (c *client) DevMode() bool { return true }

// RestrictAdditionalIdTokenScopes keeps the identity out of the id_token:
// as on FranceConnect, the claims come from userinfo.
func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(scopes []string) []string {
		if slices.Contains(scopes, oidc.ScopeOpenID) {
			return []string{oidc.ScopeOpenID}
		}
		return nil
	}
}

func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(scopes []string) []string { return scopes }
}
func (c *client) IsScopeAllowed(scope string) bool     { return slices.Contains(c.scopes, scope) }
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return false }
func (c *client) ClockSkew() time.Duration             { return 0 }

// publicKey is a signing key's public part, as op publishes it.
type publicKey struct{ k *SigningKey }

func (p publicKey) ID() string                         { return p.k.ID() }
func (p publicKey) Algorithm() jose.SignatureAlgorithm { return p.k.SignatureAlgorithm() }
func (p publicKey) Use() string                        { return "sig" }
func (p publicKey) Key() any                           { return p.k.Public().Key }

// nonceMin is the shortest nonce (and, on ProConnect, state) a provider
// accepts.
func nonceMin(profile string) int {
	switch profile {
	case "proconnect":
		return 32
	case "franceconnect", "franceconnectplus":
		return 22
	default:
		return 1
	}
}

// CreateAuthRequest checks what the platforms require beyond OpenID
// Connect and stores the request. Its errors go back to the client on the
// redirect.
func (s *storage) CreateAuthRequest(_ context.Context, req *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	least := nonceMin(s.profile.Name)
	switch {
	case req.State == "":
		return nil, oidc.ErrInvalidRequest().WithDescription("state is required")
	case s.profile.Name == "proconnect" && len(req.State) < least:
		return nil, oidc.ErrInvalidRequest().WithDescription("state must be at least %d characters", least)
	case len(req.Nonce) < least:
		return nil, oidc.ErrInvalidRequest().WithDescription("nonce is required, at least %d characters", least)
	}
	acr, err := chooseACR(s.profile, req.ACRValues)
	if err != nil {
		return nil, err
	}
	var challenge *oidc.CodeChallenge
	switch {
	case req.CodeChallenge != "":
		method := req.CodeChallengeMethod
		if method == "" {
			method = oidc.CodeChallengeMethodPlain
		}
		if method != oidc.CodeChallengeMethodS256 && !slices.Contains(s.profile.CodeChallengeMethods, method) {
			return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge_method must be S256")
		}
		challenge = &oidc.CodeChallenge{Challenge: req.CodeChallenge, Method: method}
	case s.pkce:
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge (S256) is required")
	}
	a := &authRequest{
		id: randomID(), clientID: req.ClientID, redirectURI: req.RedirectURI,
		state: req.State, nonce: req.Nonce, scopes: slices.Clone(req.Scopes), acr: acr,
		challenge: challenge, responseType: req.ResponseType, responseMode: req.ResponseMode,
		created: s.now(),
	}
	if s.profile.Name == "proconnect" {
		a.amr = []string{"pwd"}
		if len(acr) > 4 && acr[len(acr)-4:] == "-2fa" {
			a.amr = []string{"pwd", "totp", "mfa"}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prune()
	s.requests[a.id] = a
	return a, nil
}

// requestLifetime bounds an unfinished sign-in (FranceConnect's session
// lasts 30 minutes).
const requestLifetime = 30 * time.Minute

// pruneAbove is the number of stored requests above which creating one
// first drops the stale requests and the expired tokens.
const pruneAbove = 256

// prune drops stale requests and expired tokens once there are many, so a
// long-running mock does not grow without bound. s.mu is held.
func (s *storage) prune() {
	if len(s.requests) < pruneAbove {
		return
	}
	now := s.now()
	for id, a := range s.requests {
		if now.Sub(a.created) > requestLifetime {
			delete(s.requests, id)
		}
	}
	for code, id := range s.codes {
		if _, ok := s.requests[id]; !ok {
			delete(s.codes, code)
		}
	}
	for id, t := range s.tokens {
		if !now.Before(t.expires) {
			delete(s.tokens, id)
		}
	}
}

// chooseACR picks the first requested acr the provider supports. acr_values
// is required on FranceConnect and FranceConnect+; elsewhere the
// provider's first level is the default.
func chooseACR(p Profile, requested []string) (string, error) {
	if len(requested) == 0 {
		if p.Name == "franceconnect" || p.Name == "franceconnectplus" {
			return "", oidc.ErrInvalidRequest().WithDescription("acr_values is required")
		}
		if len(p.ACRValues) == 0 {
			return "", nil
		}
		return p.ACRValues[0], nil
	}
	for _, v := range requested {
		if slices.Contains(p.ACRValues, v) {
			return v, nil
		}
	}
	return "", oidc.ErrInvalidRequest().WithDescription("acr_values: none of the requested levels is supported")
}

func (s *storage) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.requests[id]
	if !ok {
		return nil, fmt.Errorf("finding auth request %q: %w", id, errNotFound)
	}
	return a, nil
}

// AuthRequestByCode consumes the code: a code is good for one
// presentation at /token, within its lifetime. op looks the code up before
// it authenticates the client, so a refused exchange burns the code too
// (RFC 6749 §4.1.2 forbids a second use; it does not say "second
// successful use").
func (s *storage) AuthRequestByCode(_ context.Context, code string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.codes[code]
	if !ok {
		return nil, oidc.ErrInvalidGrant().WithDescription("unknown, used or expired code")
	}
	delete(s.codes, code)
	a, ok := s.requests[id]
	if !ok || s.now().Sub(a.codeIssuedAt) > codeLifetime {
		delete(s.requests, id)
		return nil, oidc.ErrInvalidGrant().WithDescription("unknown, used or expired code")
	}
	return a, nil
}

func (s *storage) SaveAuthCode(_ context.Context, id, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.requests[id]
	if !ok {
		return fmt.Errorf("saving a code for auth request %q: %w", id, errNotFound)
	}
	a.codeIssuedAt = s.now()
	s.codes[code] = id
	return nil
}

func (s *storage) DeleteAuthRequest(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.requests, id)
	for code, rid := range s.codes {
		if rid == id {
			delete(s.codes, code)
		}
	}
	return nil
}

// login ties the request to the user who signed in.
func (s *storage) login(id, userID string) error {
	u, ok := s.users[userID]
	if !ok {
		return fmt.Errorf("logging in %q: %w", userID, errNotFound)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.requests[id]
	if !ok || a.done {
		return fmt.Errorf("logging in for auth request %q: %w", id, errNotFound)
	}
	a.userID = u.ID
	a.subject = s.subject(a.clientID, u)
	a.authTime = s.now()
	return nil
}

// consent marks the request as done: op then issues the code.
func (s *storage) consent(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.requests[id]
	if !ok || a.userID == "" {
		return fmt.Errorf("consenting to auth request %q: %w", id, errNotFound)
	}
	a.done = true
	return nil
}

// request returns a copy of a pending request.
func (s *storage) request(id string) (authRequest, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.requests[id]
	if !ok {
		return authRequest{}, false
	}
	return *a, true
}

// subject is u's sub for the client: pairwise (HMAC-SHA256 keyed by the
// client id) where the provider's subjects are pairwise, else u's public
// Subject.
func (s *storage) subject(clientID string, u User) string {
	if slices.Contains(s.profile.SubjectTypes, "public") && u.Subject != "" {
		return u.Subject
	}
	return pairwiseSubject(clientID, u.ID)
}

func pairwiseSubject(clientID, userID string) string {
	m := hmac.New(sha256.New, []byte(clientID))
	m.Write([]byte(userID))
	return hex.EncodeToString(m.Sum(nil)) + "v1"
}

// userBySubject finds the user whose sub for clientID is sub.
func (s *storage) userBySubject(clientID, sub string) (User, bool) {
	for _, u := range s.users {
		if s.subject(clientID, u) == sub {
			return u, true
		}
	}
	return User{}, false
}

func (s *storage) CreateAccessToken(_ context.Context, req op.TokenRequest) (string, time.Time, error) {
	clientID := ""
	if a, ok := req.(*authRequest); ok {
		clientID = a.clientID
	}
	t := &accessToken{
		id: randomID(), clientID: clientID, subject: req.GetSubject(),
		scopes: slices.Clone(req.GetScopes()), expires: s.now().Add(accessTokenLifetime),
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[t.id] = t
	return t.id, t.expires, nil
}

func (s *storage) CreateAccessAndRefreshTokens(context.Context, op.TokenRequest, string) (string, string, time.Time, error) {
	return "", "", time.Time{}, oidc.ErrUnsupportedGrantType().WithDescription("no refresh tokens")
}

func (s *storage) TokenRequestByRefreshToken(context.Context, string) (op.RefreshTokenRequest, error) {
	return nil, op.ErrInvalidRefreshToken
}

func (s *storage) TerminateSession(_ context.Context, subject, clientID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, t := range s.tokens {
		if t.subject == subject && t.clientID == clientID {
			delete(s.tokens, id)
		}
	}
	return nil
}

func (s *storage) RevokeToken(_ context.Context, token, _, _ string) *oidc.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.tokens, token)
	return nil
}

func (s *storage) GetRefreshTokenInfo(context.Context, string, string) (string, string, error) {
	return "", "", op.ErrInvalidRefreshToken
}

func (s *storage) SigningKey(context.Context) (op.SigningKey, error) { return s.signing, nil }

func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{s.signing.SignatureAlgorithm()}, nil
}

func (s *storage) KeySet(context.Context) ([]op.Key, error) {
	keys := s.keys.Keys()
	out := make([]op.Key, len(keys))
	for i, k := range keys {
		out[i] = publicKey{k}
	}
	return out, nil
}

func (s *storage) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	c, ok := s.clients[id]
	if !ok {
		return nil, fmt.Errorf("finding client %q: %w", id, errNotFound)
	}
	return c, nil
}

func (s *storage) AuthorizeClientIDSecret(_ context.Context, id, secret string) error {
	c, ok := s.clients[id]
	if !ok || c.Client.AuthMethod != AuthClientSecretPost || !hmac.Equal([]byte(c.Secret), []byte(secret)) {
		return oidc.ErrInvalidClient().WithDescription("invalid client credentials")
	}
	return nil
}

// SetUserinfoFromScopes fills the claims of the id_token (op passes the
// scopes RestrictAdditionalIdTokenScopes kept: openid).
func (s *storage) SetUserinfoFromScopes(_ context.Context, ui *oidc.UserInfo, subject, clientID string, scopes []string) error {
	return s.fill(ui, subject, clientID, scopes)
}

// SetUserinfoFromRequest adds ProConnect's session id to its id_token.
func (s *storage) SetUserinfoFromRequest(_ context.Context, ui *oidc.UserInfo, req op.IDTokenRequest, _ []string) error {
	if a, ok := req.(*authRequest); ok && s.profile.Name == "proconnect" {
		ui.AppendClaims("sid", a.id)
	}
	return nil
}

// SetUserinfoFromToken fills userinfo from a live access token.
func (s *storage) SetUserinfoFromToken(_ context.Context, ui *oidc.UserInfo, tokenID, subject, _ string) error {
	s.mu.Lock()
	t, ok := s.tokens[tokenID]
	s.mu.Unlock()
	if !ok || t.subject != subject || !s.now().Before(t.expires) {
		return fmt.Errorf("finding access token: %w", errNotFound)
	}
	return s.fill(ui, subject, t.clientID, t.scopes)
}

func (s *storage) fill(ui *oidc.UserInfo, subject, clientID string, scopes []string) error {
	u, ok := s.userBySubject(clientID, subject)
	if !ok {
		return fmt.Errorf("finding the user of subject %q: %w", subject, errNotFound)
	}
	ui.Subject = subject
	for k, v := range claimValues(u, scopes) {
		ui.AppendClaims(k, v)
	}
	return nil
}

// tokenClient is the client an access token was issued to.
func (s *storage) tokenClient(tokenID string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[tokenID]
	if !ok {
		return "", false
	}
	return t.clientID, true
}

func (s *storage) SetIntrospectionFromToken(context.Context, *oidc.IntrospectionResponse, string, string, string) error {
	return fmt.Errorf("introspecting a token: %w", errors.ErrUnsupported)
}

func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

// GetKeyByIDAndClientID returns the key that verifies a client's
// private_key_jwt assertions.
func (s *storage) GetKeyByIDAndClientID(_ context.Context, keyID, clientID string) (*jose.JSONWebKey, error) {
	c, ok := s.clients[clientID]
	if !ok || c.SigningKey == nil || (keyID != "" && c.SigningKey.KeyID != "" && c.SigningKey.KeyID != keyID) {
		return nil, fmt.Errorf("finding key %q of client %q: %w", keyID, clientID, errNotFound)
	}
	k := *c.SigningKey
	return &k, nil
}

func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, oidc.ErrUnsupportedGrantType()
}

func (s *storage) Health(context.Context) error { return nil }

// randomID is a 128-bit random identifier, hex.
func randomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}
