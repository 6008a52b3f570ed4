package profile

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/gateway/mandate"
	"github.com/relais-dev/relais/mapping"
)

// Sentinel errors of Get.
var (
	// ErrNotFound: no such prefill for this tenant (another tenant's, one
	// that never existed, or one expired long enough ago that even its
	// tombstone is gone).
	ErrNotFound = errors.New("profile: not found")
	// ErrExpired: the prefill existed and its TTL has passed; its data is
	// purged or about to be.
	ErrExpired = errors.New("profile: expired")
)

// Journal operations of lookups.
const (
	// OpPull journals one source's pull: the outcome, the categories, the
	// basis, the person reference and each operation's status.
	OpPull = "profile.pull"
	// OpRead journals a read of a stored prefill.
	OpRead = "profile.read"
	// OpConsentUse journals one operation checked against a consent.
	OpConsentUse = "consent.use"
)

// Journal outcomes of consent uses.
const (
	UseOK      = "ok"
	UseRefused = "refused"
)

// Refusal reasons a consent or the identity gives; a mandate's are the
// mandate package's Code constants.
const (
	ReasonConsentExpired     = "consent_expired"
	ReasonConsentPlatform    = "consent_platform_not_covered"
	ReasonConsentCategory    = "consent_category_not_covered"
	ReasonIdentityNotCovered = "identity_not_covered"
	ReasonDeadline           = "deadline"
	ReasonMissingItem        = "no_answer"
	ReasonSourceFailed       = "source_failed"
	// ReasonInvalidQuery: the source refused the query itself
	// (connectors.ErrInvalidQuery): no SIRET for the organisation, nothing
	// to identify the person with for that platform.
	ReasonInvalidQuery = "invalid_query"
)

// Record is a stored prefill: the Profile's JSON, sealed by the store.
type Record struct {
	ID        string
	TenantID  string
	CreatedAt time.Time
	ExpiresAt time.Time
	// Body is the Profile as JSON: personal data.
	Body []byte
}

// Access is one journal entry of a lookup or a read. It never holds
// personal data: the person is named by reference.
type Access struct {
	At        time.Time
	TenantID  string
	APIKeyID  string
	Operation string
	// Source is the puller's name (the journal's destination).
	Source     string
	Categories []string
	Outcome    string
	// Detail names the prefill, the basis, the person reference and, for a
	// pull, each operation's status.
	Detail string
}

// ConsentUse is one operation checked against a consent, journaled like
// a mandate's use: hash-chained, and indexed by consent and person.
type ConsentUse struct {
	At        time.Time
	TenantID  string
	APIKeyID  string
	ConsentID string
	PersonRef string
	Source    string
	Operation string
	Category  mapping.DataCategory
	// Outcome is UseOK or UseRefused, Reason the refusal's code.
	Outcome string
	Reason  string
}

// Store is what the service needs of persistence; gateway/store implements
// it on SQLite and PostgreSQL.
type Store interface {
	// Consent reads a tenant's consent; another tenant's is
	// mandate.ErrNotFound.
	Consent(ctx context.Context, tenantID, id string) (mandate.Consent, error)
	// ConsentToken returns the FranceConnect access token kept for the
	// consent while it is alive at now, "" otherwise.
	ConsentToken(ctx context.Context, tenantID, consentID string, now time.Time) (connectors.Secret, error)
	// AppendConsentUses journals uses in one transaction.
	AppendConsentUses(ctx context.Context, uses []ConsentUse) error
	// SaveProfile stores r sealed, with the lookup's journal entries, in
	// one transaction.
	SaveProfile(ctx context.Context, r Record, accesses []Access) error
	// Profile reads a tenant's prefill: ErrExpired once r.ExpiresAt is not
	// after now (while its tombstone lasts), ErrNotFound when there is none.
	Profile(ctx context.Context, tenantID, id string, now time.Time) (Record, error)
	// AppendAccesses journals reads.
	AppendAccesses(ctx context.Context, accesses []Access) error
}

// Authorizer checks a mandate's démarches before their use:
// *mandate.Service. Decide reads the mandate once and returns the use
// events without journaling them; the lookup journals them with
// JournalUses, in one write, before it calls any platform.
type Authorizer interface {
	Decide(ctx context.Context, mandateID string, c mandate.Caller, ds []mandate.Demarche, now time.Time) ([]mandate.Decision, []mandate.Event, error)
	JournalUses(ctx context.Context, events []mandate.Event) error
}

var _ Authorizer = (*mandate.Service)(nil)

// Deps are the service's collaborators.
type Deps struct {
	// Pullers are the sources, by Name; names must be distinct.
	Pullers []connectors.Puller
	// Store keeps consents, tokens, prefills and the journal. Required.
	Store Store
	// Mandates checks mandates; nil refuses every mandate as unknown.
	Mandates Authorizer
	// PersonKey keys person references, the mandate service's key: a
	// lookup's identity must have the basis's reference. At least
	// mandate.MinPersonKey bytes.
	PersonKey []byte
	// Recipient returns the SIRET of a tenant's establishment, sent to the
	// platforms as the recipient of the data. Required.
	Recipient func(ctx context.Context, tenantID string) (string, error)
	// Logger receives what goes wrong with a source, without personal
	// data. Default: discard.
	Logger *slog.Logger
	// Now is the clock. Default: time.Now.
	Now func() time.Time
	// Metrics records lookups and their sources. Default: none.
	Metrics *Metrics
}

// Service runs lookups and serves their prefills.
type Service struct {
	cfg       Config
	pullers   map[string]connectors.Puller
	ops       map[string][]connectors.PullOperation
	store     Store
	mandates  Authorizer
	personKey []byte
	recipient func(context.Context, string) (string, error)
	logger    *slog.Logger
	now       func() time.Time
	metrics   *Metrics
}

// NewService validates cfg (after WithDefaults) and deps.
func NewService(cfg Config, deps Deps) (*Service, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	switch {
	case deps.Store == nil:
		return nil, errors.New("profile: a store is required")
	case deps.Recipient == nil:
		return nil, errors.New("profile: a recipient function is required")
	case len(deps.PersonKey) < mandate.MinPersonKey:
		return nil, fmt.Errorf("profile: PersonKey must be at least %d bytes", mandate.MinPersonKey)
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	s := &Service{
		cfg: cfg, pullers: map[string]connectors.Puller{}, ops: map[string][]connectors.PullOperation{},
		store: deps.Store, mandates: deps.Mandates, personKey: slices.Clone(deps.PersonKey),
		recipient: deps.Recipient, logger: deps.Logger, now: deps.Now, metrics: deps.Metrics,
	}
	for _, p := range deps.Pullers {
		name := p.Name()
		if _, dup := s.pullers[name]; dup {
			return nil, fmt.Errorf("profile: two pullers are named %q", name)
		}
		s.pullers[name], s.ops[name] = p, slices.Clone(p.Operations())
	}
	return s, nil
}

// plan is one source of a lookup: the operations asked, those refused.
type plan struct {
	name          string
	puller        connectors.Puller
	ops           []connectors.PullOperation
	refused       map[string]refusal
	franceConnect bool
}

type refusal struct{ reason, detail string }

func (p *plan) refuse(op, reason, detail string) {
	if _, done := p.refused[op]; !done {
		p.refused[op] = refusal{reason, detail}
	}
}

// allowed lists the operations to run.
func (p *plan) allowed() []string {
	var out []string
	for _, op := range p.ops {
		if _, no := p.refused[op.Name]; !no {
			out = append(out, op.Name)
		}
	}
	return out
}

// Lookup checks the basis for every operation asked, runs the allowed ones,
// every source in parallel under the configured deadline, stores the answer
// sealed for the TTL and returns it. A refused or failed operation does not
// stop the others: the answer is partial and says why. A request the
// service will not run is a *RequestError.
func (s *Service) Lookup(ctx context.Context, c mandate.Caller, req Request) (_ *Profile, err error) {
	start := s.now().UTC()
	plans, month, err := s.validate(req)
	if err != nil {
		return nil, err
	}
	recipient, err := s.recipient(ctx, c.TenantID)
	if err != nil {
		return nil, fmt.Errorf("finding the tenant's recipient SIRET: %w", err)
	}
	ref, refOK := s.personRef(req.Identity)
	basis := Basis{Kind: BasisMandate, ID: req.MandateID}
	var token connectors.Secret
	if req.ConsentID != "" {
		basis = Basis{Kind: BasisConsent, ID: req.ConsentID}
		if token, err = s.checkConsent(ctx, c, req.ConsentID, plans, ref, refOK, start); err != nil {
			return nil, err
		}
	} else {
		uses, err := s.checkMandate(ctx, c, req.MandateID, plans, ref, refOK, start)
		if err != nil {
			return nil, err
		}
		// The uses are journaled before any platform is called: a crash
		// during the pull must not leave a call without its entry.
		if err := s.mandates.JournalUses(ctx, uses); err != nil {
			return nil, fmt.Errorf("journaling mandate uses: %w", err)
		}
	}
	q := connectors.PullQuery{Person: req.Identity, Recipient: recipient, Month: month, Fresh: req.Fresh}
	pulled := s.pull(ctx, plans, q, token)

	p := &Profile{
		ID: newID("prf"), CreatedAt: start, ExpiresAt: start.Add(s.cfg.TTL), Basis: basis, PersonRef: ref,
		Complete: true, Sources: make([]SourceResult, len(plans)), Data: emptyData(),
	}
	p.Href = "/v1/profiles/" + p.ID
	p.Basis.FranceConnect = token != "" && slices.ContainsFunc(plans, func(pl *plan) bool { return pl.franceConnect })
	accesses := make([]Access, len(plans))
	end := s.now().UTC()
	for i, pl := range plans {
		sr := s.sourceResult(pl, pulled[i], req.Identity, &p.Data)
		p.Sources[i] = sr
		p.Complete = p.Complete && sr.Status == connectors.OutcomeOK
		accesses[i] = s.pullAccess(c, p, pl, sr, end)
	}
	body, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encoding profile: %w", err)
	}
	rec := Record{ID: p.ID, TenantID: c.TenantID, CreatedAt: p.CreatedAt, ExpiresAt: p.ExpiresAt, Body: body}
	// The platforms were called: their journal entries are written even if
	// the caller has gone away meanwhile.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), saveTimeout)
	defer cancel()
	if err := s.store.SaveProfile(sctx, rec, accesses); err != nil {
		return nil, fmt.Errorf("saving profile: %w", err)
	}
	s.metrics.observe(p, pulled, s.now().Sub(start))
	return p, nil
}

// Statuses are the sources' statuses (breaker, rate limit), by name.
func (s *Service) Statuses() []connectors.Status {
	out := make([]connectors.Status, 0, len(s.pullers))
	for _, p := range s.pullers {
		out = append(out, p.Status())
	}
	slices.SortFunc(out, func(a, b connectors.Status) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Get returns a tenant's stored prefill, as JSON, and journals the read:
// ErrExpired after its TTL, ErrNotFound when there is none.
func (s *Service) Get(ctx context.Context, c mandate.Caller, id string) ([]byte, error) {
	if !profileIDPattern.MatchString(id) {
		return nil, ErrNotFound
	}
	now := s.now().UTC()
	r, err := s.store.Profile(ctx, c.TenantID, id, now)
	if err != nil {
		return nil, err
	}
	err = s.store.AppendAccesses(ctx, []Access{{
		At: now, TenantID: c.TenantID, APIKeyID: c.Actor(), Operation: OpRead, Outcome: string(connectors.OutcomeOK),
		Detail: "profile=" + id,
	}})
	if err != nil {
		return nil, fmt.Errorf("journaling profile read: %w", err)
	}
	return r.Body, nil
}

// ---- Validation ----------------------------------------------------------

// saveTimeout bounds the writing of a lookup's answer and journal.
const saveTimeout = 10 * time.Second

// Limits of a request.
const (
	maxSources    = 16
	maxOperations = 32
)

var (
	profileIDPattern = regexp.MustCompile(`^prf_[a-z2-7]{16}$`)
	monthPattern     = regexp.MustCompile(`^[0-9]{4}-(0[1-9]|1[0-2])$`)
)

func (s *Service) validate(req Request) ([]*plan, mapping.BenefitPeriod, error) {
	var (
		errs  requestErrors
		month mapping.BenefitPeriod
	)
	switch {
	case req.MandateID == "" && req.ConsentID == "":
		errs.add(CodeBasisRequired, "mandate_id", "Give the legal basis: mandate_id or consent_id.")
	case req.MandateID != "" && req.ConsentID != "":
		errs.add(CodeBasisConflict, "consent_id", "Give one legal basis only: mandate_id or consent_id, not both.")
	}
	if len(req.Sources) == 0 {
		errs.add(CodeSourcesRequired, "sources", "List at least one source.")
	}
	if len(req.Sources) > maxSources {
		errs.addField(CodeValidationFailed, "sources", "too_long", fmt.Sprintf("List at most %d sources.", maxSources))
	}
	plans := make([]*plan, 0, len(req.Sources))
	seen := map[string]bool{}
	for i, sr := range req.Sources {
		field := fmt.Sprintf("sources[%d]", i)
		p, known := s.pullers[sr.Name]
		switch {
		case !known:
			errs.add(CodeUnknownSource, field+".name", "Unknown source; see the API document for the list.")
			continue
		case seen[sr.Name]:
			errs.add(CodeDuplicateSource, field+".name", "This source is listed twice.")
			continue
		}
		seen[sr.Name] = true
		pl := &plan{name: sr.Name, puller: p, refused: map[string]refusal{}}
		if len(sr.Operations) > maxOperations {
			errs.addField(CodeValidationFailed, field+".operations", "too_long", fmt.Sprintf("List at most %d operations.", maxOperations))
		}
		if len(sr.Operations) == 0 {
			pl.ops = slices.Clone(s.ops[sr.Name])
		}
		for j, name := range sr.Operations {
			i := slices.IndexFunc(s.ops[sr.Name], func(op connectors.PullOperation) bool { return op.Name == name })
			switch {
			case i < 0:
				errs.add(CodeUnknownOperation, fmt.Sprintf("%s.operations[%d]", field, j), "This source has no such operation; see the API document.")
			case slices.Index(sr.Operations, name) != j:
				errs.addField(CodeValidationFailed, fmt.Sprintf("%s.operations[%d]", field, j), "duplicate_value", "This operation is listed twice.")
			default:
				pl.ops = append(pl.ops, s.ops[sr.Name][i])
			}
		}
		plans = append(plans, pl)
	}
	for _, fe := range req.Identity.Validate() {
		errs.addField(CodeValidationFailed, "identity."+fe.Field, fe.Code, "identity."+fe.Field+" "+fe.Detail+".")
	}
	if req.Month != "" {
		if !monthPattern.MatchString(req.Month) {
			errs.addField(CodeValidationFailed, "month", "invalid_format", "month must be YYYY-MM.")
		} else {
			t, _ := time.Parse("2006-01", req.Month)
			month = mapping.BenefitPeriod{Year: t.Year(), Month: int(t.Month())}
		}
	}
	if err := errs.err(); err != nil {
		return nil, month, err
	}
	return plans, month, nil
}

// personRef is the reference of the identity asked for, as a basis carries
// it: false when the identity cannot be a basis's (a partial birth date,
// an unknown sex or birth place).
func (s *Service) personRef(p mapping.Person) (string, bool) {
	bp, ok := BasisPerson(p)
	if !ok {
		return "", false
	}
	return mandate.PersonRef(s.personKey, bp), true
}

// BasisPerson converts a canonical identity to the traits mandates and
// consents are keyed by: the birth name, the given names in order joined by
// spaces, the full birth date, the sex, the birth commune and country.
// False when p has no full birth date, no known sex or no birth country.
func BasisPerson(p mapping.Person) (mandate.Person, bool) {
	if p.BirthDate.Precision() != mapping.PrecisionDay {
		return mandate.Person{}, false
	}
	var sex string
	switch p.Sex {
	case mapping.SexFemale:
		sex = "female"
	case mapping.SexMale:
		sex = "male"
	default:
		return mandate.Person{}, false
	}
	country := p.BirthCountryCOG
	if country == "" && p.BirthPlaceCOG != "" {
		country = mapping.CountryFrance
	}
	if country == "" {
		return mandate.Person{}, false
	}
	return mandate.Person{
		FamilyName: p.BirthFamilyName, GivenNames: strings.Join(p.GivenNames, " "), BirthDate: string(p.BirthDate),
		Sex: sex, BirthPlace: p.BirthPlaceCOG, BirthCountry: country,
	}, true
}

// ---- Bases ----------------------------------------------------------------

// checkMandate checks, in one read, every démarche the operations need
// against the mandate (mandate.Service.Decide), and refuses the operations
// of the démarches the mandate refuses, or all of them when the identity
// is not the mandate's person. It returns the use events to journal.
func (s *Service) checkMandate(ctx context.Context, c mandate.Caller, id string, plans []*plan, ref string, refOK bool, now time.Time) ([]mandate.Event, error) {
	if s.mandates == nil || !mandate.ValidID(id) {
		return nil, basisNotFound("mandate_id")
	}
	var ds []mandate.Demarche
	for _, p := range plans {
		for _, op := range p.ops {
			if !slices.Contains(ds, op.Demarche) {
				ds = append(ds, op.Demarche)
			}
		}
	}
	decisions, uses, err := s.mandates.Decide(ctx, id, c, ds, now)
	if errors.Is(err, mandate.ErrNotFound) {
		return nil, basisNotFound("mandate_id")
	} else if err != nil {
		return nil, fmt.Errorf("authorizing mandate use: %w", err)
	}
	for _, p := range plans {
		for _, op := range p.ops {
			i := slices.IndexFunc(decisions, func(d mandate.Decision) bool { return d.Demarche == op.Demarche })
			if i < 0 {
				return nil, fmt.Errorf("authorizing mandate use: no decision about démarche %s", op.Demarche)
			}
			re, isRefusal := errors.AsType[*mandate.RefusedError](decisions[i].Err)
			switch {
			case isRefusal:
				p.refuse(op.Name, re.Code, mandateRefusalDetail(re.Code))
			case decisions[i].Err != nil:
				return nil, fmt.Errorf("authorizing mandate use: %w", decisions[i].Err)
			case !refOK || decisions[i].Use.PersonRef != ref:
				p.refuse(op.Name, ReasonIdentityNotCovered, "The identity asked for is not the person the mandate was given for.")
			}
		}
	}
	return uses, nil
}

func mandateRefusalDetail(code string) string {
	switch code {
	case mandate.CodeExpired:
		return "The mandate has expired."
	case mandate.CodeRevoked:
		return "The mandate was revoked."
	case mandate.CodeOtherOrganisation:
		return "The mandate is held by another organisation."
	case mandate.CodeNotActive:
		return "The mandate still waits for the person's SMS code."
	case mandate.CodeDemarcheNotCovered:
		return "The mandate does not cover this operation's démarche."
	}
	return "The mandate does not allow this operation."
}

// checkConsent checks every operation against the consent: in force, given
// by the person asked for, covering the source and the operation's data
// category. Each check is journaled. It
// returns the consent's FranceConnect token when one is alive and an
// allowed operation can use it.
func (s *Service) checkConsent(ctx context.Context, c mandate.Caller, id string, plans []*plan, ref string, refOK bool, now time.Time) (connectors.Secret, error) {
	if !mandate.ValidConsentID(id) {
		return "", basisNotFound("consent_id")
	}
	cons, err := s.store.Consent(ctx, c.TenantID, id)
	if errors.Is(err, mandate.ErrNotFound) {
		return "", basisNotFound("consent_id")
	} else if err != nil {
		return "", fmt.Errorf("reading consent: %w", err)
	}
	var (
		uses   []ConsentUse
		wantFC bool
	)
	for _, p := range plans {
		for _, op := range p.ops {
			var reason, detail string
			switch {
			case !cons.ActiveAt(now):
				reason, detail = ReasonConsentExpired, "The consent is not in force."
			case !refOK || cons.PersonRef != ref:
				reason, detail = ReasonIdentityNotCovered, "The identity asked for is not the person who gave the consent."
			case !slices.Contains(cons.Platforms, p.name):
				reason, detail = ReasonConsentPlatform, "The consent does not cover this source."
			case !slices.Contains(cons.Categories, string(op.Category)):
				reason, detail = ReasonConsentCategory, "The consent does not cover this operation's data category."
			}
			use := ConsentUse{
				At: now, TenantID: c.TenantID, APIKeyID: c.Actor(), ConsentID: cons.ID, PersonRef: cons.PersonRef,
				Source: p.name, Operation: op.Name, Category: op.Category, Outcome: UseOK,
			}
			if reason != "" {
				p.refuse(op.Name, reason, detail)
				use.Outcome, use.Reason = UseRefused, reason
			} else if op.FranceConnect {
				p.franceConnect, wantFC = true, true
			}
			uses = append(uses, use)
		}
	}
	if err := s.store.AppendConsentUses(ctx, uses); err != nil {
		return "", fmt.Errorf("journaling consent use: %w", err)
	}
	if !wantFC {
		return "", nil
	}
	token, err := s.store.ConsentToken(ctx, c.TenantID, cons.ID, now)
	if err != nil {
		return "", fmt.Errorf("reading the consent's access token: %w", err)
	}
	return token, nil
}

// ---- Pulling --------------------------------------------------------------

// pulled is what one source answered.
type pulled struct {
	// ran: the source was started; done: it answered in time.
	ran   bool
	done  bool
	items []connectors.PullItem
	err   error
	took  time.Duration
}

// pull runs every source with operations left in parallel, under one
// deadline. A source still running at the deadline is left to finish on
// its own (its context is cancelled: pullers honour it) and counts as
// timed out.
func (s *Service) pull(ctx context.Context, plans []*plan, base connectors.PullQuery, token connectors.Secret) []pulled {
	out := make([]pulled, len(plans))
	dctx, cancel := context.WithTimeout(ctx, s.cfg.Deadline)
	defer cancel()
	type answer struct {
		i int
		pulled
	}
	answers := make(chan answer, len(plans))
	waiting := 0
	for i, p := range plans {
		ops := p.allowed()
		if len(ops) == 0 {
			continue
		}
		out[i].ran = true
		waiting++
		go func() {
			got := pulled{ran: true, done: true}
			q := base
			q.Operations = ops
			if p.franceConnect {
				q.AccessToken = token
			}
			start := s.now()
			got.items, got.err = s.safePull(dctx, p.puller, &q)
			got.took = s.now().Sub(start)
			answers <- answer{i, got}
		}()
	}
	for waiting > 0 {
		select {
		case a := <-answers:
			out[a.i] = a.pulled
			waiting--
		case <-dctx.Done():
			return out
		}
	}
	return out
}

// errPullPanicked is the error of a source whose Pull panicked.
var errPullPanicked = errors.New("the source panicked")

// safePull runs Pull, turning a panic into that source's error: one
// source's bug must not take the others', nor the process, down.
func (s *Service) safePull(ctx context.Context, p connectors.Puller, q *connectors.PullQuery) (items []connectors.PullItem, err error) {
	defer func() {
		if v := recover(); v != nil {
			s.logger.Error("source panicked", slog.String("source", p.Name()), slog.String("panic", fmt.Sprint(v)),
				slog.String("stack", string(debug.Stack())))
			items, err = nil, errPullPanicked
		}
	}()
	return p.Pull(ctx, q)
}

// sourceResult turns a source's answer into its result, adding its data
// to d.
func (s *Service) sourceResult(p *plan, got pulled, asked mapping.Person, d *Data) SourceResult {
	sr := SourceResult{Name: p.name, Operations: make([]OperationResult, 0, len(p.ops)), DurationMS: got.took.Milliseconds()}
	if got.done && got.err != nil {
		s.logger.Warn("source failed", slog.String("source", p.name), slog.String("error", got.err.Error()))
	}
	var checks []mapping.IdentityMatch
	for _, op := range p.ops {
		or := OperationResult{Name: op.Name}
		if r, no := p.refused[op.Name]; no {
			or.Status, or.Reason, or.Detail = connectors.OutcomeRefused, r.reason, r.detail
			sr.Operations = append(sr.Operations, or)
			continue
		}
		switch {
		case got.ran && !got.done:
			or.Status, or.Reason, or.Detail = connectors.OutcomeTimeout, ReasonDeadline, "The source did not answer before the lookup's deadline."
		case errors.Is(got.err, connectors.ErrInvalidQuery):
			or.Status, or.Reason, or.Detail = connectors.OutcomeRefused, ReasonInvalidQuery,
				"The source cannot run this query: it lacks what it needs (the organisation's SIRET, an identifier of the person)."
		case got.err != nil:
			or.Status, or.Reason, or.Detail = connectors.OutcomeOf(got.err), ReasonSourceFailed, outcomeDetail(connectors.OutcomeOf(got.err))
		default:
			i := slices.IndexFunc(got.items, func(it connectors.PullItem) bool { return it.Operation == op.Name })
			if i < 0 {
				or.Status, or.Reason, or.Detail = connectors.OutcomeError, ReasonMissingItem, "The source returned nothing for this operation."
				break
			}
			it := &got.items[i]
			if it.Err != nil {
				or.Status, or.Detail = connectors.OutcomeOf(it.Err), outcomeDetail(connectors.OutcomeOf(it.Err))
				if ce, ok := errors.AsType[*connectors.Error](it.Err); ok {
					or.Reason = ce.Code
				}
				if or.Status != connectors.OutcomeNotFound {
					s.logger.Warn("source operation failed", slog.String("source", p.name), slog.String("operation", op.Name),
						slog.String("outcome", string(or.Status)), slog.String("error", it.Err.Error()))
				}
				break
			}
			fetched := it.FetchedAt.UTC()
			or.Status, or.Provider, or.FetchedAt, or.Cached = connectors.OutcomeOK, it.Provider, &fetched, it.Cached
			prov := Provenance{Source: p.name, Operation: op.Name, Provider: it.Provider, FetchedAt: fetched, Cached: it.Cached, Identity: IdentityNotReturned}
			if it.Identity != nil {
				m := mapping.MatchIdentity(&asked, it.Identity)
				prov.Identity = string(m.Status)
				checks = append(checks, m)
			}
			addData(d, it, prov)
		}
		sr.Operations = append(sr.Operations, or)
	}
	sr.Identity = sumChecks(checks)
	sr.Status = SourceStatus(sr.Operations)
	return sr
}

// sumChecks sums up a source's identity checks: mismatch when one is,
// otherwise unverified when one is, otherwise match; the fields of all of
// them. Nil when the source returned no identity.
func sumChecks(checks []mapping.IdentityMatch) *IdentityCheck {
	if len(checks) == 0 {
		return nil
	}
	sum := &IdentityCheck{Status: string(mapping.MatchStatusMatch)}
	for _, m := range checks {
		switch {
		case m.Status == mapping.MatchStatusMismatch:
			sum.Status = string(mapping.MatchStatusMismatch)
		case m.Status == mapping.MatchStatusUnverified && sum.Status == string(mapping.MatchStatusMatch):
			sum.Status = string(mapping.MatchStatusUnverified)
		}
		sum.Mismatched = union(sum.Mismatched, m.Mismatched)
		sum.Unchecked = union(sum.Unchecked, m.Unchecked)
	}
	return sum
}

func union(a, b []string) []string {
	for _, v := range b {
		if !slices.Contains(a, v) {
			a = append(a, v)
		}
	}
	return a
}

func addData(d *Data, it *connectors.PullItem, prov Provenance) {
	if it.Identity != nil {
		dup := slices.ContainsFunc(d.Persons, func(v Sourced[mapping.Person]) bool {
			return v.Provenance.Source == prov.Source && samePerson(v.Value, *it.Identity)
		})
		if !dup {
			d.Persons = append(d.Persons, Sourced[mapping.Person]{Value: *it.Identity, Provenance: prov})
		}
	}
	if it.Household != nil {
		d.Households = append(d.Households, Sourced[mapping.Household]{Value: *it.Household, Provenance: prov})
	}
	for _, b := range it.Benefits {
		d.Benefits = append(d.Benefits, Sourced[mapping.Benefit]{Value: b, Provenance: prov})
	}
	if it.Employment != nil {
		d.EmploymentRegistrations = append(d.EmploymentRegistrations, Sourced[mapping.EmploymentRegistration]{Value: *it.Employment, Provenance: prov})
	}
	for _, pm := range it.Payments {
		d.Payments = append(d.Payments, Sourced[mapping.Payment]{Value: pm, Provenance: prov})
	}
}

func samePerson(a, b mapping.Person) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && string(ja) == string(jb)
}

// outcomeDetail explains an outcome, in English, without the platform's
// words (which may quote the identity).
func outcomeDetail(o connectors.Outcome) string {
	switch o {
	case connectors.OutcomeNotFound:
		return "The platform knows no such person or no such right."
	case connectors.OutcomeUnavailable:
		return "The platform is unavailable (its breaker is open or it is down); try again later."
	case connectors.OutcomeRateLimited:
		return "The platform's rate limit was reached; try again later."
	case connectors.OutcomeTimeout:
		return "The platform did not answer in time."
	case connectors.OutcomeRefused:
		return "The platform refused the call (credentials, scope or recipient)."
	}
	return "The platform call failed; operators see why in the logs."
}

// pullAccess is the journal entry of one source's pull.
func (s *Service) pullAccess(c mandate.Caller, p *Profile, pl *plan, sr SourceResult, at time.Time) Access {
	var cats []string
	for _, op := range pl.ops {
		if !slices.Contains(cats, string(op.Category)) {
			cats = append(cats, string(op.Category))
		}
	}
	slices.Sort(cats)
	ops := make([]string, len(sr.Operations))
	for i, o := range sr.Operations {
		ops[i] = o.Name + ":" + string(o.Status)
	}
	return Access{
		At: at, TenantID: c.TenantID, APIKeyID: c.Actor(), Operation: OpPull, Source: pl.name, Categories: cats,
		Outcome: string(sr.Status),
		Detail: fmt.Sprintf("profile=%s %s=%s person=%s france_connect=%t operations=%s", p.ID, p.Basis.Kind, p.Basis.ID,
			p.PersonRef, pl.franceConnect && p.Basis.FranceConnect, strings.Join(ops, ",")),
	}
}

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// newID returns prefix_ followed by 80 random bits.
func newID(prefix string) string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return prefix + "_" + idEncoding.EncodeToString(b[:])
}
