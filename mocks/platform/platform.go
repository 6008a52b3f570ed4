package platform

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Config describes one mock platform.
type Config struct {
	// Name is the platform's stable name ("apiparticulier"), used in stats,
	// metrics and `relais mocks`. Required.
	Name string
	// Contract is the OpenAPI 3.1 document (YAML or JSON) the mock obeys.
	// Required.
	Contract []byte
	// Operations maps each operationId of the contract to its handler. Every
	// operation of the contract must have one and every handler an operation:
	// New panics otherwise (a programming error).
	Operations map[string]http.Handler
	// Errors writes the platform's own error body. Required.
	Errors ErrorWriter
	// Authenticate, when set, runs before validation for operations that have
	// a security requirement in the contract. It returns the caller's rate-limit
	// key (a token) or a Problem (Kind Unauthorized or Forbidden).
	Authenticate func(r *http.Request, operationID string) (key string, p *Problem)
	// AuthenticateFunc is Authenticate for platforms whose handlers need
	// what authentication resolved (an account, a FranceConnect citizen, the
	// token's scopes): principal is stored in the handler's request context
	// and read with Principal(r). Set Authenticate or AuthenticateFunc, not
	// both.
	AuthenticateFunc func(r *http.Request, operationID string) (key string, principal any, p *Problem)
	// RateLimit is the per-key limit; zero means none. It applies to every
	// operation except those marked `x-relais-rate-limited: false` in the
	// contract. The key is the one Authenticate returns, or the client's IP
	// address for operations without authentication. It is applied after
	// authentication: a refused caller (401, 403) gets no RateLimit-*
	// headers from it (see IPRateLimit).
	RateLimit RateLimit
	// IPRateLimit is a limit per client IP address applied before
	// authentication, to the same operations as RateLimit; zero means none.
	// API Particulier, for one, allows 1000 requests per minute per IP on
	// top of 20 per second per token. Its RateLimit-* headers are on every
	// answer of those operations, 401 and 403 included; when RateLimit
	// applies too, RateLimit's headers replace them on the answers that get
	// past authentication. A request over it is answered 429 without being
	// authenticated.
	IPRateLimit RateLimit
	// IdempotencyHeader is the request header whose value deduplicates
	// requests of operations marked `x-relais-idempotent: true` in the
	// contract; empty means "Idempotency-Key".
	IdempotencyHeader string
	// IdempotencyTTL is how long an answer is kept for replays, measured by
	// Now. Default 24h.
	IdempotencyTTL time.Duration
	// MaxBody bounds request bodies; a larger body is refused with a Problem
	// of Kind KindInvalidRequest and Status 413. Default 64 MiB.
	MaxBody int64
	// Now is the clock for outage windows, rate limits and stats.
	// Default time.Now.
	Now func() time.Time
	// Seed seeds fault randomness so a run repeats. Default 1.
	Seed int64
	// MaxHang bounds a hang fault when the client never gives up; the
	// connection is then closed without an answer. Default 5 min.
	MaxHang time.Duration
	// OnReset, when set, clears the handlers' own state on Reset.
	OnReset func()
	// Logger, when set, receives a warning for every handler answer that
	// breaks the contract. Default: no logging.
	Logger *slog.Logger
	// Registry, when set, gets the counter
	// relais_mock_requests_total{platform,operation,outcome}. Several mocks
	// may share one registry. Default: no metrics.
	Registry *prometheus.Registry
}

// Config defaults.
const (
	DefaultIdempotencyHeader = "Idempotency-Key"
	DefaultIdempotencyTTL    = 24 * time.Hour
	DefaultMaxBody           = 64 << 20
	DefaultSeed              = 1
	DefaultMaxHang           = 5 * time.Minute
	DefaultRateWindow        = time.Second
)

// ReplayedHeader is set to "true" on the answers replayed for an
// idempotency key (connectors log it); a contract may declare it on the
// responses of its idempotent operations.
const ReplayedHeader = "Idempotent-Replayed"

// RateLimit is a fixed-window limit per key, like API Particulier's
// 20 requests per second per token.
type RateLimit struct {
	// Limit is the number of requests allowed per Window; 0 disables.
	Limit int
	// Window is the window length. Default 1s.
	Window time.Duration
	// ResetFormat is how the RateLimit-Reset header is written: ResetSeconds
	// (the seconds until the window ends, as in the IETF draft) or ResetUnix
	// (the Unix time, in seconds, the window ends, as API Particulier
	// sends it). Default ResetSeconds.
	ResetFormat ResetFormat
}

// ResetFormat is the form of the RateLimit-Reset header.
type ResetFormat string

// The RateLimit-Reset forms.
const (
	ResetSeconds ResetFormat = "seconds" // seconds until the window ends, rounded up
	ResetUnix    ResetFormat = "unix"    // Unix time the window ends, rounded up
)

// ProblemKind says why the runtime (not a handler) answers a request.
type ProblemKind string

// The kinds of Problem.
const (
	KindInvalidRequest ProblemKind = "invalid_request" // the request violates the contract
	KindNotFound       ProblemKind = "not_found"       // no operation has this path
	KindMethod         ProblemKind = "method_not_allowed"
	KindUnauthorized   ProblemKind = "unauthorized" // missing, invalid or expired credentials
	KindForbidden      ProblemKind = "forbidden"    // valid credentials, not allowed
	KindRateLimited    ProblemKind = "rate_limited" // 429
	KindInjected       ProblemKind = "injected"     // an error-rate or fixed-status fault
	KindOutage         ProblemKind = "outage"       // inside an outage window
	KindConflict       ProblemKind = "conflict"     // idempotency key reused with another body
)

// Problem is an error the runtime or a handler answers with.
type Problem struct {
	Kind        ProblemKind
	Status      int
	OperationID string // "" when no operation matched
	// Parameter names the offending parameter or body field when known
	// (e.g. "recipient", "/prenoms/0").
	Parameter string
	// Detail is a human sentence (English), never quoting personal data.
	Detail string
	// RetryAfter is sent as the Retry-After header when not empty.
	RetryAfter string
	// Allow lists the methods of the path, for KindMethod.
	Allow []string
}

// ErrorWriter writes p in the platform's error format (status, content type
// and body). The runtime has already set Retry-After, Allow and RateLimit
// headers. It may write another status than p.Status (API Particulier
// answers 422 where the runtime proposes 400).
type ErrorWriter func(w http.ResponseWriter, r *http.Request, p Problem)

// Faults is the fault configuration of one mock: rules applied in order, the
// first rule whose Operations match a request applies to it.
type Faults struct {
	Rules []Rule `json:"rules" yaml:"rules"`
}

// Rule is one set of faults for some operations. Every field is optional.
type Rule struct {
	// Operations are operationIds; empty means every operation.
	Operations []string `json:"operations,omitempty" yaml:"operations,omitempty"`
	// Latency delays the answer (the wait ends if the client gives up).
	Latency *Latency `json:"latency,omitempty" yaml:"latency,omitempty"`
	// ErrorRate is the fraction (0..1) of requests answered with Status
	// (default 503) or one of Statuses instead of being processed. A Status
	// or Statuses with ErrorRate 0 means every request (a fixed status).
	ErrorRate float64 `json:"error_rate,omitempty" yaml:"error_rate,omitempty"`
	Status    int     `json:"status,omitempty" yaml:"status,omitempty"`
	Statuses  []int   `json:"statuses,omitempty" yaml:"statuses,omitempty"`
	// RetryAfter is the Retry-After header of injected errors and outages:
	// delay-seconds or an HTTP date. An outage with an End and no
	// RetryAfter sends the seconds left until End.
	RetryAfter string `json:"retry_after,omitempty" yaml:"retry_after,omitempty"`
	// HangRate is the fraction of requests that never get an answer (until
	// the client gives up or MaxHang).
	HangRate float64 `json:"hang_rate,omitempty" yaml:"hang_rate,omitempty"`
	// TruncateRate is the fraction of answers cut in the middle of the body
	// (Content-Length announces the full length; the connection is closed).
	TruncateRate float64 `json:"truncate_rate,omitempty" yaml:"truncate_rate,omitempty"`
	// MalformedRate is the fraction of JSON answers whose body is made
	// invalid JSON (status and headers unchanged).
	MalformedRate float64 `json:"malformed_rate,omitempty" yaml:"malformed_rate,omitempty"`
	// Drift changes the JSON body of successful answers as a platform that
	// changed overnight would.
	Drift []Drift `json:"drift,omitempty" yaml:"drift,omitempty"`
	// Outage answers 503 (with RetryAfter) to every request within the
	// window, measured by Config.Now.
	Outage *Window `json:"outage,omitempty" yaml:"outage,omitempty"`
}

// Latency is a latency distribution. Durations are Go duration strings.
type Latency struct {
	// Distribution is "fixed" (Median), "uniform" (Min..Max) or "lognormal"
	// (Median and P99). Default "fixed".
	Distribution string   `json:"distribution,omitempty" yaml:"distribution,omitempty"`
	Median       Duration `json:"median,omitempty" yaml:"median,omitempty"`
	P99          Duration `json:"p99,omitempty" yaml:"p99,omitempty"`
	Min          Duration `json:"min,omitempty" yaml:"min,omitempty"`
	Max          Duration `json:"max,omitempty" yaml:"max,omitempty"`
}

// The latency distributions.
const (
	DistFixed     = "fixed"
	DistUniform   = "uniform"
	DistLognormal = "lognormal"
)

// Drift is one schema change applied to successful JSON answers.
type Drift struct {
	// Kind is "rename", "remove" or "retype".
	Kind string `json:"kind" yaml:"kind"`
	// Path is a JSON pointer into the body ("/data/quotient_familial/valeur");
	// a "*" segment matches every element of an array.
	Path string `json:"path" yaml:"path"`
	// To is the new name (rename) or the new JSON type (retype: "string",
	// "number", "boolean", "object", "array", "null").
	To string `json:"to,omitempty" yaml:"to,omitempty"`
}

// The drift kinds.
const (
	DriftRename = "rename"
	DriftRemove = "remove"
	DriftRetype = "retype"
)

// Window is an outage window; a zero Start means "since ever", a zero End
// "until further notice".
type Window struct {
	Start time.Time `json:"start,omitzero" yaml:"start,omitempty"`
	End   time.Time `json:"end,omitzero" yaml:"end,omitempty"`
}

// Stats are the counters of a mock since start or the last reset.
type Stats struct {
	Requests           int64            `json:"requests"`
	ByOperation        map[string]int64 `json:"by_operation"`
	Violations         int64            `json:"violations"`          // requests refused for breaking the contract
	ResponseViolations int64            `json:"response_violations"` // handler (or Errors) answers that break the contract (a mock or contract bug)
	Duplicates         int64            `json:"duplicates"`          // replays of an idempotency key
	RateLimited        int64            `json:"rate_limited"`
	// PeakPerSecond is the most requests one authenticated caller (the
	// key Authenticate returns: a token, a client) made within one second,
	// over every sliding window of one second, 429s included: what a
	// client sharing a per-token limit across processes must keep under
	// the limit.
	PeakPerSecond int64            `json:"peak_per_second"`
	Injected      map[string]int64 `json:"injected"` // by fault kind: latency, error, hang, truncate, malformed, drift, outage
	// ByStatus counts the answers sent by status code ("200", "404"):
	// handlers' answers (business refusals included), replays and the
	// runtime's own (validation, authentication, rate limit, faults).
	// Requests that got no answer (hangs, clients gone) are not in it.
	ByStatus map[string]int64 `json:"by_status"`
}
