package tddui

import (
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	tdduicontract "github.com/relais-dev/relais/contracts/tddui"
	"github.com/relais-dev/relais/mocks/platform"
)

// The operationIds of the contract.
const (
	opTransaction = "bundle.transaction"
	opTaskRead    = "task.read"
)

// Options configures a Server. The zero value is usable: every field has a
// default, applied by WithDefaults.
type Options struct {
	// Token is the bearer token the establishment was given.
	// Default "relais-tddui-sandbox-token".
	Token string
	// ProcessingDelay is how long the receiver takes to process a
	// submission, by Now: its Task is received, in-progress from half the
	// delay, then completed or rejected. Default 10s.
	ProcessingDelay time.Duration
	// RateLimit is the limit per token; zero means none (the real
	// receiver's limits are unknown).
	RateLimit platform.RateLimit
	// Now is the clock for processing, timestamps and outage windows.
	// Default time.Now.
	Now func() time.Time
	// Seed seeds the fault randomness so a run repeats. Default 1.
	Seed int64
	// Logger, when set, receives a warning for every answer of the mock
	// that breaks the contract. Default: no logging.
	Logger *slog.Logger
}

// Option defaults.
const (
	DefaultToken           = tdduicontract.MockToken
	DefaultProcessingDelay = 10 * time.Second
	DefaultSeed            = 1
)

// WithDefaults returns o with every zero field set to its default.
func (o Options) WithDefaults() Options {
	if o.Token == "" {
		o.Token = DefaultToken
	}
	if o.ProcessingDelay == 0 {
		o.ProcessingDelay = DefaultProcessingDelay
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
	case o.ProcessingDelay < 0:
		return fmt.Errorf("tddui: Options.ProcessingDelay is negative (%s)", o.ProcessingDelay)
	case o.RateLimit.Limit < 0:
		return fmt.Errorf("tddui: Options.RateLimit.Limit is negative (%d)", o.RateLimit.Limit)
	case o.RateLimit.Window < 0:
		return fmt.Errorf("tddui: Options.RateLimit.Window is negative (%s)", o.RateLimit.Window)
	}
	return nil
}

// Server is the mock TDDUI receiver. It is an http.Handler, safe for
// concurrent use.
type Server struct {
	opts Options
	rt   *platform.Server

	mu     sync.Mutex
	state  *state
	perKey map[string]int // Idempotency-Key -> Bundles stored

	submissions, duplicates atomic.Int64
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
		Name:     tdduicontract.Name,
		Contract: tdduicontract.Spec(),
		Operations: map[string]http.Handler{
			opTransaction: http.HandlerFunc(s.transaction),
			opTaskRead:    http.HandlerFunc(s.readTask),
		},
		Errors:       writeError,
		Authenticate: platform.StaticToken(opts.Token, "The bearer token is missing or unknown."),
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

// Reset forgets every submission but the sandbox ones, and resets the
// runtime (counters, faults, stored idempotent answers).
func (s *Server) Reset() { s.rt.Reset() }

// Counts are the receiver's own counters since start or the last reset.
type Counts struct {
	// Submissions counts the Bundles stored (the sandbox ones excluded).
	Submissions int64
	// Duplicates counts the Bundles answered again because their
	// identifier was already received with the same content. Replays by
	// Idempotency-Key are in Stats().Duplicates.
	Duplicates int64
	// Resources counts the distinct resources held, by business identifier.
	Resources int
	// Replacements counts the Bundles stored as a higher version of a
	// Bundle.identifier already received (they are in Submissions too).
	Replacements int64
}

// Counts returns the receiver's counters.
func (s *Server) Counts() Counts {
	s.mu.Lock()
	n, r := len(s.state.resources), s.state.replacements
	s.mu.Unlock()
	return Counts{Submissions: s.submissions.Load(), Duplicates: s.duplicates.Load(), Resources: n, Replacements: r}
}

// StoredPerIdentifier counts the Bundles stored under each
// Bundle.identifier value (one per version; replays and refusals excluded),
// the sandbox ones excluded, since start or the last reset.
func (s *Server) StoredPerIdentifier() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for _, history := range s.state.byIdentifier {
		for _, sub := range history {
			if sub.sandbox {
				continue
			}
			out[sub.identifier.Value]++
		}
	}
	return out
}

// StoredPerKey counts the Bundles stored under each Idempotency-Key since
// start or the last reset: a replay that stored anything shows as 2.
func (s *Server) StoredPerKey() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.perKey)
}

// reset puts the state back to the sandbox submissions.
func (s *Server) reset() {
	st := newState()
	for _, f := range sandboxFixtures {
		body, err := fixtureFiles.ReadFile(f.file)
		if err != nil {
			panic(fmt.Sprintf("tddui: reading %s: %v", f.file, err)) // embedded: a build defect
		}
		if _, ok := st.submit(body, sandboxReceived, f.task, s.opts.ProcessingDelay); !ok {
			panic(fmt.Sprintf("tddui: %s is refused", f.file)) // a fixture defect, caught by the tests
		}
	}
	s.mu.Lock()
	s.state = st
	s.perKey = map[string]int{}
	s.mu.Unlock()
	s.submissions.Store(0)
	s.duplicates.Store(0)
}
