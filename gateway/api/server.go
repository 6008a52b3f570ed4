package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/gateway/mandate"
	"github.com/relais-dev/relais/gateway/profile"
	"github.com/relais-dev/relais/gateway/report"
	"github.com/relais-dev/relais/gateway/store"
)

// Store is what the API needs of the store.
type Store interface {
	Authenticate(ctx context.Context, secret string) (store.APIKey, error)
	CreateSubmission(ctx context.Context, n store.NewSubmission) (store.Submission, bool, error)
	GetSubmission(ctx context.Context, tenantID, id string) (store.Submission, error)
	FindSubmission(ctx context.Context, tenantID, idempotencyKey string, requestHash []byte) (store.Submission, error)
	GetDelivery(ctx context.Context, tenantID, id string) (store.Delivery, error)
	ReplayDelivery(ctx context.Context, tenantID, apiKeyID, deliveryID string) (store.Delivery, error)
	Ready(ctx context.Context) error
	AdminStore
}

var _ Store = (*store.Store)(nil)

// Connectors is what the API needs of the connector registry.
type Connectors interface {
	Get(name string) (connectors.Connector, bool)
	Names() []string
	Statuses() []connectors.Status
}

var _ Connectors = (*connectors.Registry)(nil)

// Config tunes the API.
type Config struct {
	// MaxDocumentSize bounds a submitted document. Default 20 MiB.
	MaxDocumentSize int64 `yaml:"max_document_size"`
	// AuthCacheTTL is how long an authenticated key is trusted without
	// asking the store again; a revocation takes effect within it.
	// Default 5s.
	AuthCacheTTL time.Duration `yaml:"auth_cache_ttl"`
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.MaxDocumentSize <= 0 {
		c.MaxDocumentSize = 20 << 20
	}
	if c.AuthCacheTTL <= 0 {
		c.AuthCacheTTL = 5 * time.Second
	}
	return c
}

// Deps are the server's collaborators.
type Deps struct {
	Store      Store
	Connectors Connectors
	// WorkersRunning reports whether the delivery workers run, for /readyz.
	WorkersRunning func() bool
	// Mandates serves /v1/mandates and /v1/journal/mandates; when nil
	// those routes answer 503 mandates_not_configured.
	Mandates *mandate.Service
	// Profiles serves POST /v1/profiles:lookup and GET /v1/profiles/{id};
	// when nil those routes answer 503 profiles_not_configured.
	Profiles *profile.Service
	// Reports serves /v1/reports; when nil those routes answer 503
	// reports_not_configured.
	Reports  *report.Service
	Registry *prometheus.Registry
	Logger   *slog.Logger
	Now      func() time.Time
}

// Server serves the API.
type Server struct {
	cfg     Config
	deps    Deps
	logger  *slog.Logger
	mux     *http.ServeMux
	metrics *httpMetrics
	auth    keyCache[store.APIKey]
	admins  keyCache[store.AdminKey]
	routes  []string
	// unmatched answers requests no route matches: 404, or 405 when the
	// path exists with another method.
	unmatched http.Handler
}

// New builds the server and its routes.
func New(cfg Config, deps Deps) *Server {
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.WorkersRunning == nil {
		deps.WorkersRunning = func() bool { return true }
	}
	s := &Server{
		cfg: cfg.WithDefaults(), deps: deps, logger: deps.Logger, mux: http.NewServeMux(),
		metrics: newHTTPMetrics(deps.Registry),
	}
	s.handle("GET /healthz", s.healthz)
	s.handle("GET /readyz", s.readyz)
	s.mux.Handle("GET /metrics", s.instrument("GET /metrics", promhttp.HandlerFor(deps.Registry, promhttp.HandlerOpts{Registry: deps.Registry})))
	s.routes = append(s.routes, "GET /metrics")
	s.handle("GET /v1/openapi.json", s.openAPI)
	s.handle("POST /v1/submissions", s.authenticated(s.createSubmission))
	s.handle("GET /v1/submissions/{id}", s.authenticated(s.getSubmission))
	s.handle("GET /v1/deliveries/{id}", s.authenticated(s.getDelivery))
	s.handle("POST /v1/deliveries/{id}/replay", s.authenticated(s.replayDelivery))
	s.handle("GET /v1/connectors", s.authenticated(s.listConnectors))
	s.handle("POST /v1/admin/tenants", s.adminOnly(s.createTenant))
	s.handle("GET /v1/admin/tenants", s.adminOnly(s.listTenants))
	s.handle("POST /v1/admin/tenants/{tenant}/keys", s.adminOnly(s.createTenantKey))
	s.handle("GET /v1/admin/tenants/{tenant}/keys", s.adminOnly(s.listTenantKeys))
	s.handle("DELETE /v1/admin/tenants/{tenant}/keys/{id}", s.adminOnly(s.revokeTenantKey))
	// Routes of an optional service answer 503 with its own code when the
	// gateway runs without it.
	mandated := requires(s.deps.Mandates != nil, mandatesOff)
	profiled := requires(s.deps.Profiles != nil, profilesOff)
	reported := requires(s.deps.Reports != nil, reportsOff)
	s.handle("POST /v1/mandates", s.authenticated(mandated(s.createMandate)))
	s.handle("GET /v1/mandates", s.authenticated(mandated(s.listMandates)))
	s.handle("GET /v1/mandates/{id}", s.authenticated(mandated(s.getMandate)))
	s.handle("DELETE /v1/mandates/{id}", s.authenticated(mandated(s.revokeMandate)))
	s.handle("POST /v1/mandates/{id}/confirm", s.authenticated(mandated(s.confirmMandate)))
	s.handle("POST /v1/mandates/{id}/renew", s.authenticated(mandated(s.renewMandate)))
	s.handle("POST /v1/mandates/{id}/transfer", s.authenticated(mandated(s.transferMandate)))
	s.handle("GET /v1/journal/mandates", s.authenticated(mandated(s.mandateJournal)))
	s.handle("POST /v1/profiles:lookup", s.authenticated(profiled(s.lookupProfile)))
	s.handle("GET /v1/profiles/{id}", s.authenticated(profiled(s.getProfile)))
	s.handle("POST /v1/reports", s.authenticated(reported(s.createReport)))
	s.handle("GET /v1/reports", s.authenticated(reported(s.listReports)))
	s.handle("GET /v1/reports/calendar", s.authenticated(reported(s.reportCalendar)))
	s.handle("GET /v1/reports/{id}", s.authenticated(reported(s.getReport)))
	s.handle("GET /v1/reports/{id}/indicators.csv", s.authenticated(reported(s.reportIndicatorsCSV)))
	s.unmatched = s.instrument("unmatched", s.errorHandler(s.noRoute))
	return s
}

// Routes lists the "METHOD /path" patterns served, for tests that check
// them against the OpenAPI document.
func (s *Server) Routes() []string { return s.routes }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r = r.WithContext(context.WithValue(r.Context(), requestIDKey{}, incomingRequestID(r)))
	w.Header().Set("X-Request-Id", requestID(r.Context()))
	if _, pattern := s.mux.Handler(r); pattern == "" {
		s.unmatched.ServeHTTP(w, r)
		return
	}
	s.mux.ServeHTTP(w, r)
}

func (s *Server) noRoute(w http.ResponseWriter, r *http.Request) error {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		return &Error{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed", Title: "Method not allowed",
			Detail: "This route answers " + strings.Join(allow, ", ") + "."}
	}
	return &Error{Status: http.StatusNotFound, Code: "route_not_found", Title: "Not found", Detail: "No such route; see /v1/openapi.json."}
}

type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (s *Server) handle(pattern string, h handlerFunc) {
	s.routes = append(s.routes, pattern)
	s.mux.Handle(pattern, s.instrument(pattern, s.errorHandler(h)))
}

// errorHandler turns a returned error, or a panic, into a problem.
func (s *Server) errorHandler(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler { //nolint:errorlint // sentinel panic value
					panic(v)
				}
				s.logger.Error("handler panicked", slog.String("request_id", requestID(r.Context())),
					slog.String("panic", fmt.Sprint(v)), slog.String("stack", string(debug.Stack())))
				s.writeError(w, r, fmt.Errorf("handler panicked: %v", v))
			}
		}()
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// ---- Request ids -------------------------------------------------------

type requestIDKey struct{}

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{8,128}$`)

// requires wraps the handlers of an optional service: when it is not
// configured (present is fixed when the server is built) they answer off
// without running.
func requires(present bool, off func() *Error) func(handlerFunc) handlerFunc {
	return func(h handlerFunc) handlerFunc {
		if present {
			return h
		}
		return func(http.ResponseWriter, *http.Request) error { return off() }
	}
}

func incomingRequestID(r *http.Request) string {
	if id := r.Header.Get("X-Request-Id"); requestIDPattern.MatchString(id) {
		return id
	}
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "req_" + hex.EncodeToString(b[:])
}

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// ---- Authentication ----------------------------------------------------

type principalKey struct{}

func principal(ctx context.Context) store.APIKey {
	k, _ := ctx.Value(principalKey{}).(store.APIKey)
	return k
}

// keyCache remembers authenticated keys (tenant or admin) for
// AuthCacheTTL, by the SHA-256 of their secret, so that a busy client does
// not cost a store read per request. Its zero value is ready.
type keyCache[K any] struct {
	mu      sync.Mutex
	entries map[[32]byte]cachedKey[K]
}

type cachedKey[K any] struct {
	key     K
	expires time.Time
}

func (c *keyCache[K]) get(sum [32]byte, now time.Time) (K, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[sum]
	if !ok || !now.Before(e.expires) {
		var zero K
		return zero, false
	}
	return e.key, true
}

func (c *keyCache[K]) put(sum [32]byte, key K, expires time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) >= authCacheMax {
		c.entries = map[[32]byte]cachedKey[K]{}
	}
	c.entries[sum] = cachedKey[K]{key: key, expires: expires}
}

// forget drops the keys drop selects.
func (c *keyCache[K]) forget(drop func(K) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	maps.DeleteFunc(c.entries, func(_ [32]byte, e cachedKey[K]) bool { return drop(e.key) })
}

const authCacheMax = 10000

func (s *Server) authenticated(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		token, err := bearerToken(r)
		if err != nil {
			return err
		}
		key, err := s.lookupKey(r.Context(), token)
		if err != nil {
			return err
		}
		h2 := r.WithContext(context.WithValue(r.Context(), principalKey{}, key))
		return h(w, h2)
	}
}

func (s *Server) lookupKey(ctx context.Context, token string) (store.APIKey, error) {
	sum := sha256.Sum256([]byte(token))
	now := s.deps.Now()
	if key, ok := s.auth.get(sum, now); ok {
		return key, nil
	}
	key, err := s.deps.Store.Authenticate(ctx, token)
	if errors.Is(err, store.ErrNotFound) {
		// An admin key is refused here: it manages, it reads no data.
		return store.APIKey{}, s.unknownTenantKey(ctx, token)
	} else if err != nil {
		return store.APIKey{}, fmt.Errorf("authenticating: %w", err)
	}
	s.auth.put(sum, key, now.Add(s.cfg.AuthCacheTTL))
	return key, nil
}

// ---- Metrics -----------------------------------------------------------

type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "relais_http_requests_total",
			Help: "HTTP requests served, by route and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "relais_http_request_duration_seconds",
			Help:    "HTTP request latency, by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (s *Server) instrument(route string, h http.Handler) http.Handler {
	duration := s.metrics.duration.WithLabelValues(route)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.deps.Now()
		rec := &statusRecorder{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		duration.Observe(s.deps.Now().Sub(start).Seconds())
		s.metrics.requests.WithLabelValues(route, strconv.Itoa(rec.status)).Inc()
	})
}

// ---- Operations routes -------------------------------------------------

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) error {
	writeJSON(w, http.StatusOK, "application/json", map[string]string{"status": "ok"})
	return nil
}

type readiness struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	res := readiness{Status: "ready", Checks: map[string]string{"store": "ok", "workers": "ok"}}
	if err := s.deps.Store.Ready(ctx); err != nil {
		// The cause may name hosts and users: log it, do not show it.
		s.logger.LogAttrs(r.Context(), slog.LevelWarn, "not ready", slog.String("request_id", requestID(r.Context())), slog.String("error", err.Error()))
		res.Status, res.Checks["store"] = "not_ready", "the store is unreachable or has pending migrations (see the logs)"
	}
	if !s.deps.WorkersRunning() {
		res.Status, res.Checks["workers"] = "not_ready", "delivery workers are not running"
	}
	status := http.StatusOK
	if res.Status != "ready" {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, "application/json", res)
	return nil
}

func (s *Server) listConnectors(w http.ResponseWriter, _ *http.Request) error {
	statuses := s.deps.Connectors.Statuses()
	if s.deps.Profiles != nil {
		// The lookups' sources, beside the destinations.
		statuses = append(statuses, s.deps.Profiles.Statuses()...)
	}
	writeJSON(w, http.StatusOK, "application/json", map[string]any{"connectors": statuses})
	return nil
}
