package contracts

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// Platform is one platform's contract and the checks `relais contracts
// verify` runs against a target (our mock or a real sandbox).
type Platform struct {
	// Name is the stable name used in --target NAME=URL ("apiparticulier").
	Name string
	// Spec is the OpenAPI 3.1 document (YAML).
	Spec []byte
	// Credentials are the environment variables a real target needs, e.g.
	// RELAIS_CONTRACT_APIPARTICULIER_TOKEN; each with the value that works
	// against our mock, used when the variable is unset.
	Credentials []Credential
	// Authorize, when set, turns credentials into an authenticated client
	// request decoration (e.g. fetch an OAuth2 token first, then set the
	// bearer). It is called once per run.
	Authorize func(ctx context.Context, target Target, creds map[string]string) (Authorizer, error)
	// InvalidAuth, when set, decorates the requests of AuthInvalid cases
	// with a credential that is well formed but wrong for this platform
	// (e.g. an API key in the platform's own format). Default: the header
	// "Authorization: Bearer invalid-token-relais-check".
	InvalidAuth Authorizer
	// Cases are the calls to make. Every operation of Spec must be covered
	// by at least one case with a success status, or verify reports the
	// operation as unchecked (a violation).
	Cases []Case
}

// Credential is one environment variable a target needs.
type Credential struct {
	Env         string // RELAIS_CONTRACT_<PLATFORM>_<WHAT>
	MockDefault string // the value our mock accepts
	Secret      bool   // never printed
}

// Target is where checks are sent.
type Target struct {
	Name    string
	BaseURL *url.URL
	// Client sends the checks; nil means a client of its own with the
	// default transport.
	Client *http.Client
	// Timeout bounds each call, the reading of its answer included.
	// Default 15s (DefaultTimeout).
	Timeout time.Duration
	// Mock is true when the target is our own mock (the default), which
	// allows checks that would be rude to a real platform.
	Mock bool
}

// Authorizer decorates a request with credentials.
type Authorizer func(r *http.Request)

// Case is one call and what it must answer.
type Case struct {
	// Name is unique within the platform ("quotient_familial.identite.cnaf").
	Name string
	// Operation is the operationId called.
	Operation string
	// PathParams fill the path template; missing ones come from the
	// operation's parameter examples.
	PathParams map[string]string
	// Query is sent as given; when Query is nil, every query parameter
	// with an example is sent with it (an empty, non-nil Query sends
	// none).
	Query url.Values
	// Header is set on the request last, over the required header
	// parameters (sent from their examples) and the credentials. A key
	// mapped to nil (or to no value) is not sent at all, as with net/http's
	// ResponseWriter: Header: http.Header{"Ft-Jeton-Usager": nil} leaves out
	// a required header to check the error it gets. An empty string is
	// sent as an empty value.
	Header http.Header
	// Body builds the request body. When nil, the request body example is
	// sent, if any: JSON-encoded for JSON media types; as is when it is a
	// string; as form values for application/x-www-form-urlencoded and as
	// parts for multipart/form-data when it is an object, following the
	// media type's encoding object (arrays repeat their key unless the
	// encoding says otherwise).
	Body func() (contentType string, body io.Reader)
	// Auth is how the case authenticates: AuthValid (default), AuthNone or
	// AuthInvalid.
	Auth AuthMode
	// Status is the status expected; the answer must also match the
	// contract's response for that status (content type, headers, schema)
	// and, for JSON bodies, show no field added, removed or retyped.
	Status int
	// MockOnly cases run only against our mock (they rely on fixtures).
	MockOnly bool
}

// AuthMode is how a case authenticates.
type AuthMode int

// The auth modes.
const (
	AuthValid AuthMode = iota
	AuthNone
	AuthInvalid
)

// DefaultTimeout bounds each call of a check when Target.Timeout is zero.
const DefaultTimeout = 15 * time.Second

// InvalidToken is the bearer token AuthInvalid cases send when the platform
// supplies no InvalidAuth of its own.
const InvalidToken = "invalid-token-relais-check"

// Bearer returns an Authorize function that sends the credential named env
// as "Authorization: Bearer <value>", for platforms whose token is given
// (API keys, long-lived tokens).
func Bearer(env string) func(ctx context.Context, target Target, creds map[string]string) (Authorizer, error) {
	return func(_ context.Context, _ Target, creds map[string]string) (Authorizer, error) {
		token := creds[env]
		return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }, nil
	}
}

// ClientCredentials fetches an access token with the OAuth 2.0 client
// credentials grant (golang.org/x/oauth2/clientcredentials, the client's id
// and secret sent in the form, as connectors do) through the target's
// client, and returns an Authorizer that sends it as a bearer token.
// cfg.TokenURL may be relative to the target's base URL ("oauth/token"
// below its path, "/token" at its host's root). Verify bounds the call by
// the target's timeout.
func ClientCredentials(ctx context.Context, target Target, cfg clientcredentials.Config) (Authorizer, error) {
	ref, err := url.Parse(cfg.TokenURL)
	if err != nil {
		return nil, fmt.Errorf("parsing the token URL: %w", err)
	}
	if !ref.IsAbs() {
		if target.BaseURL == nil {
			return nil, fmt.Errorf("resolving the token URL %q: the target has no base URL", cfg.TokenURL)
		}
		base := *target.BaseURL
		base.Path = strings.TrimSuffix(base.Path, "/") + "/"
		base.RawPath = ""
		ref = base.ResolveReference(ref)
	}
	cfg.TokenURL = ref.String()
	cfg.AuthStyle = oauth2.AuthStyleInParams
	if target.Client != nil {
		ctx = context.WithValue(ctx, oauth2.HTTPClient, target.Client)
	}
	tok, err := cfg.Token(ctx)
	if err != nil {
		return nil, fmt.Errorf("fetching a token from %s: %w", cfg.TokenURL, err)
	}
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok.AccessToken) }, nil
}

// LoadSpec parses the contract spec of the platform named name and
// validates it, examples included. External references are not followed:
// every contract is self-contained.
func LoadSpec(name string, spec []byte) (*openapi3.T, error) {
	doc, err := loadSpec(context.Background(), name, spec)
	if err != nil {
		return nil, err
	}
	return doc, nil
}

// loadSpec is LoadSpec, except that a document that loads but does not
// validate is returned with the error (Verify still uses it).
func loadSpec(ctx context.Context, name string, spec []byte) (*openapi3.T, error) {
	doc, err := openapi3.NewLoader().LoadFromData(spec)
	if err != nil {
		return nil, fmt.Errorf("loading the %s contract: %w", name, err)
	}
	if err := doc.Validate(ctx); err != nil {
		return doc, fmt.Errorf("validating the %s contract: %w", name, err)
	}
	return doc, nil
}

// IdentityProvider is the Platform of an OpenID Connect provider's
// contract: its two public documents, the provider metadata (operation
// "discovery") and the key set ("jwks"), each must answer 200. No
// credential is needed, against our mock or the real provider.
func IdentityProvider(name string, spec []byte) Platform {
	return Platform{
		Name: name,
		Spec: spec,
		Cases: []Case{
			{Name: "discovery", Operation: "discovery", Auth: AuthNone, Status: http.StatusOK},
			{Name: "jwks", Operation: "jwks", Auth: AuthNone, Status: http.StatusOK},
		},
	}
}
