package oidc_test

// Interoperability: the relying party signs in against zitadel/oidc's op
// package, an independent, certified OpenID Provider implementation,
// configured unlike our test OP (ES256 key of its own, client_secret_basic,
// plain JSON userinfo, its own paths), driven by a browser with a cookie jar.

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/relais-dev/relais/gateway/identity/oidc"
)

type zKey struct {
	priv *ecdsa.PrivateKey
	id   string
}

func (k zKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.ES256 }
func (k zKey) Algorithm() jose.SignatureAlgorithm          { return jose.ES256 }
func (k zKey) Key() any                                    { return k.priv }
func (k zKey) ID() string                                  { return k.id }
func (k zKey) Use() string                                 { return "sig" }

type zPublic struct{ zKey }

func (k zPublic) Key() any { return &k.priv.PublicKey }

type zRequest struct {
	zoidc.AuthRequest
	id, subject string
	done        bool
	authTime    time.Time
}

func (r *zRequest) GetID() string          { return r.id }
func (r *zRequest) GetACR() string         { return "eidas1" }
func (r *zRequest) GetAMR() []string       { return []string{"pwd"} }
func (r *zRequest) GetAudience() []string  { return []string{r.ClientID} }
func (r *zRequest) GetAuthTime() time.Time { return r.authTime }
func (r *zRequest) GetClientID() string    { return r.ClientID }
func (r *zRequest) GetCodeChallenge() *zoidc.CodeChallenge {
	return &zoidc.CodeChallenge{Challenge: r.CodeChallenge, Method: r.CodeChallengeMethod}
}
func (r *zRequest) GetNonce() string                    { return r.Nonce }
func (r *zRequest) GetRedirectURI() string              { return r.RedirectURI }
func (r *zRequest) GetResponseType() zoidc.ResponseType { return r.ResponseType }
func (r *zRequest) GetResponseMode() zoidc.ResponseMode { return r.ResponseMode }
func (r *zRequest) GetScopes() []string                 { return r.Scopes }
func (r *zRequest) GetState() string                    { return r.State }
func (r *zRequest) GetSubject() string                  { return r.subject }
func (r *zRequest) Done() bool                          { return r.done }

type zClient struct{ redirect string }

func (c zClient) GetID() string                       { return "relais-interop" }
func (c zClient) RedirectURIs() []string              { return []string{c.redirect} }
func (c zClient) PostLogoutRedirectURIs() []string    { return nil }
func (c zClient) ApplicationType() op.ApplicationType { return op.ApplicationTypeWeb }
func (c zClient) AuthMethod() zoidc.AuthMethod        { return zoidc.AuthMethodBasic }
func (c zClient) ResponseTypes() []zoidc.ResponseType {
	return []zoidc.ResponseType{zoidc.ResponseTypeCode}
}
func (c zClient) GrantTypes() []zoidc.GrantType        { return []zoidc.GrantType{zoidc.GrantTypeCode} }
func (c zClient) LoginURL(id string) string            { return "/ui/login?id=" + id }
func (c zClient) AccessTokenType() op.AccessTokenType  { return op.AccessTokenTypeBearer }
func (c zClient) IDTokenLifetime() time.Duration       { return time.Minute }
func (c zClient) DevMode() bool                        { return true } // http redirect under httptest
func (c zClient) IsScopeAllowed(string) bool           { return false }
func (c zClient) IDTokenUserinfoClaimsAssertion() bool { return false }
func (c zClient) ClockSkew() time.Duration             { return 0 }
func (c zClient) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c zClient) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

// zStorage is the smallest op.Storage for the code flow.
type zStorage struct {
	key    zKey
	client zClient
	secret string

	mu       sync.Mutex
	requests map[string]*zRequest
	codes    map[string]string
}

var errZ = errors.New("not supported by the interop storage")

func (s *zStorage) CreateAuthRequest(_ context.Context, ar *zoidc.AuthRequest, _ string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := &zRequest{AuthRequest: *ar, id: rand.Text()}
	s.requests[r.id] = r
	return r, nil
}

func (s *zStorage) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.requests[id]; ok {
		return r, nil
	}
	return nil, errors.New("request not found")
}

func (s *zStorage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	s.mu.Lock()
	id, ok := s.codes[code]
	s.mu.Unlock()
	if !ok {
		return nil, errors.New("code not found")
	}
	return s.AuthRequestByID(ctx, id)
}

func (s *zStorage) SaveAuthCode(_ context.Context, id, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.codes[code] = id
	return nil
}

func (s *zStorage) DeleteAuthRequest(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.requests, id)
	for c, rid := range s.codes {
		if rid == id {
			delete(s.codes, c)
		}
	}
	return nil
}

func (s *zStorage) finish(id, subject string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.requests[id]
	if ok {
		r.subject, r.done, r.authTime = subject, true, time.Now()
	}
	return ok
}

func (s *zStorage) CreateAccessToken(context.Context, op.TokenRequest) (string, time.Time, error) {
	return rand.Text(), time.Now().Add(time.Minute), nil
}

func (s *zStorage) CreateAccessAndRefreshTokens(context.Context, op.TokenRequest, string) (string, string, time.Time, error) {
	return "", "", time.Time{}, errZ
}

func (s *zStorage) TokenRequestByRefreshToken(context.Context, string) (op.RefreshTokenRequest, error) {
	return nil, errZ
}
func (s *zStorage) TerminateSession(context.Context, string, string) error { return nil }
func (s *zStorage) RevokeToken(context.Context, string, string, string) *zoidc.Error {
	return nil
}

func (s *zStorage) GetRefreshTokenInfo(context.Context, string, string) (string, string, error) {
	return "", "", op.ErrInvalidRefreshToken
}
func (s *zStorage) SigningKey(context.Context) (op.SigningKey, error) { return s.key, nil }
func (s *zStorage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.ES256}, nil
}

func (s *zStorage) KeySet(context.Context) ([]op.Key, error) {
	return []op.Key{zPublic{s.key}}, nil
}

func (s *zStorage) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	if id != s.client.GetID() {
		return nil, errors.New("client not found")
	}
	return s.client, nil
}

func (s *zStorage) AuthorizeClientIDSecret(_ context.Context, id, secret string) error {
	if id != s.client.GetID() || secret != s.secret {
		return errors.New("invalid client")
	}
	return nil
}

// SetUserinfoFromScopes feeds the id_token's userinfo part: zitadel copies
// its Subject into the id_token's sub.
func (s *zStorage) SetUserinfoFromScopes(_ context.Context, u *zoidc.UserInfo, userID, _ string, _ []string) error {
	u.Subject = userID
	return nil
}

func (s *zStorage) SetUserinfoFromToken(_ context.Context, u *zoidc.UserInfo, _, subject, _ string) error {
	u.Subject = subject
	u.GivenName, u.FamilyName = "Jean-Éric", "Lefèvre-Şahin"
	u.AppendClaims("siret", "13002526500013")
	return nil
}

func (s *zStorage) SetIntrospectionFromToken(context.Context, *zoidc.IntrospectionResponse, string, string, string) error {
	return nil
}

func (s *zStorage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

func (s *zStorage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errZ
}

func (s *zStorage) ValidateJWTProfileScopes(_ context.Context, _ string, scopes []string) ([]string, error) {
	return scopes, nil
}
func (s *zStorage) Health(context.Context) error { return nil }

var _ op.Storage = (*zStorage)(nil)

// startZitadel runs a zitadel OP whose login page signs in "usager-1".
func startZitadel(t *testing.T, redirect string) (*httptest.Server, *zStorage) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("generating key: %v", err)
	}
	store := &zStorage{
		key: zKey{priv: priv, id: "zitadel-es256"}, client: zClient{redirect: redirect}, secret: "interop-secret",
		requests: map[string]*zRequest{}, codes: map[string]string{},
	}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	provider, err := op.NewProvider(&op.Config{
		CryptoKey: sha256.Sum256([]byte("interop crypto key")), CodeMethodS256: true,
	}, store, op.StaticIssuer(srv.URL), op.WithAllowInsecure())
	if err != nil {
		t.Fatalf("building zitadel provider: %v", err)
	}
	mux.HandleFunc("GET /ui/login", func(w http.ResponseWriter, r *http.Request) {
		id := r.URL.Query().Get("id")
		if !store.finish(id, "usager-1") {
			http.Error(w, "unknown request", http.StatusBadRequest)
			return
		}
		http.Redirect(w, r, srv.URL+"/authorize/callback?id="+id, http.StatusFound)
	})
	mux.Handle("/", provider)
	return srv, store
}

// relaisHandler is the thinnest HTTP layer over the RP: what the gateway's
// /auth/{provider}/login and /callback routes will do.
func relaisHandler(rp *oidc.RelyingParty) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /auth/z/login", func(w http.ResponseWriter, r *http.Request) {
		l, err := rp.Begin(r.Context(), oidc.BeginOptions{ReturnTo: "/"})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		http.SetCookie(w, rp.Cookie(l))
		http.Redirect(w, r, l.URL, http.StatusFound)
	})
	mux.HandleFunc("GET /auth/z/callback", func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(rp.CookieName())
		if err != nil {
			http.Error(w, "no binding cookie", http.StatusBadRequest)
			return
		}
		id, err := rp.Callback(r.Context(), r.URL.Query(), c.Value)
		if err != nil {
			http.Error(w, string(oidc.CodeOf(err))+": "+err.Error(), http.StatusForbidden)
			return
		}
		_, _ = io.WriteString(w, "sub="+id.Subject+" acr="+id.ACR+" family_name="+id.Claims["family_name"].(string)+" siret="+id.SIRET)
	})
	return mux
}

func TestInteropZitadelOP(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	relais := httptest.NewServer(mux)
	t.Cleanup(relais.Close)
	zsrv, _ := startZitadel(t, relais.URL+"/auth/z/callback")

	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{}}
	t.Cleanup(client.CloseIdleConnections)
	rp, err := oidc.New(t.Context(), oidc.Config{
		Name: "z", Profile: oidc.ProfileGeneric, IssuerURL: zsrv.URL,
		ClientID: "relais-interop", ClientSecret: "interop-secret", ClientAuth: oidc.AuthClientSecretBasic,
		RedirectURL: relais.URL + "/auth/z/callback", Scopes: []string{"openid", "profile"},
		MinACR: oidc.ACREidas1, AllowPlainUserinfo: true,
	}, oidc.Options{Pending: oidc.NewMemoryPending(0, 0, nil), HTTPClient: client})
	if err != nil {
		t.Fatalf("New against zitadel: %v", err)
	}
	mux.Handle("/", relaisHandler(rp))

	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatalf("cookie jar: %v", err)
	}
	browser := &http.Client{Jar: jar, Timeout: 5 * time.Second, Transport: &http.Transport{}}
	t.Cleanup(browser.CloseIdleConnections)
	resp, err := browser.Get(relais.URL + "/auth/z/login")
	if err != nil {
		t.Fatalf("browsing the login: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login ended with %d: %s", resp.StatusCode, body)
	}
	want := "sub=usager-1 acr=eidas1 family_name=Lefèvre-Şahin siret="
	if string(body) != want {
		t.Fatalf("landing page = %q, want %q", body, want)
	}
	if !strings.HasPrefix(resp.Request.URL.String(), relais.URL+"/auth/z/callback?") {
		t.Fatalf("landed on %s", resp.Request.URL)
	}

	// The zitadel OP refuses the replayed code, the RP surfaces it.
	l, err := rp.Begin(t.Context(), oidc.BeginOptions{})
	if err != nil {
		t.Fatalf("Begin: %v", err)
	}
	q := resp.Request.URL.Query()
	q.Set("state", l.State)
	_, err = rp.Callback(t.Context(), q, l.Binding)
	if oidc.CodeOf(err) != oidc.CodeTokenExchange || !strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("replayed code at zitadel: %v", err)
	}
}
