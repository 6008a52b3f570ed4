package francetravail

import (
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	francetravailcontract "github.com/relais-dev/relais/contracts/francetravail"
	"github.com/relais-dev/relais/mocks/platform"
)

// The operationIds of the contract.
const (
	opToken          = "token"
	opSearchByNIR    = "usagers.search_by_nir"
	opSearchByNumber = "usagers.search_by_number"
	opRegistration   = "situation.registration"
	opPayments       = "situation.payments"
)

// Options configures a Server. The zero value is usable: every field has a
// default, applied by WithDefaults.
type Options struct {
	// Clients are the applications accepted at the token endpoint: client
	// id -> client secret. Default: "PAR_relais_sandbox" with the secret
	// "relais-sandbox-secret".
	Clients map[string]string
	// TokenTTL is the lifetime of an access token, measured by Now.
	// Default 1499s (about 25 minutes).
	TokenTTL time.Duration
	// PersonTokenTTL is the lifetime of a person token (jetonUsager) issued
	// by a search, measured by Now. Default 30m.
	PersonTokenTTL time.Duration
	// RateLimit is the limit per application (all its tokens together).
	// Default 10 requests per second; a negative Limit disables it. The
	// token endpoint is not limited.
	RateLimit platform.RateLimit
	// Persons are the persons France Travail knows. Default: the sandbox
	// persons (SandboxPersons).
	Persons []Person
	// Now is the clock for token expiry, registrations, rate limits and
	// outage windows. Default time.Now.
	Now func() time.Time
	// Seed seeds the fault randomness so a run repeats. Default 1.
	Seed int64
	// Logger, when set, receives a warning for every answer of the mock
	// that breaks the contract. Default: no logging.
	Logger *slog.Logger
}

// Option defaults.
const (
	DefaultClientID       = francetravailcontract.MockClientID
	DefaultClientSecret   = francetravailcontract.MockClientSecret
	DefaultTokenTTL       = 1499 * time.Second
	DefaultPersonTokenTTL = 30 * time.Minute
	DefaultRateLimit      = 10
	DefaultSeed           = 1
)

// WithDefaults returns o with every zero field set to its default.
func (o Options) WithDefaults() Options {
	if o.Clients == nil {
		o.Clients = map[string]string{DefaultClientID: DefaultClientSecret}
	}
	if o.TokenTTL == 0 {
		o.TokenTTL = DefaultTokenTTL
	}
	if o.PersonTokenTTL == 0 {
		o.PersonTokenTTL = DefaultPersonTokenTTL
	}
	switch {
	case o.RateLimit.Limit == 0:
		o.RateLimit = platform.RateLimit{Limit: DefaultRateLimit, Window: time.Second}
	case o.RateLimit.Limit < 0:
		o.RateLimit = platform.RateLimit{}
	case o.RateLimit.Window == 0:
		o.RateLimit.Window = time.Second
	}
	if o.Persons == nil {
		o.Persons = SandboxPersons()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Seed == 0 {
		o.Seed = DefaultSeed
	}
	return o
}

// Validate names the first invalid field of o.
func (o Options) Validate() error {
	switch {
	case o.TokenTTL < 0:
		return fmt.Errorf("francetravail: Options.TokenTTL is negative (%s)", o.TokenTTL)
	case o.PersonTokenTTL < 0:
		return fmt.Errorf("francetravail: Options.PersonTokenTTL is negative (%s)", o.PersonTokenTTL)
	case o.RateLimit.Window < 0:
		return fmt.Errorf("francetravail: Options.RateLimit.Window is negative (%s)", o.RateLimit.Window)
	}
	for id, secret := range o.Clients {
		if id == "" || secret == "" {
			return fmt.Errorf("francetravail: Options.Clients has an empty client id or secret (client %q)", id)
		}
	}
	seen := map[string]bool{}
	for i, p := range o.Persons {
		if p.Number == "" || seen[p.Number] {
			return fmt.Errorf("francetravail: Options.Persons[%d].Number %q is empty or repeated", i, p.Number)
		}
		seen[p.Number] = true
		if _, err := nirBase(p.NIR); err != nil || len(p.NIR) != 15 {
			return fmt.Errorf("francetravail: Options.Persons[%d].NIR is not a 15-character NIR with a valid key", i)
		}
		if _, err := time.Parse(time.DateOnly, p.BirthDate); err != nil {
			return fmt.Errorf("francetravail: Options.Persons[%d].BirthDate: %w", i, err)
		}
	}
	return nil
}

// Server is the mock France Travail. It is an http.Handler, safe for
// concurrent use.
type Server struct {
	opts    Options
	persons []Person
	rt      *platform.Server

	tokens platform.Tokens[grant] // access token -> grant

	mu     sync.Mutex
	jetons map[string]personGrant // person token -> person

	tokensIssued, personTokensIssued atomic.Int64
}

// grant is what an access token stands for.
type grant struct {
	clientID string
	scopes   map[string]bool
}

// personGrant is what a person token stands for.
type personGrant struct {
	person   int    // index in Server.persons
	clientID string // "" for a sandbox token: every application
	expires  time.Time
}

// New returns a Server configured by opts (defaults applied). It panics if
// opts is invalid, which is a programming error in a test.
func New(opts Options) *Server {
	opts = opts.WithDefaults()
	if err := opts.Validate(); err != nil {
		panic(err)
	}
	s := &Server{opts: opts, persons: clonePersons(opts.Persons)}
	s.reset()
	s.rt = platform.New(platform.Config{
		Name:     francetravailcontract.Name,
		Contract: francetravailcontract.Spec(),
		Operations: map[string]http.Handler{
			opToken:          http.HandlerFunc(s.token),
			opSearchByNIR:    http.HandlerFunc(s.searchByNIR),
			opSearchByNumber: http.HandlerFunc(s.searchByNumber),
			opRegistration:   http.HandlerFunc(s.registration),
			opPayments:       http.HandlerFunc(s.payments),
		},
		Errors:           writeError,
		AuthenticateFunc: s.authenticate,
		RateLimit:        opts.RateLimit,
		Now:              opts.Now,
		Seed:             opts.Seed,
		OnReset:          s.reset,
		Logger:           opts.Logger,
	})
	return s
}

// compile-time check: a Server is a handler.
var _ http.Handler = (*Server)(nil)

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.rt.ServeHTTP(w, r)
}

// Platform returns the shared runtime serving the mock, for faults, stats
// and reset.
func (s *Server) Platform() *platform.Server { return s.rt }

// Stats returns the runtime's counters.
func (s *Server) Stats() platform.Stats { return s.rt.Stats() }

// Reset forgets every token and person token issued, and resets the
// runtime (counters, faults, rate windows).
func (s *Server) Reset() { s.rt.Reset() }

// Issued returns how many access tokens and person tokens were issued since
// start or the last reset.
func (s *Server) Issued() (tokens, personTokens int64) {
	return s.tokensIssued.Load(), s.personTokensIssued.Load()
}

// reset clears the handlers' state: tokens go, the sandbox person tokens
// stay.
func (s *Server) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens.Reset()
	s.jetons = map[string]personGrant{}
	for i, p := range s.persons {
		if p.SandboxToken != "" {
			s.jetons[p.SandboxToken] = personGrant{person: i}
		}
	}
	s.tokensIssued.Store(0)
	s.personTokensIssued.Store(0)
}

// PlatformLatency returns faults that make the mock as slow as the real
// platform is reported to be: a lognormal latency of median 2s whose 99th
// percentile is 25s, on every operation. The mock answers at once by
// default; set these with Platform().SetFaults to test a client's timeouts.
func PlatformLatency() platform.Faults {
	return platform.Faults{Rules: []platform.Rule{{
		Latency: &platform.Latency{
			Distribution: platform.DistLognormal,
			Median:       platform.Duration(2 * time.Second),
			P99:          platform.Duration(25 * time.Second),
		},
	}}}
}
