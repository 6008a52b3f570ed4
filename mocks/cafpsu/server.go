package cafpsu

import (
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	_ "time/tzdata" // deadlines are in Paris time, whatever the host has

	cafpsucontract "github.com/relais-dev/relais/contracts/cafpsu"
	"github.com/relais-dev/relais/mocks/platform"
)

// The operationIds of the contract.
const (
	opToken             = "token"
	opStructure         = "structures.get"
	opCreateDeclaration = "declarations.create"
	opListDeclarations  = "declarations.list"
	opGetDeclaration    = "declarations.get"
)

// Client is an application allowed at the token endpoint: a structures'
// manager.
type Client struct {
	// Secret is the client secret.
	Secret string
	// Structures are the partner numbers the client may act for; nil means
	// every structure.
	Structures []string
}

// Options configures a Server. The zero value is usable: every field has a
// default, applied by WithDefaults.
type Options struct {
	// Clients are the accepted clients by id. Default: "relais-sandbox"
	// (secret "relais-sandbox-secret") for every sandbox structure but Les
	// Galopins, and "autre-gestionnaire" (secret "autre-secret") for Les
	// Galopins only.
	Clients map[string]Client
	// TokenTTL is the lifetime of an access token, by Now. Default 1h.
	TokenTTL time.Duration
	// RateLimit is the limit per client; zero means none (the real one is
	// unknown).
	RateLimit platform.RateLimit
	// Structures are the crèches the CAF knows. Default: the sandbox
	// structures (SandboxStructures), with their past declarations.
	Structures []Structure
	// Now is the clock for the calendar, tokens and timestamps.
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
	DefaultClientID     = cafpsucontract.MockClientID
	DefaultClientSecret = cafpsucontract.MockClientSecret
	DefaultTokenTTL     = time.Hour
	DefaultSeed         = 1
)

// WithDefaults returns o with every zero field set to its default.
func (o Options) WithDefaults() Options {
	if o.Clients == nil {
		o.Clients = map[string]Client{
			DefaultClientID:      {Secret: DefaultClientSecret, Structures: []string{PartnerLucioles, PartnerPtitsMomes, PartnerSandbox}},
			"autre-gestionnaire": {Secret: "autre-secret", Structures: []string{PartnerGalopins}},
		}
	}
	if o.TokenTTL == 0 {
		o.TokenTTL = DefaultTokenTTL
	}
	if o.RateLimit.Limit > 0 && o.RateLimit.Window == 0 {
		o.RateLimit.Window = time.Second
	}
	if o.Structures == nil {
		o.Structures = SandboxStructures()
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
		return fmt.Errorf("cafpsu: Options.TokenTTL is negative (%s)", o.TokenTTL)
	case o.RateLimit.Limit < 0:
		return fmt.Errorf("cafpsu: Options.RateLimit.Limit is negative (%d)", o.RateLimit.Limit)
	}
	for id, c := range o.Clients {
		if id == "" || c.Secret == "" {
			return fmt.Errorf("cafpsu: Options.Clients[%q] has an empty id or secret", id)
		}
	}
	seen := map[string]bool{}
	for i, st := range o.Structures {
		if !rePartner.MatchString(st.PartnerNumber) || seen[st.PartnerNumber] {
			return fmt.Errorf("cafpsu: Options.Structures[%d].PartnerNumber %q is not 8 digits or is repeated", i, st.PartnerNumber)
		}
		seen[st.PartnerNumber] = true
		if !luhn(st.SIRET) || len(st.SIRET) != 14 {
			return fmt.Errorf("cafpsu: Options.Structures[%d].SIRET %q is not a valid SIRET", i, st.SIRET)
		}
	}
	return nil
}

// Server is the mock CAF PSU declaration service. It is an http.Handler,
// safe for concurrent use.
type Server struct {
	opts Options
	loc  *time.Location
	rt   *platform.Server

	tokens platform.Tokens[string] // access token -> client

	mu           sync.Mutex
	structures   map[string]*Structure
	declarations map[string]*declaration // by number
	current      map[string]*declaration // by currentKey: the last version
	seq          int                     // the last declaration number given
	perKey       map[string]int          // Idempotency-Key -> declarations created

	declared atomic.Int64
}

// New returns a Server configured by opts (defaults applied). It panics if
// opts is invalid, which is a programming error in a test.
func New(opts Options) *Server {
	opts = opts.WithDefaults()
	if err := opts.Validate(); err != nil {
		panic(err)
	}
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		panic(fmt.Sprintf("cafpsu: loading Europe/Paris: %v", err)) // time/tzdata is linked in
	}
	s := &Server{opts: opts, loc: loc}
	s.reset()
	s.rt = platform.New(platform.Config{
		Name:     cafpsucontract.Name,
		Contract: cafpsucontract.Spec(),
		Operations: map[string]http.Handler{
			opToken:             http.HandlerFunc(s.token),
			opStructure:         http.HandlerFunc(s.getStructure),
			opCreateDeclaration: http.HandlerFunc(s.createDeclaration),
			opListDeclarations:  http.HandlerFunc(s.listDeclarations),
			opGetDeclaration:    http.HandlerFunc(s.getDeclaration),
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

// Reset puts the structures and declarations back to Options.Structures,
// forgets the tokens and resets the runtime.
func (s *Server) Reset() { s.rt.Reset() }

// Declared counts the declarations received since start or the last reset
// (the sandbox history excluded).
func (s *Server) Declared() int64 { return s.declared.Load() }

// CreatedPerKey counts the declarations created under each
// Idempotency-Key since start or the last reset: a replay that created a
// second version shows as 2.
func (s *Server) CreatedPerKey() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.perKey)
}

// reset rebuilds the state from the options.
func (s *Server) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens.Reset()
	s.perKey = map[string]int{}
	s.structures = map[string]*Structure{}
	s.declarations = map[string]*declaration{}
	s.current = map[string]*declaration{}
	s.seq = 0
	for _, st := range s.opts.Structures {
		st.History = nil
		s.structures[st.PartnerNumber] = &st
	}
	// The past declarations, in the order they were received.
	var past []HistoricDeclaration
	for _, st := range s.opts.Structures {
		for _, h := range st.History {
			h.partner = st.PartnerNumber
			past = append(past, h)
		}
	}
	slices.SortStableFunc(past, func(a, b HistoricDeclaration) int { return a.ReceivedAt.Compare(b.ReceivedAt) })
	for _, h := range past {
		s.record(s.structures[h.partner], declarationRequest{Year: h.Year, Kind: h.Kind, Establishment: h.Establishment, Months: h.Months}, h.ReceivedAt)
	}
	s.declared.Store(0)
}

// authenticate is the runtime's Config.AuthenticateFunc: a live token; the
// client is the rate-limit key and the principal (clientOf).
func (s *Server) authenticate(r *http.Request, operationID string) (string, any, *platform.Problem) {
	const prefix = "Bearer "
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), prefix)
	id, _, live := s.tokens.Lookup(tok, s.opts.Now())
	if !ok || !live {
		return "", nil, &platform.Problem{
			Kind: platform.KindUnauthorized, Status: http.StatusUnauthorized, OperationID: operationID,
			Detail: "The bearer token is missing, unknown or expired.",
		}
	}
	return id, id, nil
}

// clientOf is the client whose token authenticated r (the runtime's
// principal, see authenticate).
func clientOf(r *http.Request) string {
	id, _ := platform.Principal(r).(string)
	return id
}

// structureFor returns the structure of partner if the client of r may act
// for it, or writes the 404 or 403.
func (s *Server) structureFor(w http.ResponseWriter, r *http.Request, partner string) (*Structure, bool) {
	s.mu.Lock()
	st, ok := s.structures[partner]
	s.mu.Unlock()
	if !ok {
		problems.Write(w, http.StatusNotFound, "STRUCTURE_NOT_FOUND", "Aucune structure n'a le numéro de partenaire "+partner+".")
		return nil, false
	}
	if c := s.opts.Clients[clientOf(r)]; c.Structures != nil && !slices.Contains(c.Structures, partner) {
		problems.Write(w, http.StatusForbidden, "NOT_YOUR_STRUCTURE", "Ce client ne gère pas la structure "+partner+".")
		return nil, false
	}
	return st, true
}
