package coffrefort

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	coffrefortcontract "github.com/relais-dev/relais/contracts/coffrefort"
	"github.com/relais-dev/relais/mocks/platform"
)

// Name is the platform's stable name, in stats, metrics and `relais mocks`.
const Name = coffrefortcontract.Name

// Options configures a Server. The zero value is usable: every field has a
// default, applied by WithDefaults.
type Options struct {
	// ClientID is the only client accepted at the token endpoint; it is also
	// the deposited_by of the documents. Default "relais-sandbox".
	ClientID string
	// ClientSecret is the secret of ClientID. Default "relais-sandbox-secret".
	ClientSecret string
	// TokenTTL is the lifetime of an access token, measured by Now.
	// Default 1h.
	TokenTTL time.Duration
	// MaxFileSize is the largest document accepted, in bytes; larger uploads
	// get 413. Default 50 MiB.
	MaxFileSize int64
	// RateLimit is the limit per access token (the token endpoint: per
	// client address). Default: none, as the safe publishes none.
	RateLimit platform.RateLimit
	// Now is the clock for token expiry, outage windows, rate limits and
	// timestamps. Default time.Now.
	Now func() time.Time
	// Seed seeds the random source of the faults (error rate, statuses,
	// latency), so a run is repeatable. Default 1.
	Seed int64
	// LogLimit bounds Log: only the last LogLimit requests are kept.
	// Default 200,000.
	LogLimit int
	// Logger, when set, receives a warning for every answer of the mock
	// that breaks the contract. Default: none.
	Logger *slog.Logger
	// Sandbox preloads the beneficiary and the document of the contract's
	// examples (ids 42 and 1337), as created with the Idempotency-Key
	// example, so that every operation's documented examples succeed; new
	// ones get the other ids. Default: an empty safe.
	Sandbox bool
}

// Option defaults.
const (
	DefaultClientID     = "relais-sandbox"
	DefaultClientSecret = "relais-sandbox-secret"
	DefaultTokenTTL     = time.Hour
	DefaultMaxFileSize  = 50 << 20
	DefaultSeed         = 1
	DefaultLogLimit     = 200_000
)

// WithDefaults returns o with every zero field set to its default.
func (o Options) WithDefaults() Options {
	if o.ClientID == "" {
		o.ClientID = DefaultClientID
	}
	if o.ClientSecret == "" {
		o.ClientSecret = DefaultClientSecret
	}
	if o.TokenTTL == 0 {
		o.TokenTTL = DefaultTokenTTL
	}
	if o.MaxFileSize == 0 {
		o.MaxFileSize = DefaultMaxFileSize
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Seed == 0 {
		o.Seed = DefaultSeed
	}
	if o.LogLimit == 0 {
		o.LogLimit = DefaultLogLimit
	}
	return o
}

// Validate names the first invalid field of o.
func (o Options) Validate() error {
	switch {
	case o.TokenTTL < 0:
		return fmt.Errorf("coffrefort: Options.TokenTTL is negative (%s)", o.TokenTTL)
	case o.MaxFileSize < 0:
		return fmt.Errorf("coffrefort: Options.MaxFileSize is negative (%d)", o.MaxFileSize)
	case o.LogLimit < 0:
		return fmt.Errorf("coffrefort: Options.LogLimit is negative (%d)", o.LogLimit)
	case o.RateLimit.Limit < 0 || o.RateLimit.Window < 0:
		return fmt.Errorf("coffrefort: Options.RateLimit is negative (%+v)", o.RateLimit)
	}
	return nil
}

// Server is the mock digital safe: an http.Handler, safe for concurrent
// use.
type Server struct {
	opts Options
	rt   *platform.Server
	ix   contractIndex
	// routes names the operation of a request for the log, whatever
	// answered it (a handler, the runtime, or nobody).
	routes    *http.ServeMux
	byPattern map[string]string

	// sandbox, when Options.Sandbox is set, is seeded into every new state.
	sandbox *sandbox

	mu    sync.RWMutex
	state *state

	// bufs pools the buffers uploads stream through.
	bufs sync.Pool

	logMu    sync.Mutex
	log      []LogEntry
	logStart int // index of the oldest entry once log is full

	tokensIssued, duplicates, violations atomic.Int64
}

// compile-time check: a Server is a handler.
var _ http.Handler = (*Server)(nil)

// New returns a Server configured by opts (defaults applied). It panics if
// opts is invalid, which is a programming error in a test.
func New(opts Options) *Server {
	opts = opts.WithDefaults()
	if err := opts.Validate(); err != nil {
		panic(err)
	}
	s := &Server{opts: opts, routes: http.NewServeMux(), byPattern: map[string]string{}}
	handlers := make(map[string]http.Handler, len(operations))
	for id, op := range operations {
		handlers[id] = s.handler(id, op)
	}
	s.rt = platform.New(platform.Config{
		Name:             Name,
		Contract:         coffrefortcontract.Spec(),
		Operations:       handlers,
		Errors:           s.writeError,
		AuthenticateFunc: s.authenticate,
		RateLimit:        opts.RateLimit,
		MaxBody:          s.maxBody(),
		Now:              opts.Now,
		Seed:             opts.Seed,
		OnReset:          s.reset,
		Logger:           opts.Logger,
	})
	ix, err := indexContract(s.rt.Contract())
	if err != nil {
		panic(fmt.Sprintf("coffrefort: %v", err))
	}
	s.ix = ix
	if opts.Sandbox {
		if s.sandbox, err = loadSandbox(s.rt.Contract()); err != nil {
			panic(fmt.Sprintf("coffrefort: %v", err))
		}
	}
	s.state = s.newState()
	for path, item := range s.rt.Contract().Paths.Map() {
		for method, o := range item.Operations() {
			pattern := method + " " + path
			s.routes.Handle(pattern, http.NotFoundHandler())
			s.byPattern[pattern] = o.OperationID
		}
	}
	return s
}

// maxBody bounds request bodies: the largest file plus room for the other
// parts, headers and boundaries.
func (s *Server) maxBody() int64 { return s.opts.MaxFileSize + multipartOverhead }

// controlPrefix is the runtime's control API (mocks/platform), served as
// is: never logged.
const controlPrefix = "/_mock/"

// ServeHTTP implements http.Handler: the runtime serves the request, and
// the mock logs it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, controlPrefix) {
		s.rt.ServeHTTP(w, r)
		return
	}
	tr := &trace{}
	rec := &recorder{ResponseWriter: w, trace: tr}
	e := LogEntry{At: s.opts.Now(), Method: r.Method, Route: s.routeOf(r), IdempotencyKey: r.Header.Get(headerIdempotencyKey)}
	r = r.WithContext(context.WithValue(r.Context(), traceKey{}, tr))
	aborted := true
	// Truncation and the end of a hang abort the connection with a panic
	// (http.ErrAbortHandler) that must reach net/http: it is logged on its
	// way, not recovered.
	defer func() { s.record(e, r, tr, rec, aborted) }()
	s.rt.ServeHTTP(rec, r)
	aborted = false
}

// routeOf is the operationId of r's method and path, "unknown" for none.
func (s *Server) routeOf(r *http.Request) string {
	if _, pattern := s.routes.Handler(r); pattern != "" {
		if id, ok := s.byPattern[pattern]; ok {
			return id
		}
	}
	return routeUnknown
}

// Platform returns the shared runtime serving the mock: its contract,
// faults, stats and reset.
func (s *Server) Platform() *platform.Server { return s.rt }

// SetFaults validates f against the contract's operations and makes it the
// active fault configuration (see platform.Server.SetFaults).
func (s *Server) SetFaults(f platform.Faults) error {
	if err := s.rt.SetFaults(f); err != nil {
		return fmt.Errorf("setting faults of the mock safe: %w", err)
	}
	return nil
}

// Faults returns the active fault configuration.
func (s *Server) Faults() platform.Faults { return s.rt.Faults() }

// Operations lists the contract's operationIds, sorted: the names of
// LogEntry.Route, Stats.ByRoute and platform.Rule.Operations.
func (s *Server) Operations() []string { return s.rt.Operations() }

// newState is an empty safe, or the sandbox.
func (s *Server) newState() *state {
	st := newState()
	if s.sandbox != nil {
		s.sandbox.seed(st)
	}
	return st
}

// Reset forgets all state (tokens, beneficiaries, documents, idempotency
// keys; back to the sandbox when Options.Sandbox is set), the faults, the
// counters and the log, and reseeds the fault random source. Requests in flight finish against the old state.
func (s *Server) Reset() { s.rt.Reset() }

// reset clears the mock's own state; the runtime calls it on Reset.
func (s *Server) reset() {
	st := s.newState()
	s.mu.Lock()
	s.state = st
	s.mu.Unlock()

	s.logMu.Lock()
	s.log, s.logStart = nil, 0
	s.logMu.Unlock()

	for _, c := range []*atomic.Int64{&s.tokensIssued, &s.duplicates, &s.violations} {
		c.Store(0)
	}
}

// Stats are the mock's counters: the runtime's and the safe's own.
type Stats struct {
	// Requests counts API requests (control requests excluded).
	Requests int64 `json:"requests"`
	// ByRoute counts requests per operationId; requests no operation
	// matched count in Requests only.
	ByRoute map[string]int64 `json:"by_route"`
	// Injected counts the faults injected, by kind: latency, error, hang,
	// truncate, malformed, drift, outage.
	Injected map[string]int64 `json:"injected"`
	// ContractViolations counts requests the contract forbids: unknown
	// paths or methods, requests its schemas refuse, and bodies over the
	// limits it states. Authentication, scope, conflict, not-found and
	// business validation (an unknown beneficiary) are outcomes, not
	// violations.
	ContractViolations int64 `json:"contract_violations"`
	// ResponseViolations counts answers of the mock that break the
	// contract: a bug of the mock, always 0 in its tests.
	ResponseViolations int64 `json:"response_violations"`
	// RateLimited counts requests refused by Options.RateLimit.
	RateLimited int64 `json:"rate_limited"`
	// TokensIssued counts access tokens granted.
	TokensIssued int64 `json:"tokens_issued"`
	// Beneficiaries and Documents are how many exist now.
	Beneficiaries int64 `json:"beneficiaries"`
	Documents     int64 `json:"documents"`
	// DuplicateRequests counts replays of an already processed
	// Idempotency-Key.
	DuplicateRequests int64 `json:"duplicate_requests"`
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	rt := s.rt.Stats()
	st := Stats{
		Requests:           rt.Requests,
		ByRoute:            rt.ByOperation,
		Injected:           rt.Injected,
		ContractViolations: rt.Violations + s.violations.Load(),
		ResponseViolations: rt.ResponseViolations,
		RateLimited:        rt.RateLimited,
		TokensIssued:       s.tokensIssued.Load(),
		DuplicateRequests:  s.duplicates.Load() + rt.Duplicates,
	}
	s.mu.RLock()
	st.Beneficiaries = int64(len(s.state.beneficiaries))
	st.Documents = int64(len(s.state.documents))
	s.mu.RUnlock()
	return st
}
