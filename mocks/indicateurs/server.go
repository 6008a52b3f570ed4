package indicateurs

import (
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"sync"
	"time"

	indicateurscontract "github.com/relais-dev/relais/contracts/indicateurs"
	"github.com/relais-dev/relais/mocks/platform"
)

// The operationIds of the contract.
const (
	opSubmit = "reports.submit"
	opList   = "reports.list"
)

// Options configures a Server. The zero value is usable: every field has a
// default, applied by WithDefaults.
type Options struct {
	// Token is the API key given to Relais, sent as a bearer token.
	// Default "relais-indicateurs-sandbox-key".
	Token string
	// RateLimit is the limit per key; zero means none (the real one is
	// unknown).
	RateLimit platform.RateLimit
	// Now is the clock for receipts and outage windows. Default time.Now.
	Now func() time.Time
	// Seed seeds the fault randomness so a run repeats. Default 1.
	Seed int64
	// Logger, when set, receives a warning for every answer of the mock
	// that breaks the contract. Default: no logging.
	Logger *slog.Logger
}

// Option defaults.
const (
	DefaultToken = indicateurscontract.MockToken
	DefaultSeed  = 1
)

// WithDefaults returns o with every zero field set to its default.
func (o Options) WithDefaults() Options {
	if o.Token == "" {
		o.Token = DefaultToken
	}
	if o.RateLimit.Limit > 0 && o.RateLimit.Window == 0 {
		o.RateLimit.Window = time.Second
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
	case o.RateLimit.Limit < 0:
		return fmt.Errorf("indicateurs: Options.RateLimit.Limit is negative (%d)", o.RateLimit.Limit)
	case o.RateLimit.Window < 0:
		return fmt.Errorf("indicateurs: Options.RateLimit.Window is negative (%s)", o.RateLimit.Window)
	}
	return nil
}

// Server is the mock indicator report endpoint. It is an http.Handler,
// safe for concurrent use.
type Server struct {
	opts Options
	rt   *platform.Server

	mu      sync.Mutex
	reports map[string][]*version // finess/year -> versions, oldest first
	seq     map[int]int           // year -> last receipt number given
	perKey  map[string]int        // Idempotency-Key -> versions stored
	counts  Counts
}

// New returns a Server configured by opts (defaults applied). It panics if
// opts is invalid, which is a programming error in a test.
func New(opts Options) *Server {
	opts = opts.WithDefaults()
	if err := opts.Validate(); err != nil {
		panic(err)
	}
	s := &Server{opts: opts}
	s.reset()
	s.rt = platform.New(platform.Config{
		Name:     indicateurscontract.Name,
		Contract: indicateurscontract.Spec(),
		Operations: map[string]http.Handler{
			opSubmit: http.HandlerFunc(s.submit),
			opList:   http.HandlerFunc(s.list),
		},
		Errors:       problems.WriteRefusal,
		Authenticate: platform.StaticToken(opts.Token, "The API key is missing or unknown."),
		RateLimit:    opts.RateLimit,
		Now:          opts.Now,
		Seed:         opts.Seed,
		OnReset:      s.reset,
		Logger:       opts.Logger,
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

// Reset forgets every report but the sandbox's, and resets the runtime
// (counters, faults, stored idempotent answers).
func (s *Server) Reset() { s.rt.Reset() }

// Counts are the endpoint's own counters since start or the last reset
// (the sandbox report excluded).
type Counts struct {
	// Stored counts the versions stored.
	Stored int64
	// Replacements counts the versions stored that superseded another.
	Replacements int64
	// Replays counts the submissions answered with the receipt of a
	// version already received (the same content). Replays by
	// Idempotency-Key are in Stats().Duplicates.
	Replays int64
}

// Counts returns the endpoint's counters.
func (s *Server) Counts() Counts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts
}

// StoredPerKey counts the versions stored under each Idempotency-Key
// since start or the last reset: a replay that stored anything shows as 2.
func (s *Server) StoredPerKey() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.perKey)
}

// Versions returns the versions held of the report of finess for year,
// oldest first (none when it was never received).
func (s *Server) Versions(finess string, year int) []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []int
	for _, v := range s.reports[reportKey(finess, year)] {
		out = append(out, v.version)
	}
	return out
}

// reset puts the state back to the sandbox report.
func (s *Server) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reports = map[string][]*version{}
	s.seq = map[int]int{}
	s.perKey = map[string]int{}
	for _, f := range sandbox {
		s.store(f.finess, f.year, f.version, []byte(f.body), f.at)
	}
	s.counts = Counts{}
}
