package platform

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/prometheus/client_golang/prometheus"
)

// Server is a mock platform: an http.Handler safe for concurrent use.
//
// It starts no goroutine: latency and hang faults wait on a timer and on the
// request's context, so a client that gives up releases the handler at once.
// Truncation and the end of a hang (MaxHang) abort the connection with
// panic(http.ErrAbortHandler), which net/http servers (httptest.NewServer
// included) handle silently; run faulty mocks behind a real server, not an
// httptest.ResponseRecorder.
type Server struct {
	cfg        Config
	c          *contract      // shared with the other Servers of the same contract
	handlers   []http.Handler // by operation index
	opIDs      []string       // sorted, for error messages
	idemHeader string
	authn      func(r *http.Request, operationID string) (key string, principal any, p *Problem) // nil: none

	faults    atomic.Pointer[faultSet] // nil: no faults
	dice      *dice
	limiter   *limiter // nil: no rate limit
	ipLimiter *limiter // nil: no limit per IP before authentication
	dedup     *dedupStore
	stats     counters
	metric    *prometheus.CounterVec // nil: no metrics
}

// compile-time check: a Server is a handler.
var _ http.Handler = (*Server)(nil)

// New returns the mock described by cfg, defaults applied. It panics when cfg
// is invalid: an unset Name or Errors, a contract that does not load or
// validate, an operation without handler or a handler without operation.
//
// The loaded contract (parsed, validated, its router and body validators
// compiled) is cached by content and shared by every Server built from the
// same text: the second mock of a contract costs microseconds.
func New(cfg Config) *Server {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		panic("platform: " + err.Error())
	}
	c, err := contracts.load(cfg.Contract)
	if err != nil {
		panic(fmt.Sprintf("platform: %s: %v", cfg.Name, err))
	}
	handlers := make([]http.Handler, len(c.ops))
	for _, op := range c.ops {
		h := cfg.Operations[op.id]
		if h == nil {
			panic(fmt.Sprintf("platform: %s: operation %q (%s %s) has no handler", cfg.Name, op.id, op.method, op.path))
		}
		handlers[op.index] = h
	}
	for id := range cfg.Operations {
		if c.byID[id] == nil {
			panic(fmt.Sprintf("platform: %s: handler %q has no operation in the contract", cfg.Name, id))
		}
	}
	s := &Server{
		cfg:        cfg,
		c:          c,
		handlers:   handlers,
		idemHeader: cfg.IdempotencyHeader,
		authn:      cfg.AuthenticateFunc,
		dice:       newDice(cfg.Seed),
		dedup:      newDedupStore(cfg.IdempotencyTTL),
	}
	if a := cfg.Authenticate; a != nil {
		s.authn = func(r *http.Request, operationID string) (string, any, *Problem) {
			key, p := a(r, operationID)
			return key, nil, p
		}
	}
	for _, op := range c.ops {
		s.opIDs = append(s.opIDs, op.id)
	}
	slices.Sort(s.opIDs)
	s.stats.byOp = make([]atomic.Int64, len(c.ops))
	if cfg.RateLimit.Limit > 0 {
		s.limiter = newLimiter(cfg.RateLimit)
	}
	if cfg.IPRateLimit.Limit > 0 {
		s.ipLimiter = newLimiter(cfg.IPRateLimit)
	}
	if cfg.Registry != nil {
		s.metric = newRequestsMetric(cfg.Registry)
	}
	if cfg.Logger != nil && c.bodies != nil && len(c.bodies.uncompiled) > 0 {
		cfg.Logger.Warn("mock contract has body schemas validated the slow way",
			"platform", cfg.Name, "locations", c.bodies.uncompiled)
	}
	return s
}

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	if c.IdempotencyHeader == "" {
		c.IdempotencyHeader = DefaultIdempotencyHeader
	}
	if c.IdempotencyTTL == 0 {
		c.IdempotencyTTL = DefaultIdempotencyTTL
	}
	if c.MaxBody == 0 {
		c.MaxBody = DefaultMaxBody
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Seed == 0 {
		c.Seed = DefaultSeed
	}
	if c.MaxHang == 0 {
		c.MaxHang = DefaultMaxHang
	}
	c.RateLimit = c.RateLimit.withDefaults()
	c.IPRateLimit = c.IPRateLimit.withDefaults()
	return c
}

func (rl RateLimit) withDefaults() RateLimit {
	if rl.Limit > 0 && rl.Window == 0 {
		rl.Window = DefaultRateWindow
	}
	if rl.Limit > 0 && rl.ResetFormat == "" {
		rl.ResetFormat = ResetSeconds
	}
	return rl
}

// Validate names the first invalid field of c.
func (c Config) Validate() error {
	switch {
	case c.Name == "":
		return fmt.Errorf("Config.Name is empty")
	case len(c.Contract) == 0:
		return fmt.Errorf("%s: Config.Contract is empty", c.Name)
	case c.Errors == nil:
		return fmt.Errorf("%s: Config.Errors is nil", c.Name)
	case c.Authenticate != nil && c.AuthenticateFunc != nil:
		return fmt.Errorf("%s: Config.Authenticate and Config.AuthenticateFunc are both set", c.Name)
	case c.IdempotencyTTL < 0:
		return fmt.Errorf("%s: Config.IdempotencyTTL is negative (%s)", c.Name, c.IdempotencyTTL)
	case c.MaxBody < 0:
		return fmt.Errorf("%s: Config.MaxBody is negative (%d)", c.Name, c.MaxBody)
	case c.MaxHang < 0:
		return fmt.Errorf("%s: Config.MaxHang is negative (%s)", c.Name, c.MaxHang)
	}
	if err := c.RateLimit.validate("RateLimit"); err != nil {
		return fmt.Errorf("%s: %w", c.Name, err)
	}
	if err := c.IPRateLimit.validate("IPRateLimit"); err != nil {
		return fmt.Errorf("%s: %w", c.Name, err)
	}
	return nil
}

// validate names the first invalid field of rl, the Config field name.
func (rl RateLimit) validate(name string) error {
	switch {
	case rl.Limit < 0:
		return fmt.Errorf("Config.%s.Limit is negative (%d)", name, rl.Limit)
	case rl.Window < 0:
		return fmt.Errorf("Config.%s.Window is negative (%s)", name, rl.Window)
	}
	switch rl.ResetFormat {
	case "", ResetSeconds, ResetUnix:
		return nil
	}
	return fmt.Errorf("Config.%s.ResetFormat is %q, not %q or %q", name, rl.ResetFormat, ResetSeconds, ResetUnix)
}

// Name is the platform's name (Config.Name).
func (s *Server) Name() string { return s.cfg.Name }

// Contract is the loaded contract. Callers must not modify it.
func (s *Server) Contract() *openapi3.T { return s.c.doc }

// Operations lists the contract's operationIds, sorted.
func (s *Server) Operations() []string { return slices.Clone(s.opIDs) }

// SetFaults validates f (see Faults.Validate) and makes it the active
// fault configuration; on error the active one is unchanged.
func (s *Server) SetFaults(f Faults) error {
	if err := f.Validate(s.opIDs); err != nil {
		return fmt.Errorf("setting faults of %s: %w", s.cfg.Name, err)
	}
	s.faults.Store(compileFaults(f, s.c.ops))
	return nil
}

// Faults returns the active fault configuration.
func (s *Server) Faults() Faults {
	fs := s.faults.Load()
	if fs == nil {
		return Faults{Rules: []Rule{}}
	}
	return cloneFaults(fs.src)
}

// Reset clears the counters, the faults, the stored idempotent answers and
// the rate windows, reseeds the fault randomness and calls Config.OnReset.
// Requests in flight finish against the old state.
func (s *Server) Reset() {
	s.faults.Store(nil)
	s.dice.reset()
	s.dedup.reset()
	if s.limiter != nil {
		s.limiter.reset()
	}
	if s.ipLimiter != nil {
		s.ipLimiter.reset()
	}
	s.stats.reset()
	if s.cfg.OnReset != nil {
		s.cfg.OnReset()
	}
}

// ctxKey keys the *requestInfo of a handler's request context.
type ctxKey struct{}

// requestInfo is what the runtime tells a handler about its request.
type requestInfo struct {
	operationID string
	principal   any
}

// OperationID is the operationId a handler's request was routed to; "" for
// a request that did not come through a Server.
func OperationID(r *http.Request) string {
	if ri, ok := r.Context().Value(ctxKey{}).(*requestInfo); ok {
		return ri.operationID
	}
	return ""
}

// Principal is what Config.AuthenticateFunc resolved for a handler's
// request (an account, a citizen); nil for an operation without security
// requirement, with Config.Authenticate, or for a request that did not
// come through a Server.
func Principal(r *http.Request) any {
	if ri, ok := r.Context().Value(ctxKey{}).(*requestInfo); ok {
		return ri.principal
	}
	return nil
}

// BearerToken is the token of r's Authorization header in the Bearer
// scheme (named in any case, RFC 6750), "" for none: what an Authenticate
// function looks up.
func BearerToken(r *http.Request) string {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}

// ServeHTTP implements http.Handler: the control API under /_mock/, then
// the pipeline of the package documentation.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, controlPrefix) {
		s.control(w, r)
		return
	}
	s.stats.requests.Add(1)
	route, params, err := s.c.router.FindRoute(r)
	if err != nil {
		s.stats.violations.Add(1)
		p := Problem{Kind: KindNotFound, Status: http.StatusNotFound, Detail: "No operation has this path."}
		if errors.Is(err, routers.ErrMethodNotAllowed) {
			p = Problem{Kind: KindMethod, Status: http.StatusMethodNotAllowed, Allow: s.allowed(r), Detail: "The path has no operation for this method."}
		}
		s.problem(w, r, nil, nil, p)
		s.observe(noOperation, string(p.Kind))
		return
	}
	op := s.c.byID[route.Operation.OperationID]
	s.stats.byOp[op.index].Add(1)
	in := &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route, Options: &s.c.reqOpts}
	s.observe(op.id, s.serveOperation(w, r, op, in))
}

// allowed lists the methods the path of r has, for Allow.
func (s *Server) allowed(r *http.Request) []string {
	var allow []string
	probe := r.Clone(r.Context())
	for _, m := range s.c.methods {
		probe.Method = m
		if _, _, err := s.c.router.FindRoute(probe); err == nil {
			allow = append(allow, m)
		}
	}
	return allow
}

// serveOperation runs the pipeline for a request routed to op and returns
// its outcome.
func (s *Server) serveOperation(w http.ResponseWriter, r *http.Request, op *operation, in *openapi3filter.RequestValidationInput) string {
	ctx := r.Context()
	now := s.cfg.Now()
	// The body is read first: until it is, net/http does not watch the
	// connection, and a client that gives up during a fault goes unnoticed.
	body, bodyErr := readBody(r, s.cfg.MaxBody)
	var ru *rule
	if fs := s.faults.Load(); fs != nil {
		ru = fs.byOp[op.index]
	}

	// Faults that answer instead of the platform.
	if ru != nil {
		if ru.inOutage(now) {
			s.stats.inject(faultOutage)
			s.problem(w, r, op, nil, Problem{
				Kind: KindOutage, Status: http.StatusServiceUnavailable, OperationID: op.id,
				Detail: "The platform is unavailable (outage).", RetryAfter: ru.outageRetryAfter(now),
			})
			return string(KindOutage)
		}
		if s.dice.roll(ru.HangRate) {
			s.stats.inject(faultHang)
			s.hang(ctx)
			return outcomeHang
		}
		if ru.Latency != nil {
			if d := s.dice.latency(ru); d > 0 {
				s.stats.inject(faultLatency)
				if !wait(ctx, d) {
					return outcomeClientGone
				}
			}
		}
		if status, ok := s.dice.injectedStatus(ru); ok {
			s.stats.inject(faultError)
			s.problem(w, r, op, nil, Problem{
				Kind: KindInjected, Status: status, OperationID: op.id,
				Detail: fmt.Sprintf("Injected error %d.", status), RetryAfter: ru.RetryAfter,
			})
			return string(KindInjected)
		}
	}

	// Rate limit per IP address, authentication and rate limit per key.
	if op.rateLimited && s.ipLimiter != nil {
		if !s.take(w, r, op, in, s.ipLimiter, clientIP(r), now) {
			return string(KindRateLimited)
		}
	}
	key := ""
	var principal any
	if op.secured && s.authn != nil {
		setBody(r, body) // client credentials may be in a form body
		k, pr, p := s.authn(r, op.id)
		if p != nil {
			p.OperationID = op.id
			if p.Kind == "" {
				p.Kind = KindUnauthorized
			}
			if p.Status == 0 {
				p.Status = http.StatusUnauthorized
				if p.Kind == KindForbidden {
					p.Status = http.StatusForbidden
				}
			}
			s.problem(w, r, op, in, *p)
			return string(p.Kind)
		}
		key, principal = k, pr
		if key != "" {
			s.stats.perSecond.observe(key, now)
		}
	}
	if op.rateLimited && s.limiter != nil {
		if key == "" {
			key = clientIP(r)
		}
		if !s.take(w, r, op, in, s.limiter, key, now) {
			return string(KindRateLimited)
		}
	}

	// The request against the contract.
	if bodyErr != nil {
		s.stats.violations.Add(1)
		p := Problem{Kind: KindInvalidRequest, Status: http.StatusBadRequest, OperationID: op.id, Detail: "The request body cannot be read."}
		if errors.Is(bodyErr, errTooLarge) {
			p.Status, p.Detail = http.StatusRequestEntityTooLarge, fmt.Sprintf("The request body is larger than %d bytes.", s.cfg.MaxBody)
		}
		s.problem(w, r, op, in, p)
		return string(KindInvalidRequest)
	}
	req := r.WithContext(context.WithValue(ctx, ctxKey{}, &requestInfo{operationID: op.id, principal: principal}))
	setBody(req, body)
	for name, v := range in.PathParams {
		req.SetPathValue(name, v)
	}
	in.Request = req
	if p := s.c.validateRequest(ctx, in, op.id, body); p != nil {
		s.stats.violations.Add(1)
		s.problem(w, r, op, in, *p)
		return string(KindInvalidRequest)
	}
	setBody(req, body)

	// Deduplication.
	if op.idempotent {
		if ik := r.Header.Get(s.idemHeader); ik != "" {
			return s.once(w, req, op, in, ru, op.id+"\x00"+key+"\x00"+ik, hashRequest(r, body), now)
		}
	}
	a := s.run(req, op, in, w.Header())
	s.send(w, a.status, a.header, a.body.Bytes(), ru)
	return outcomeHandled
}

// take counts a request in l under key and sets the RateLimit-* headers;
// over the limit it answers 429 and returns false.
func (s *Server) take(w http.ResponseWriter, r *http.Request, op *operation, in *openapi3filter.RequestValidationInput, l *limiter, key string, now time.Time) bool {
	remaining, reset, ok := l.take(key, now)
	l.setHeaders(w.Header(), remaining, reset, now)
	if ok {
		return true
	}
	s.stats.rateLimited.Add(1)
	s.problem(w, r, op, in, Problem{
		Kind: KindRateLimited, Status: http.StatusTooManyRequests, OperationID: op.id,
		Detail: "Too many requests for this caller; retry after the window resets.", RetryAfter: retrySeconds(reset),
	})
	return false
}

// once processes an idempotent request at most once per key.
func (s *Server) once(w http.ResponseWriter, req *http.Request, op *operation, in *openapi3filter.RequestValidationInput, ru *rule, key string, hash [sha256.Size]byte, now time.Time) string {
	e, outcome := s.dedup.begin(req.Context(), key, hash, now)
	switch outcome {
	case dedupGone:
		return outcomeClientGone
	case dedupConflict:
		s.problem(w, req, op, in, Problem{
			Kind: KindConflict, Status: http.StatusConflict, OperationID: op.id, Parameter: s.idemHeader,
			Detail: fmt.Sprintf("The %s was already used with another request.", s.idemHeader),
		})
		return string(KindConflict)
	case dedupReplay:
		s.stats.duplicates.Add(1)
		w.Header()[ReplayedHeader] = []string{"true"}
		s.send(w, e.ans.status, e.ans.header, e.ans.body, ru)
		return outcomeReplayed
	}
	var keep *stored
	defer func() { s.dedup.finish(key, e, keep, s.cfg.Now()) }() // also when the handler panics
	a := s.run(req, op, in, w.Header())
	if a.status < http.StatusInternalServerError {
		keep = &stored{status: a.status, header: a.header.Clone(), body: bytes.Clone(a.body.Bytes())}
	}
	s.send(w, a.status, a.header, a.body.Bytes(), ru)
	return outcomeHandled
}

// run calls op's handler into a buffer and checks its answer against the
// contract, with the runtime's headers (rt) added.
func (s *Server) run(req *http.Request, op *operation, in *openapi3filter.RequestValidationInput, rt http.Header) *answer {
	a := newAnswer()
	s.handlers[op.index].ServeHTTP(a, req)
	s.checkAnswer(req.Context(), in, op, a.status, withRuntimeHeaders(a.header, rt), a.body.Bytes())
	return a
}

// withRuntimeHeaders adds to h the runtime's headers (RateLimit-*) it lacks.
func withRuntimeHeaders(h, rt http.Header) http.Header {
	if len(rt) == 0 {
		return h
	}
	out := h.Clone()
	if out == nil {
		out = http.Header{}
	}
	for k, v := range rt {
		if _, ok := out[k]; !ok {
			out[k] = v
		}
	}
	return out
}

// checkedKinds are the runtime answers a contract must document: their
// status and body (written by Config.Errors) are checked like a handler's.
// Injected faults, outages, unrouted requests and bodies above
// Config.MaxBody (413) are not.
var checkedKinds = []ProblemKind{KindInvalidRequest, KindUnauthorized, KindForbidden, KindRateLimited, KindConflict}

// problem answers p in the platform's error format. in, when set, allows
// checking the answer against the contract.
func (s *Server) problem(w http.ResponseWriter, r *http.Request, op *operation, in *openapi3filter.RequestValidationInput, p Problem) {
	h := w.Header()
	if p.RetryAfter != "" {
		h["Retry-After"] = []string{p.RetryAfter}
	}
	if len(p.Allow) > 0 {
		h["Allow"] = []string{strings.Join(p.Allow, ", ")}
	}
	a := newAnswer()
	s.cfg.Errors(a, r, p)
	if in != nil && op != nil && slices.Contains(checkedKinds, p.Kind) && a.status != http.StatusRequestEntityTooLarge {
		s.checkAnswer(r.Context(), in, op, a.status, withRuntimeHeaders(a.header, h), a.body.Bytes())
	}
	s.send(w, a.status, a.header, a.body.Bytes(), nil)
}

// send writes an answer, applying the response faults of ru (drift,
// malformed JSON, truncation) when set.
func (s *Server) send(w http.ResponseWriter, status int, header http.Header, body []byte, ru *rule) {
	h := w.Header()
	for k, v := range header {
		h[k] = v
	}
	s.stats.sent(status)
	if ru != nil && len(body) > 0 {
		json := isJSON(h.Get("Content-Type"))
		if json && len(ru.drift) > 0 && status >= 200 && status < 300 {
			if nb, changed := applyDrift(body, ru.drift); changed {
				s.stats.inject(faultDrift)
				body = nb
			}
		}
		if json && s.dice.roll(ru.MalformedRate) {
			s.stats.inject(faultMalformed)
			body = malform(body)
		}
		if len(body) > 1 && s.dice.roll(ru.TruncateRate) {
			s.stats.inject(faultTruncate)
			truncate(w, status, body)
		}
	}
	if bodyAllowed(status) {
		h["Content-Length"] = []string{itoa(len(body))}
	} else {
		delete(h, "Content-Length")
		body = nil
	}
	w.WriteHeader(status)
	_, _ = w.Write(body) // the client may be gone; nothing to do about it
}

// truncate announces body's full length, writes half of it and aborts the
// connection.
func truncate(w http.ResponseWriter, status int, body []byte) {
	w.Header()["Content-Length"] = []string{itoa(len(body))}
	w.WriteHeader(status)
	_, _ = w.Write(body[:len(body)/2])
	_ = http.NewResponseController(w).Flush() // what was written reaches the client
	panic(http.ErrAbortHandler)
}

// malform makes a JSON body invalid JSON: the final closing bracket of an
// object or array is dropped, anything else gets a stray "<" in front.
func malform(body []byte) []byte {
	t := bytes.TrimRight(body, " \t\r\n")
	if n := len(t); n > 0 && (t[n-1] == '}' || t[n-1] == ']') {
		return bytes.Clone(t[:n-1])
	}
	return append([]byte("<"), body...)
}

func bodyAllowed(status int) bool {
	return status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified
}

// isJSON reports whether a Content-Type is JSON (application/json or a
// +json suffix).
func isJSON(ct string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

// hang holds the request until the client gives up, or MaxHang passes and
// the connection is closed without an answer.
func (s *Server) hang(ctx context.Context) {
	t := time.NewTimer(s.cfg.MaxHang)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
		panic(http.ErrAbortHandler)
	}
}

// wait waits d; false if ctx ended first.
func wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// errTooLarge is readBody's error for a body above the limit.
var errTooLarge = errors.New("request body too large")

// readBody reads r's body, at most limit bytes.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	var buf bytes.Buffer
	if n := r.ContentLength; n > 0 && n <= limit {
		buf.Grow(int(n) + bytes.MinRead) // one allocation when the length is announced
	}
	if _, err := buf.ReadFrom(io.LimitReader(r.Body, limit+1)); err != nil {
		return nil, fmt.Errorf("reading request body: %w", err)
	}
	if int64(buf.Len()) > limit {
		return nil, errTooLarge
	}
	if buf.Len() == 0 {
		return []byte{}, nil // an empty body, not none
	}
	return buf.Bytes(), nil
}

// setBody gives r a fresh reader of body.
func setBody(r *http.Request, body []byte) {
	if body == nil {
		r.Body, r.GetBody = http.NoBody, nil
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	r.ContentLength = int64(len(body))
}

// hashRequest identifies an idempotent request: method, target and body.
func hashRequest(r *http.Request, body []byte) [sha256.Size]byte {
	h := sha256.New()
	_, _ = io.WriteString(h, r.Method+" "+r.URL.RequestURI()+"\n")
	_, _ = h.Write(body)
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}
