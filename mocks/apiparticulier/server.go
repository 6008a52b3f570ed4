package apiparticulier

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	apiparticuliercontract "github.com/relais-dev/relais/contracts/apiparticulier"
	"github.com/relais-dev/relais/mocks/platform"
)

// Name is the platform's name in `relais mocks` and in the contract suites.
const Name = "apiparticulier"

// The sandbox tokens the mock accepts by default (DefaultTokens).
const (
	// DefaultToken is the sandbox token: every operation, never expires.
	DefaultToken = apiparticuliercontract.MockToken
	// RestrictedToken may only call quotient_familial.identite: the others
	// answer 403 (00100).
	RestrictedToken = apiparticuliercontract.MockRestrictedToken
	// ExpiredToken expired on 1 January 2024: 401 (00103).
	ExpiredToken = apiparticuliercontract.MockExpiredToken
	// BlacklistedToken was leaked and blacklisted: 401 (00105).
	BlacklistedToken = apiparticuliercontract.MockBlacklistedToken
	// DefaultFranceConnectToken is the sandbox FranceConnect access token of
	// Georges CNAF, whom every CAF/MSA route of the sandbox knows; the
	// platform's own sandbox knows it by this name too.
	DefaultFranceConnectToken = apiparticuliercontract.MockFranceConnectToken
)

// Option defaults.
const (
	// DefaultRateLimit is the platform's limit: 20 requests per second per
	// token.
	DefaultRateLimit = 20
	// DefaultIPRateLimit is the platform's other limit: 1000 requests per
	// minute per client IP address, whatever the token.
	DefaultIPRateLimit = 1000
	// DefaultCacheTTL is how long the platform keeps an answer.
	DefaultCacheTTL = 24 * time.Hour
	// DefaultHistory is how far back, in months, a quotient familial can be
	// asked for.
	DefaultHistory = 24
	// DefaultCacheSize bounds the cache; expired answers are dropped first,
	// then the oldest.
	DefaultCacheSize = 10_000
)

// Token is a platform token the mock accepts.
type Token struct {
	// Value is the bearer.
	Value string
	// Scopes are the operationIds it may call; nil means every operation.
	Scopes []string
	// ExpiresAt, when not zero, is the instant (by Options.Now) from which
	// the token is refused with 00103.
	ExpiresAt time.Time
	// Blacklisted tokens are refused with 00105.
	Blacklisted bool
}

// DefaultTokens are the sandbox tokens: DefaultToken, RestrictedToken,
// ExpiredToken and BlacklistedToken.
func DefaultTokens() []Token {
	return []Token{
		{Value: DefaultToken},
		{Value: RestrictedToken, Scopes: []string{"quotient_familial.identite"}},
		{Value: ExpiredToken, ExpiresAt: time.Date(2024, time.January, 1, 0, 0, 0, 0, time.UTC)},
		{Value: BlacklistedToken, Blacklisted: true},
	}
}

// Options configures a Server. The zero value is usable: WithDefaults fills
// every field.
type Options struct {
	// Tokens are the platform tokens accepted. Default DefaultTokens().
	Tokens []Token
	// FranceConnect resolves the bearer of a `/france_connect` call to the
	// citizen, when the call is authenticated (before its parameters are
	// checked); false answers 401 (00101). Default: the sandbox citizens of
	// fixtures/franceconnect.json (see the package documentation).
	FranceConnect func(ctx context.Context, accessToken string) (Citizen, bool)
	// Households are looked up before the sandbox households (an identity
	// that matches one of them finds it first). Default none.
	Households []Household
	// RateLimit is the number of requests per second allowed per token;
	// negative disables the limit. Default DefaultRateLimit.
	RateLimit int
	// IPRateLimit is the number of requests per minute allowed per client
	// IP address, counted before authentication (refused tokens count);
	// negative disables the limit. Default DefaultIPRateLimit.
	IPRateLimit int
	// CacheTTL is how long an answer is served again for the same query.
	// Default DefaultCacheTTL.
	CacheTTL time.Duration
	// CacheSize bounds the number of answers kept. Default
	// DefaultCacheSize.
	CacheSize int
	// History is how many months back a quotient familial may be asked for.
	// Default DefaultHistory.
	History int
	// Now is the clock of token expiry, the cache, the quotient familial's
	// current month, rate limits and outage windows. Default time.Now.
	Now func() time.Time
	// Seed seeds the runtime's fault randomness. Default 1.
	Seed int64
	// Logger, when set, is warned of every answer of the mock that breaks
	// the contract. Default none.
	Logger *slog.Logger
	// Registry, when set, gets the runtime's request counter. Default none.
	Registry *prometheus.Registry
}

// WithDefaults returns o with every zero field set to its default.
func (o Options) WithDefaults() Options {
	if o.Tokens == nil {
		o.Tokens = DefaultTokens()
	}
	if o.RateLimit == 0 {
		o.RateLimit = DefaultRateLimit
	}
	if o.IPRateLimit == 0 {
		o.IPRateLimit = DefaultIPRateLimit
	}
	if o.CacheTTL == 0 {
		o.CacheTTL = DefaultCacheTTL
	}
	if o.CacheSize == 0 {
		o.CacheSize = DefaultCacheSize
	}
	if o.History == 0 {
		o.History = DefaultHistory
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Seed == 0 {
		o.Seed = platform.DefaultSeed
	}
	return o
}

// Validate names the first invalid field of o.
func (o Options) Validate() error {
	seen := map[string]bool{}
	for i, t := range o.Tokens {
		switch {
		case t.Value == "":
			return fmt.Errorf("apiparticulier: Options.Tokens[%d].Value is empty", i)
		case seen[t.Value]:
			return fmt.Errorf("apiparticulier: Options.Tokens[%d].Value appears twice", i)
		}
		seen[t.Value] = true
	}
	ids := map[string]bool{}
	for i, h := range o.Households {
		if err := h.Validate(); err != nil {
			return fmt.Errorf("apiparticulier: Options.Households[%d]: %w", i, err)
		}
		if ids[h.ID] {
			return fmt.Errorf("apiparticulier: Options.Households[%d]: id %q appears twice", i, h.ID)
		}
		ids[h.ID] = true
	}
	switch {
	case o.CacheTTL < 0:
		return fmt.Errorf("apiparticulier: Options.CacheTTL is negative (%s)", o.CacheTTL)
	case o.CacheSize < 0:
		return fmt.Errorf("apiparticulier: Options.CacheSize is negative (%d)", o.CacheSize)
	case o.History < 0:
		return fmt.Errorf("apiparticulier: Options.History is negative (%d)", o.History)
	}
	return nil
}

// Server is the mock API Particulier: an http.Handler safe for concurrent
// use, built on the shared runtime of mocks/platform.
type Server struct {
	opts     Options
	rt       *platform.Server
	tokens   map[string]Token
	fixtures *fixtures
	communes map[string]commune
	cache    *responseCache

	mu   sync.RWMutex
	data *dataset // replaced, never modified, by SetHousehold and Reset
}

// compile-time check: a Server is a handler.
var _ http.Handler = (*Server)(nil)

// New returns a mock configured by opts (defaults applied). It panics when
// opts is invalid, which is a programming error in a test.
func New(opts Options) *Server {
	opts = opts.WithDefaults()
	if err := opts.Validate(); err != nil {
		panic(err)
	}
	fx, err := loadFixtures()
	if err != nil {
		panic(fmt.Sprintf("apiparticulier: %v", err))
	}
	s := &Server{
		opts:     opts,
		tokens:   make(map[string]Token, len(opts.Tokens)),
		fixtures: fx,
		communes: communes(),
		cache:    newResponseCache(opts.CacheTTL, opts.CacheSize),
	}
	for _, t := range opts.Tokens {
		s.tokens[t.Value] = t
	}
	if s.opts.FranceConnect == nil {
		s.opts.FranceConnect = s.sandboxCitizen
	}
	s.data = newDataset(slices.Concat(opts.Households, fx.households), fx.queries)

	handlers := map[string]http.Handler{
		"france_travail.statut":     http.HandlerFunc(s.franceTravailStatut),
		"france_travail.indemnites": http.HandlerFunc(s.franceTravailIndemnites),
	}
	for _, b := range benefits() {
		handlers[operationID(b, false)] = s.dssHandler(b, false)
		handlers[operationID(b, true)] = s.dssHandler(b, true)
	}
	// The platform sends RateLimit-Reset as the Unix time the window ends.
	var rl, ipRL platform.RateLimit
	if opts.RateLimit > 0 {
		rl = platform.RateLimit{Limit: opts.RateLimit, Window: time.Second, ResetFormat: platform.ResetUnix}
	}
	if opts.IPRateLimit > 0 {
		ipRL = platform.RateLimit{Limit: opts.IPRateLimit, Window: time.Minute, ResetFormat: platform.ResetUnix}
	}
	s.rt = platform.New(platform.Config{
		Name:             Name,
		Contract:         apiparticuliercontract.Spec(),
		Operations:       handlers,
		Errors:           s.writeProblem,
		AuthenticateFunc: s.authenticate,
		RateLimit:        rl,
		IPRateLimit:      ipRL,
		Now:              opts.Now,
		Seed:             opts.Seed,
		OnReset:          s.resetState,
		Logger:           opts.Logger,
		Registry:         opts.Registry,
	})
	return s
}

// ServeHTTP implements http.Handler: the runtime's pipeline (control API
// under /_mock/, faults, per-IP rate limit, authentication, per-token rate
// limit, validation), then the operation's handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.rt.ServeHTTP(w, r)
}

// Platform is the shared runtime the mock runs on: faults, stats, reset,
// the control API.
func (s *Server) Platform() *platform.Server { return s.rt }

// Stats returns the runtime's counters.
func (s *Server) Stats() platform.Stats { return s.rt.Stats() }

// SetFaults sets the runtime's faults (see platform.Faults).
func (s *Server) SetFaults(f platform.Faults) error {
	if err := s.rt.SetFaults(f); err != nil {
		return fmt.Errorf("setting apiparticulier faults: %w", err)
	}
	return nil
}

// Reset clears the runtime's counters, faults and rate windows, the cache,
// and the households set by SetHousehold.
func (s *Server) Reset() { s.rt.Reset() }

// resetState is the runtime's OnReset: the mock's own state back to start.
func (s *Server) resetState() {
	s.cache.reset()
	s.mu.Lock()
	s.data = newDataset(slices.Concat(s.opts.Households, s.fixtures.households), s.fixtures.queries)
	s.mu.Unlock()
}

// SetHousehold adds h, or replaces the household with the same ID, as the
// CAF or MSA would update a file. Answers already in the cache are served
// unchanged until they expire, unless the caller sends
// `Cache-Control: no-cache`.
func (s *Server) SetHousehold(h Household) error {
	if err := h.Validate(); err != nil {
		return fmt.Errorf("setting a household: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	all := slices.Clone(s.data.households)
	if i := slices.IndexFunc(all, func(o Household) bool { return o.ID == h.ID }); i >= 0 {
		all[i] = h
	} else {
		all = append([]Household{h}, all...)
	}
	s.data = newDataset(all, s.fixtures.queries)
	return nil
}

// dataset returns the households in effect.
func (s *Server) dataset() *dataset {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.data
}

// sandboxCitizen is the default Options.FranceConnect.
func (s *Server) sandboxCitizen(_ context.Context, token string) (Citizen, bool) {
	c, ok := s.fixtures.citizens[token]
	return c, ok
}

// compile-time check: authenticate is the runtime's AuthenticateFunc.
var _ func(*http.Request, string) (string, any, *platform.Problem) = (*Server)(nil).authenticate

// authenticate is the runtime's Config.AuthenticateFunc. On the
// `/france_connect` routes the bearer is a FranceConnect access token:
// Options.FranceConnect resolves it to the Citizen, the principal the
// handler reads with platform.Principal, or it is refused (401 00101). On
// the other routes it is a platform token, checked for expiry, blacklisting
// and scope. The rate-limit key is the bearer.
func (s *Server) authenticate(r *http.Request, operationID string) (string, any, *platform.Problem) {
	tok := platform.BearerToken(r)
	if tok == "" {
		return "", nil, &platform.Problem{Kind: platform.KindUnauthorized, Detail: "No bearer token."}
	}
	if isFranceConnect(operationID) {
		c, ok := s.opts.FranceConnect(r.Context(), tok)
		if !ok {
			return "", nil, &platform.Problem{Kind: platform.KindUnauthorized, Detail: "FranceConnect does not know the access token."}
		}
		return "fc:" + tok, c, nil
	}
	switch k, ok := s.checkToken(tok); {
	case !ok:
		return "", nil, &platform.Problem{Kind: platform.KindUnauthorized, Detail: "The token is unknown, expired or blacklisted."}
	case k.Scopes != nil && !slices.Contains(k.Scopes, operationID):
		return "", nil, &platform.Problem{Kind: platform.KindForbidden, Detail: "The token may not call this operation."}
	}
	return "token:" + tok, nil, nil
}

// isFranceConnect reports whether an operation is a `/france_connect`
// route, whose bearer is a FranceConnect access token.
func isFranceConnect(operationID string) bool {
	return strings.HasSuffix(operationID, ".france_connect")
}

// checkToken returns the token if it is known, unexpired and not
// blacklisted.
func (s *Server) checkToken(tok string) (Token, bool) {
	t, ok := s.tokens[tok]
	if !ok || t.Blacklisted || (!t.ExpiresAt.IsZero() && !s.opts.Now().Before(t.ExpiresAt)) {
		return Token{}, false
	}
	return t, true
}

// tokenErrorKind says why the bearer of r was refused by operationID: a
// FranceConnect access token is only ever unknown.
func (s *Server) tokenErrorKind(r *http.Request, operationID string) errorKind {
	t, ok := s.tokens[platform.BearerToken(r)]
	switch {
	case !ok, isFranceConnect(operationID):
		return errInvalidToken
	case t.Blacklisted:
		return errBlacklistedToken
	case !t.ExpiresAt.IsZero() && !s.opts.Now().Before(t.ExpiresAt):
		return errExpiredToken
	}
	return errInvalidToken
}
