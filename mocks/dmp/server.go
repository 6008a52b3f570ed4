package dmp

import (
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	dmpcontract "github.com/relais-dev/relais/contracts/dmp"
	"github.com/relais-dev/relais/mocks/platform"
)

// Name is the platform's name in stats, metrics and `relais mocks`.
const Name = "dmp"

// Options configures a Server. The zero value is usable: every field has a
// default, applied by WithDefaults.
type Options struct {
	// Tokens are the bearer tokens accepted. Default [DefaultToken].
	Tokens []string
	// Patients are the people who have a health record. Default: the
	// fixture patients (FixturePatients).
	Patients []Patient
	// NoFixtureDocuments starts the store empty instead of with the
	// fixture documents. Default false.
	NoFixtureDocuments bool
	// BaseURL is the absolute URL of the FHIR base ("https://dmp.example/fhir"),
	// used in attachment URLs and links. Default: computed from each
	// request's scheme and Host, plus "/fhir".
	BaseURL string
	// MaxBundleBytes bounds a provide request's body; a larger one gets
	// 413. Default 10 MiB.
	MaxBundleBytes int64
	// RateLimit is a per-token limit; the real one is unknown. Default none.
	RateLimit platform.RateLimit
	// Now is the clock for resource timestamps, faults and rate limits.
	// Default time.Now.
	Now func() time.Time
	// Seed seeds the fault randomness so a run repeats. Default 1.
	Seed int64
	// Logger, when set, receives a warning for every answer of the mock
	// that breaks the contract. Default: none.
	Logger *slog.Logger
}

// Option defaults.
const (
	DefaultToken          = dmpcontract.MockToken
	DefaultMaxBundleBytes = 10 << 20
	DefaultSeed           = 1
)

// WithDefaults returns o with every zero field set to its default.
func (o Options) WithDefaults() Options {
	if len(o.Tokens) == 0 {
		o.Tokens = []string{DefaultToken}
	}
	if o.Patients == nil {
		o.Patients = FixturePatients()
	}
	if o.MaxBundleBytes == 0 {
		o.MaxBundleBytes = DefaultMaxBundleBytes
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Seed == 0 {
		o.Seed = DefaultSeed
	}
	o.BaseURL = strings.TrimSuffix(o.BaseURL, "/")
	return o
}

// Validate names the first invalid field of o.
func (o Options) Validate() error {
	if o.MaxBundleBytes < 0 {
		return fmt.Errorf("dmp: Options.MaxBundleBytes is negative (%d)", o.MaxBundleBytes)
	}
	if i := slices.Index(o.Tokens, ""); i >= 0 {
		return fmt.Errorf("dmp: Options.Tokens[%d] is empty", i)
	}
	for i, p := range o.Patients {
		if !isINSSystem(p.INS.System) || !validNIR(p.INS.Value) {
			return fmt.Errorf("dmp: Options.Patients[%d].INS is not an INS with a valid NIR", i)
		}
	}
	if o.BaseURL != "" && !strings.HasPrefix(o.BaseURL, "http://") && !strings.HasPrefix(o.BaseURL, "https://") {
		return fmt.Errorf("dmp: Options.BaseURL %q is not an absolute http(s) URL", o.BaseURL)
	}
	return nil
}

// Server is the mock health record: an http.Handler, safe for concurrent
// use, built on the shared mock runtime (mocks/platform).
type Server struct {
	opts   Options
	tokens map[string]bool
	rt     *platform.Server

	mu sync.Mutex
	st *store
}

// Compile-time checks.
var (
	_ http.Handler         = (*Server)(nil)
	_ platform.ErrorWriter = writeProblem
)

// New returns a Server configured by opts (defaults applied), holding the
// fixture documents unless opts.NoFixtureDocuments. It panics if opts is
// invalid or a fixture does not load, which are programming errors.
func New(opts Options) *Server {
	opts = opts.WithDefaults()
	if err := opts.Validate(); err != nil {
		panic(err)
	}
	s := &Server{opts: opts, tokens: map[string]bool{}}
	for _, t := range opts.Tokens {
		s.tokens[t] = true
	}
	s.st = s.freshStore()
	s.rt = platform.New(platform.Config{
		Name:     Name,
		Contract: dmpcontract.Spec(),
		Operations: map[string]http.Handler{
			"capabilities":       http.HandlerFunc(s.capabilities),
			"documents.provide":  http.HandlerFunc(s.provide),
			"documents.find":     http.HandlerFunc(s.find),
			"documents.retrieve": http.HandlerFunc(s.retrieve),
		},
		Errors:       writeProblem,
		Authenticate: s.authenticate,
		RateLimit:    opts.RateLimit,
		MaxBody:      opts.MaxBundleBytes,
		Now:          opts.Now,
		Seed:         opts.Seed,
		Logger:       opts.Logger,
		OnReset:      s.resetStore,
	})
	return s
}

// freshStore is the store at start: the patients and, unless disabled,
// the fixture documents.
func (s *Server) freshStore() *store {
	st := newStore(s.opts.Patients)
	if !s.opts.NoFixtureDocuments {
		if err := loadFixtureDocuments(st); err != nil {
			panic(err)
		}
	}
	return st
}

func (s *Server) resetStore() {
	st := s.freshStore()
	s.mu.Lock()
	s.st = st
	s.mu.Unlock()
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.rt.ServeHTTP(w, r)
}

// Platform is the runtime the mock is built on: faults, its counters, the
// contract.
func (s *Server) Platform() *platform.Server { return s.rt }

// Reset forgets every submission (the fixtures come back), the faults and
// the counters.
func (s *Server) Reset() { s.rt.Reset() }

// authenticate accepts the configured bearer tokens; the token is the
// rate-limit key.
func (s *Server) authenticate(r *http.Request, _ string) (string, *platform.Problem) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		return "", &platform.Problem{Kind: platform.KindUnauthorized, Detail: "A bearer token is required."}
	}
	if !s.tokens[tok] {
		return "", &platform.Problem{Kind: platform.KindUnauthorized, Detail: "The bearer token is not valid."}
	}
	return tok, nil
}

// Stats are the runtime's counters and the health record's own.
type Stats struct {
	platform.Stats
	// Accepted counts provide requests that stored documents.
	Accepted int64 `json:"accepted"`
	// Replayed counts provide requests that repeated an earlier submission
	// (same masterIdentifiers and contents) and stored nothing.
	Replayed int64 `json:"replayed"`
	// Rejected counts provide requests the handler refused, by IHE XDS
	// error code (or FHIR issue type when none applies).
	Rejected map[string]int64 `json:"rejected"`
	// Documents counts the documents stored now, fixtures included.
	Documents int `json:"documents"`
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	st := Stats{Stats: s.rt.Stats()}
	s.mu.Lock()
	st.Accepted, st.Replayed = s.st.accepted, s.st.replayed
	st.Rejected = maps.Clone(s.st.rejected)
	st.Documents = len(s.st.docs)
	s.mu.Unlock()
	return st
}

// Documents returns the stored documents of the patient with this INS
// (every patient's when ins is zero), oldest first.
func (s *Server) Documents(ins Identifier) []Document {
	key := ""
	if ins != (Identifier{}) {
		key = patientKey(ins.System, ins.Value)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.documents(key)
}

// baseURL is the FHIR base the answer to r names resources under.
func (s *Server) baseURL(r *http.Request) string {
	if s.opts.BaseURL != "" {
		return s.opts.BaseURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/fhir"
}
