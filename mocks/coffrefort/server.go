package coffrefort

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

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
	// Now is the clock for token expiry, outage windows and timestamps.
	// Default time.Now.
	Now func() time.Time
	// Seed seeds the random source of the faults (error rate, statuses,
	// jitter), so a run is repeatable. Default 1.
	Seed int64
	// LogLimit bounds Log: only the last LogLimit requests are kept.
	// Default 200,000.
	LogLimit int
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
	}
	return nil
}

// Server is the mock digital safe. It is safe for concurrent use.
type Server struct {
	opts Options
	mux  *http.ServeMux

	// faults is the active fault configuration; nil means none.
	faults atomic.Pointer[faultState]
	rngMu  sync.Mutex
	rng    *rand.Rand

	mu    sync.RWMutex
	state *state

	// bufs pools the buffers uploads stream through.
	bufs sync.Pool

	logMu    sync.Mutex
	log      []LogEntry
	logStart int // index of the oldest entry once log is full

	requests, injected, tokensIssued, duplicates, violations atomic.Int64
	byRoute                                                  [numRoutes]atomic.Int64

	// latencyHook, when set (by tests), is called as a latency fault starts
	// waiting.
	latencyHook func()
}

// New returns a Server configured by opts (defaults applied). It panics if
// opts is invalid, which is a programming error in a test.
func New(opts Options) *Server {
	opts = opts.WithDefaults()
	if err := opts.Validate(); err != nil {
		panic(err)
	}
	s := &Server{
		opts:  opts,
		mux:   http.NewServeMux(),
		rng:   newRand(opts.Seed),
		state: newState(),
	}
	s.routes()
	return s
}

func newRand(seed int64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), 0x636f66666572)) //nolint:gosec // a repeatable fault source, not a secret
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}

// routes registers every pattern: one per operation, one per known path
// answering 405 to the other methods, a catch-all for unknown /api paths and
// the control API.
func (s *Server) routes() {
	paths := map[string][]string{}
	for id := range routeUnknown {
		rt := &routeTable[id]
		s.mux.Handle(rt.method+" "+rt.path, s.api(id))
		paths[rt.path] = append(paths[rt.path], rt.method)
	}
	for path, methods := range paths {
		s.mux.Handle(path, s.methodNotAllowed(strings.Join(methods, ", ")))
	}
	s.mux.Handle("/api/", s.api(routeUnknown))

	s.mux.HandleFunc("GET /__control/faults", s.controlGetFaults)
	s.mux.HandleFunc("PUT /__control/faults", s.controlPutFaults)
	s.mux.HandleFunc("DELETE /__control/faults", s.controlDeleteFaults)
	s.mux.HandleFunc("GET /__control/stats", s.controlStats)
	s.mux.HandleFunc("POST /__control/reset", s.controlReset)
}

// call is what serve knows of a request before the route's handler runs.
type call struct {
	r        *http.Request
	now      time.Time
	clientID string
	key      string // Idempotency-Key
}

// reply is a response before it is written; it is kept as is for replays.
type reply struct {
	status      int
	contentType string
	body        []byte
	retryAfter  string
	allow       string
	challenge   bool // add WWW-Authenticate: Bearer
	replayed    bool
}

func (s *Server) api(id routeID) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.serve(w, r, id, "")
	})
}

func (s *Server) methodNotAllowed(allow string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.serve(w, r, routeUnknown, allow)
	})
}

// statusClientClosed is logged for a request whose client gave up while a
// latency fault held it (nginx's convention); nothing is written.
const statusClientClosed = 499

// serve is the pipeline every /api request goes through.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, id routeID, allow string) {
	rt := &routeTable[id]
	c := call{r: r, now: s.opts.Now(), key: r.Header.Get(headerIdempotencyKey)}
	s.requests.Add(1)
	s.byRoute[id].Add(1)

	var rp reply
	injected := false
	if fs := s.faults.Load(); fs != nil && fs.applies(id) {
		if err := s.delay(r.Context(), fs); err != nil {
			s.record(r, id, c, reply{status: statusClientClosed}, false)
			return
		}
		if status, retryAfter, ok := s.inject(fs, c.now); ok {
			rp = injectedReply(status, retryAfter)
			injected = true
		}
	}
	if !injected {
		rp = s.process(rt, id, &c, allow)
	}

	h := w.Header()
	if rp.contentType != "" {
		h["Content-Type"] = []string{rp.contentType}
	}
	if rp.retryAfter != "" {
		h["Retry-After"] = []string{rp.retryAfter}
	}
	if rp.allow != "" {
		h["Allow"] = []string{rp.allow}
	}
	if rp.challenge {
		h["Www-Authenticate"] = []string{"Bearer"}
	}
	if rp.replayed {
		h[headerReplayed] = []string{"true"}
	}
	w.WriteHeader(rp.status)
	_, _ = w.Write(rp.body) // the client may be gone; nothing to do about it
	s.record(r, id, c, rp, injected)
}

// process runs everything after fault injection: authentication, scope,
// deduplication and the route's handler.
func (s *Server) process(rt *route, id routeID, c *call, allow string) reply {
	if id == routeUnknown {
		s.violations.Add(1)
		if allow != "" {
			rp := problemReply(http.StatusMethodNotAllowed, fmt.Sprintf("No route found for %q: method not allowed (allow: %s).", c.r.Method+" "+c.r.URL.Path, allow))
			rp.allow = allow
			return rp
		}
		return problemReply(http.StatusNotFound, fmt.Sprintf("No route found for %q.", c.r.Method+" "+c.r.URL.Path))
	}
	if rt.scope != 0 {
		grant, rp, ok := s.authenticate(c.r, c.now)
		if !ok {
			return rp
		}
		if grant.scopes&rt.scope == 0 {
			return problemReply(http.StatusForbidden, fmt.Sprintf("The access token lacks the scope %q.", rt.scope.String()))
		}
		c.clientID = grant.clientID
	}
	if rt.idempotent && c.key != "" {
		return s.once(id, c, rt.handle)
	}
	return s.finish(rt.handle(s, c))
}

// finish counts contract violations in a handler's reply.
func (s *Server) finish(rp reply) reply {
	switch rp.status {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity:
		s.violations.Add(1)
	}
	return rp
}

// delay waits for the latency fault, or until ctx is done.
func (s *Server) delay(ctx context.Context, fs *faultState) error {
	d := fs.f.Latency
	if fs.f.LatencyJitter > 0 {
		s.rngMu.Lock()
		d += time.Duration(s.rng.Int64N(int64(fs.f.LatencyJitter) + 1))
		s.rngMu.Unlock()
	}
	if d <= 0 {
		return nil
	}
	if s.latencyHook != nil {
		s.latencyHook()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for injected latency: %w", ctx.Err())
	}
}

// record counts and logs a request once its answer is known.
func (s *Server) record(r *http.Request, id routeID, c call, rp reply, injected bool) {
	if injected {
		s.injected.Add(1)
	}
	if rp.replayed {
		s.duplicates.Add(1)
	}
	e := LogEntry{
		At:             c.now,
		Method:         r.Method,
		Route:          routeTable[id].name,
		IdempotencyKey: c.key,
		Status:         rp.status,
		RetryAfter:     rp.retryAfter,
		Injected:       injected,
	}
	s.logMu.Lock()
	if len(s.log) < s.opts.LogLimit {
		s.log = append(s.log, e)
	} else if s.opts.LogLimit > 0 {
		s.log[s.logStart] = e
		s.logStart = (s.logStart + 1) % len(s.log)
	}
	s.logMu.Unlock()
}

// Reset forgets all state (tokens, beneficiaries, documents, idempotency
// keys), the faults, the counters and the log, and reseeds the fault random
// source. Requests in flight finish against the old state.
func (s *Server) Reset() {
	s.faults.Store(nil)
	s.rngMu.Lock()
	s.rng = newRand(s.opts.Seed)
	s.rngMu.Unlock()

	s.mu.Lock()
	s.state = newState()
	s.mu.Unlock()

	s.logMu.Lock()
	s.log, s.logStart = nil, 0
	s.logMu.Unlock()

	for _, c := range []*atomic.Int64{&s.requests, &s.injected, &s.tokensIssued, &s.duplicates, &s.violations} {
		c.Store(0)
	}
	for i := range s.byRoute {
		s.byRoute[i].Store(0)
	}
}

// LogEntry is one /api request as the mock answered it.
type LogEntry struct {
	// At is the arrival time, by Options.Now.
	At time.Time
	// Method is the HTTP method.
	Method string
	// Route is the stable name of the operation: "token",
	// "beneficiaries.search", "beneficiaries.create",
	// "beneficiaries.external_link", "documents.create", "documents.list",
	// "documents.get", "documents.toggle_visibility", or "unknown" for a
	// path or method the API does not have.
	Route string
	// IdempotencyKey is the request's Idempotency-Key header, if any.
	IdempotencyKey string
	// Status is the status sent; 499 when the client gave up during a
	// latency fault and nothing was sent.
	Status int
	// RetryAfter is the Retry-After header sent, if any.
	RetryAfter string
	// Injected reports that the answer came from a fault, not from
	// processing.
	Injected bool
}

// Log returns the last requests (at most Options.LogLimit), in arrival
// order. Control requests are not logged.
func (s *Server) Log() []LogEntry {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	out := make([]LogEntry, 0, len(s.log))
	out = append(out, s.log[s.logStart:]...)
	return append(out, s.log[:s.logStart]...)
}

// Stats are the mock's counters, as served by GET /__control/stats.
type Stats struct {
	// Requests counts /api requests (control requests excluded).
	Requests int64 `json:"requests"`
	// Injected counts answers that came from a fault.
	Injected int64 `json:"injected"`
	// TokensIssued counts access tokens granted.
	TokensIssued int64 `json:"tokens_issued"`
	// Beneficiaries and Documents are how many exist now.
	Beneficiaries int64 `json:"beneficiaries"`
	Documents     int64 `json:"documents"`
	// DuplicateRequests counts replays of an already processed
	// Idempotency-Key.
	DuplicateRequests int64 `json:"duplicate_requests"`
	// ByRoute counts requests per route name (see LogEntry.Route).
	ByRoute map[string]int64 `json:"by_route"`
	// ContractViolations counts requests the contract forbids: unknown
	// paths or methods, malformed or invalid bodies (answers 400, 405, 413,
	// 415, 422). Authentication, scope, conflict and not-found answers are
	// business outcomes and are not counted.
	ContractViolations int64 `json:"contract_violations"`
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	st := Stats{
		Requests:           s.requests.Load(),
		Injected:           s.injected.Load(),
		TokensIssued:       s.tokensIssued.Load(),
		DuplicateRequests:  s.duplicates.Load(),
		ContractViolations: s.violations.Load(),
		ByRoute:            make(map[string]int64, numRoutes),
	}
	for i := range s.byRoute {
		st.ByRoute[routeTable[i].name] = s.byRoute[i].Load()
	}
	s.mu.RLock()
	st.Beneficiaries = int64(len(s.state.beneficiaries))
	st.Documents = int64(len(s.state.documents))
	s.mu.RUnlock()
	return st
}
