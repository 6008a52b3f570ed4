package connectors

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// AuthKind says how a stack authenticates to its platform.
type AuthKind string

// Authentication kinds.
const (
	// AuthOAuth2ClientCredentials is the OAuth2 client credentials grant
	// with a standard form-encoded token request (RFC 6749 §4.4).
	AuthOAuth2ClientCredentials AuthKind = "oauth2_client_credentials"
	// AuthOAuth2ClientCredentialsJSON is the client credentials grant whose
	// token endpoint takes a JSON body {grant_type, scope, client_id,
	// client_secret}, as the digital safe's POST /api/token does.
	AuthOAuth2ClientCredentialsJSON AuthKind = "oauth2_client_credentials_json"
	// AuthAPIKey sends a static key in a header.
	AuthAPIKey AuthKind = "api_key"
	// AuthBearer sends a static bearer token.
	AuthBearer AuthKind = "bearer"
	// AuthNone sends no credentials.
	AuthNone AuthKind = "none"
)

// clientAuthStyle maps AuthConfig.ClientAuth to x/oauth2's style.
func clientAuthStyle(name string) (oauth2.AuthStyle, bool) {
	switch name {
	case "auto":
		return oauth2.AuthStyleAutoDetect, true
	case "basic":
		return oauth2.AuthStyleInHeader, true
	case "body":
		return oauth2.AuthStyleInParams, true
	}
	return 0, false
}

// AuthConfig configures a stack's authentication.
type AuthConfig struct {
	// Kind is one of the AuthKind constants. Default: "none".
	Kind AuthKind `yaml:"kind"`
	// TokenURL is the OAuth2 token endpoint. Required for the oauth2 kinds.
	TokenURL string `yaml:"token_url"`
	// ClientID is the OAuth2 client id. Required for the oauth2 kinds.
	ClientID string `yaml:"client_id"`
	// ClientSecret is the OAuth2 client secret. Required for the oauth2
	// kinds.
	ClientSecret Secret `yaml:"client_secret"`
	// Scopes are the OAuth2 scopes asked for. Default: none.
	Scopes []string `yaml:"scopes"`
	// ClientAuth says where "oauth2_client_credentials" sends the client
	// id and secret: "basic" (an HTTP Basic Authorization header, RFC 6749
	// §2.3.1), "body" (form parameters, as France Travail requires), or
	// "auto" (try Basic, fall back to the body once, remember what worked).
	// Default: "auto".
	ClientAuth string `yaml:"client_auth"`
	// HeaderName is the header that carries the key for "api_key".
	// Default: "X-API-Key".
	HeaderName string `yaml:"header_name"`
	// Token is the static key ("api_key") or token ("bearer"). Required for
	// those kinds.
	Token Secret `yaml:"token"`
	// RefreshBefore is how long before its expiry a cached access token is
	// replaced. Default: 60s.
	RefreshBefore time.Duration `yaml:"refresh_before"`
}

// WithDefaults returns c with its zero fields set to their defaults.
func (c AuthConfig) WithDefaults() AuthConfig {
	if c.Kind == "" {
		c.Kind = AuthNone
	}
	if c.HeaderName == "" {
		c.HeaderName = "X-API-Key"
	}
	if c.ClientAuth == "" {
		c.ClientAuth = "auto"
	}
	if c.RefreshBefore == 0 {
		c.RefreshBefore = 60 * time.Second
	}
	return c
}

// Validate reports the first faulty field.
func (c AuthConfig) Validate() error {
	switch c.Kind {
	case AuthOAuth2ClientCredentials, AuthOAuth2ClientCredentialsJSON:
		if c.TokenURL == "" {
			return configErrorf("token_url", "is required for %s", c.Kind)
		}
		if u, err := url.Parse(c.TokenURL); err != nil || !u.IsAbs() || (u.Scheme != "https" && u.Scheme != "http") {
			return configErrorf("token_url", "must be an absolute http(s) URL")
		}
		if c.ClientID == "" {
			return configErrorf("client_id", "is required for %s", c.Kind)
		}
		if c.ClientSecret == "" {
			return configErrorf("client_secret", "is required for %s", c.Kind)
		}
	case AuthAPIKey, AuthBearer:
		if c.Token == "" {
			return configErrorf("token", "is required for %s", c.Kind)
		}
		if c.Kind == AuthAPIKey && c.HeaderName == "" {
			return configErrorf("header_name", "is required for %s", c.Kind)
		}
	case AuthNone:
	default:
		return configErrorf("kind", "must be one of oauth2_client_credentials, oauth2_client_credentials_json, api_key, bearer, none; got %q", c.Kind)
	}
	if c.RefreshBefore < 0 {
		return configErrorf("refresh_before", "must not be negative")
	}
	if _, ok := clientAuthStyle(c.ClientAuth); !ok {
		return configErrorf("client_auth", "must be one of auto, basic, body; got %q", c.ClientAuth)
	}
	return nil
}

// newAuthTransport puts credentials on every request. tokenClient is used for
// token requests: it has its own timeout and bypasses the breaker, the rate
// limiter and the retries. It returns next unchanged for AuthNone, and
// reports whether the credentials are refreshable (a 401 may then be worth
// one more try, see Stack.Do).
func newAuthTransport(next http.RoundTripper, cfg AuthConfig, tokenClient *http.Client, dest string, m *Metrics, log *slog.Logger) (http.RoundTripper, bool) {
	switch cfg.Kind {
	case AuthOAuth2ClientCredentials, AuthOAuth2ClientCredentialsJSON:
		var fetch oauth2.TokenSource
		if cfg.Kind == AuthOAuth2ClientCredentials {
			fetch = newFormTokenSource(cfg, tokenClient)
		} else {
			fetch = &jsonTokenSource{
				client:       tokenClient,
				url:          cfg.TokenURL,
				clientID:     cfg.ClientID,
				clientSecret: cfg.ClientSecret,
				scope:        strings.Join(cfg.Scopes, " "),
			}
		}
		fetch = &countingTokenSource{next: fetch, refreshes: m.tokenRefreshes.WithLabelValues(dest), log: log}
		return &oauth2Transport{next: next, tokens: newTokenCache(fetch, cfg.RefreshBefore), log: log}, true
	case AuthAPIKey:
		return &headerTransport{next: next, header: cfg.HeaderName, value: cfg.Token}, false
	case AuthBearer:
		return &headerTransport{next: next, header: "Authorization", value: "Bearer " + cfg.Token}, false
	default:
		return next, false
	}
}

// headerTransport sets one static credential header.
type headerTransport struct {
	next   http.RoundTripper
	header string
	value  Secret
}

func (t *headerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.Header.Set(t.header, t.value.Reveal())
	return t.next.RoundTrip(r)
}

// errTokenFetch wraps every failure to get an access token.
var errTokenFetch = errors.New("fetching access token")

// oauth2Transport sets a cached access token and drops it when the platform
// answers 401, so that the next call fetches a fresh one.
type oauth2Transport struct {
	next   http.RoundTripper
	tokens *tokenCache
	log    *slog.Logger
}

func (t *oauth2Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	tok, gen, err := t.tokens.token()
	if err != nil {
		closeRequestBody(req)
		return nil, fmt.Errorf("%w: %w", errTokenFetch, err)
	}
	r := req.Clone(req.Context())
	tok.SetAuthHeader(r)
	resp, err := t.next.RoundTrip(r)
	if err == nil && resp.StatusCode == http.StatusUnauthorized && t.tokens.drop(gen) {
		t.log.LogAttrs(req.Context(), slog.LevelDebug, "access token rejected, dropped from cache")
	}
	return resp, err
}

// tokenCache caches access tokens with oauth2.ReuseTokenSourceWithExpiry and
// can forget the cached one. Each generation is one reuse source; a 401
// drops the generation that issued the rejected token, once, however many
// calls saw the 401.
type tokenCache struct {
	fetch oauth2.TokenSource
	early time.Duration

	mu  sync.Mutex
	gen uint64
	src oauth2.TokenSource
}

func newTokenCache(fetch oauth2.TokenSource, early time.Duration) *tokenCache {
	return &tokenCache{fetch: fetch, early: early, src: oauth2.ReuseTokenSourceWithExpiry(nil, fetch, early)}
}

func (c *tokenCache) token() (*oauth2.Token, uint64, error) {
	c.mu.Lock()
	src, gen := c.src, c.gen
	c.mu.Unlock()
	tok, err := src.Token()
	return tok, gen, err
}

// drop forgets generation gen's token and reports whether it did.
func (c *tokenCache) drop(gen uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return false
	}
	c.gen++
	c.src = oauth2.ReuseTokenSourceWithExpiry(nil, c.fetch, c.early)
	return true
}

// countingTokenSource counts and logs every token fetched.
type countingTokenSource struct {
	next      oauth2.TokenSource
	refreshes prometheus.Counter
	log       *slog.Logger
}

func (s *countingTokenSource) Token() (*oauth2.Token, error) {
	tok, err := s.next.Token()
	if err != nil {
		return nil, err
	}
	s.refreshes.Inc()
	s.log.LogAttrs(context.Background(), slog.LevelDebug, "access token fetched", slog.Time("expiry", tok.Expiry))
	return tok, nil
}

// tokenSourceFunc adapts a function to oauth2.TokenSource.
type tokenSourceFunc func() (*oauth2.Token, error)

func (f tokenSourceFunc) Token() (*oauth2.Token, error) { return f() }

// newFormTokenSource fetches a token on every call with the standard
// form-encoded request of golang.org/x/oauth2/clientcredentials.
func newFormTokenSource(cfg AuthConfig, client *http.Client) oauth2.TokenSource {
	cc := &clientcredentials.Config{
		ClientID:     cfg.ClientID,
		ClientSecret: cfg.ClientSecret.Reveal(),
		TokenURL:     cfg.TokenURL,
		Scopes:       cfg.Scopes,
	}
	cc.AuthStyle, _ = clientAuthStyle(cfg.ClientAuth)
	// oauth2.TokenSource has no context: token requests are bounded by
	// client's timeout and shared by every caller waiting for the token.
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, client)
	return tokenSourceFunc(func() (*oauth2.Token, error) { return cc.Token(ctx) })
}

// maxTokenLifetime caps a token's announced lifetime, in seconds.
const maxTokenLifetime = 365 * 24 * 3600

// maxTokenResponse bounds what is read of a token endpoint's answer.
const maxTokenResponse = 1 << 20

// jsonTokenSource fetches a client credentials token from an endpoint that
// takes a JSON body, on every call.
type jsonTokenSource struct {
	client       *http.Client
	url          string
	clientID     string
	clientSecret Secret
	scope        string
}

type jsonTokenRequest struct {
	GrantType    string `json:"grant_type"`
	Scope        string `json:"scope,omitempty"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
}

type jsonTokenResponse struct {
	AccessToken      string `json:"access_token"`
	TokenType        string `json:"token_type"`
	ExpiresIn        int64  `json:"expires_in"`
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	ErrorURI         string `json:"error_uri"`
}

func (s *jsonTokenSource) Token() (*oauth2.Token, error) {
	body, err := json.Marshal(jsonTokenRequest{
		GrantType:    "client_credentials",
		Scope:        s.scope,
		ClientID:     s.clientID,
		ClientSecret: s.clientSecret.Reveal(),
	})
	if err != nil {
		return nil, fmt.Errorf("encoding token request: %w", err)
	}
	// oauth2.TokenSource has no context: the request is bounded by the
	// client's timeout.
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("building token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("requesting token: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenResponse))
	if err != nil {
		return nil, fmt.Errorf("reading token response: %w", err)
	}
	var tr jsonTokenResponse
	jsonErr := json.Unmarshal(raw, &tr)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, &oauth2.RetrieveError{
			Response: resp, Body: raw,
			ErrorCode: tr.Error, ErrorDescription: tr.ErrorDescription, ErrorURI: tr.ErrorURI,
		}
	}
	if jsonErr != nil {
		return nil, fmt.Errorf("decoding token response: %w", jsonErr)
	}
	if tr.AccessToken == "" {
		return nil, &oauth2.RetrieveError{Response: resp, Body: raw, ErrorCode: tr.Error, ErrorDescription: "server response missing access_token"}
	}
	tok := &oauth2.Token{AccessToken: tr.AccessToken, TokenType: tr.TokenType}
	if tr.ExpiresIn > 0 {
		// oauth2's cache compares Expiry with the wall clock, so it is
		// set from the wall clock, not from an injected one. A lifetime
		// beyond a year is taken as a year (and cannot overflow).
		lifetime := time.Duration(min(tr.ExpiresIn, maxTokenLifetime)) * time.Second
		tok.Expiry = time.Now().Add(lifetime)
	}
	return tok, nil
}

// closeRequestBody closes a request's body, as a RoundTripper must do even
// when it fails before sending.
func closeRequestBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}
