package mandate

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Journal actions, on the Aidants Connect model.
const (
	ActionCreateMandat       = "create_mandat"
	ActionCreateAutorisation = "create_autorisation"
	ActionConfirmMandat      = "confirm_mandat"
	ActionCancelMandat       = "cancel_mandat"
	ActionRenewMandat        = "renew_mandat"
	ActionTransferMandat     = "transfer_mandat"
	ActionUseAutorisation    = "use_autorisation"
)

// Journal outcomes.
const (
	OutcomeOK      = "ok"
	OutcomeRefused = "refused"
)

// Event is one journal entry about a mandate. It references the mandate
// and the person by id and reference only.
type Event struct {
	// Seq is the journal's sequence number, set when read back.
	Seq       int64
	At        time.Time
	TenantID  string
	APIKeyID  string
	Action    string
	MandateID string
	PersonRef string
	Demarches []Demarche
	// Outcome is ok or refused.
	Outcome string
	// Detail is a short note without personal data: the refusal code, the
	// professional a mandate went to.
	Detail string
}

// SMS is one message in the outbox. In the sandbox the outbox is the
// only SMS gateway: tests and people read the codes there.
type SMS struct {
	ID        string
	TenantID  string
	MandateID string
	To        string
	Body      string
	CreatedAt time.Time
}

// Store is what the service needs of persistence. Each write commits the
// change and its journal events together.
type Store interface {
	// CreateMandate inserts m, the SMS to send if any, and events.
	CreateMandate(ctx context.Context, m Mandate, sms *SMS, events []Event) error
	// Mandate reads a mandate whatever its tenant, or ErrNotFound.
	Mandate(ctx context.Context, id string) (Mandate, error)
	// MandatesByPerson lists a tenant's mandates for one person, oldest
	// first.
	MandatesByPerson(ctx context.Context, tenantID, personRef string) ([]Mandate, error)
	// UpdateMandate writes m if its stored version is still m.Version-1,
	// else returns ErrVersionConflict.
	UpdateMandate(ctx context.Context, m Mandate, events []Event) error
	// AppendMandateEvents journals events outside any change.
	AppendMandateEvents(ctx context.Context, events []Event) error
	// MandateJournal lists a tenant's events about one person, in order.
	MandateJournal(ctx context.Context, tenantID, personRef string) ([]Event, error)
}

// Caller is who acts: a tenant through one of its API keys, or one of its
// professionals signed in through ProConnect in the professional space.
type Caller struct {
	TenantID string
	// APIKeyID is the API key that acts; empty for a professional.
	APIKeyID string
	// ProfessionalID is the ProConnect subject of the professional who
	// acts in person; empty for an API key. When set, a mandate the caller
	// creates must be held by this professional.
	ProfessionalID string
}

// Actors the journal records besides API key ids (its api_key_id column).
const (
	// ActorProfessionalPrefix, followed by the ProConnect subject, is a
	// professional acting in the professional space.
	ActorProfessionalPrefix = "pro:"
	// ActorPerson is the person themself, signed in through FranceConnect
	// (a consent given or withdrawn).
	ActorPerson = "person"
)

// Actor is how the journal names c: its API key id, or
// ActorProfessionalPrefix and the professional's subject.
func (c Caller) Actor() string {
	if c.APIKeyID == "" && c.ProfessionalID != "" {
		return ActorProfessionalPrefix + c.ProfessionalID
	}
	return c.APIKeyID
}

// Config configures a Service.
type Config struct {
	// PersonKey keys the person references and the SMS code hashes; at
	// least 32 bytes. Changing it changes every person reference, so it is
	// configured once and kept. Required.
	PersonKey []byte
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// CodeTTL is how long an SMS code is valid. Default 15 minutes.
	CodeTTL time.Duration
	// MaxCodeAttempts is how many wrong codes end a code. Default 5.
	MaxCodeAttempts int
}

// Service applies the mandate rules over a Store.
type Service struct {
	store Store
	cfg   Config
}

// MinPersonKey is the shortest PersonKey accepted.
const MinPersonKey = 32

// NewService returns a Service over st.
func NewService(st Store, cfg Config) (*Service, error) {
	if st == nil {
		return nil, errors.New("mandate: a store is required")
	}
	if len(cfg.PersonKey) < MinPersonKey {
		return nil, fmt.Errorf("mandate: PersonKey must be at least %d bytes", MinPersonKey)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.CodeTTL <= 0 {
		cfg.CodeTTL = 15 * time.Minute
	}
	if cfg.MaxCodeAttempts <= 0 {
		cfg.MaxCodeAttempts = 5
	}
	cfg.PersonKey = slices.Clone(cfg.PersonKey)
	return &Service{store: st, cfg: cfg}, nil
}

// PersonRef is p's reference under the service's key.
func (s *Service) PersonRef(p Person) string { return PersonRef(s.cfg.PersonKey, p) }

// NewMandate is what a professional asks for.
type NewMandate struct {
	Professional Professional
	Person       Person
	Demarches    []Demarche
	DurationDays int
	Consent      ConsentMethod
	// AttestationSHA256 is required for in_person: hex, 64 characters.
	AttestationSHA256 string
	// Phone is required for remote_sms: a French mobile number in E.164
	// (+336..., +337...).
	Phone string
}

var (
	sha256Pattern = regexp.MustCompile(`^[0-9a-f]{64}$`)
	phonePattern  = regexp.MustCompile(`^\+33[67][0-9]{8}$`)
)

func (n NewMandate) validate(c Caller, now time.Time) error {
	var errs fieldErrors
	checkText(&errs, "professional.id", n.Professional.ID)
	checkText(&errs, "professional.name", n.Professional.Name)
	if c.ProfessionalID != "" && n.Professional.ID != c.ProfessionalID {
		errs.add("professional.id", "invalid_value", "A professional signed in creates mandates they hold themself.")
	}
	n.Person.validate(&errs, "person.", now)
	if len(n.Demarches) == 0 {
		errs.add("demarches", "required", "List at least one démarche.")
	}
	seen := map[Demarche]bool{}
	for i, d := range n.Demarches {
		field := fmt.Sprintf("demarches[%d]", i)
		switch {
		case !d.Valid():
			errs.add(field, "invalid_value", "Unknown démarche; see the API document for the list.")
		case seen[d]:
			errs.add(field, "duplicate_value", "This démarche is listed twice.")
		}
		seen[d] = true
	}
	if !ValidDuration(n.DurationDays) {
		errs.add("duration_days", "invalid_value", "duration_days must be 1, 31, 182 or 365.")
	}
	switch n.Consent {
	case InPerson:
		if !sha256Pattern.MatchString(n.AttestationSHA256) {
			errs.add("attestation_sha256", "invalid_format", "attestation_sha256 must be the attestation's SHA-256, 64 lower-case hex digits.")
		}
		if n.Phone != "" {
			errs.add("phone", "invalid_value", "phone is only given for remote_sms consent.")
		}
	case RemoteSMS:
		if !phonePattern.MatchString(n.Phone) {
			errs.add("phone", "invalid_format", "phone must be a French mobile number in E.164 form, +336 or +337 and 8 digits.")
		}
		if n.AttestationSHA256 != "" {
			errs.add("attestation_sha256", "invalid_value", "attestation_sha256 is only given for in_person consent.")
		}
	default:
		errs.add("consent_method", "invalid_value", "consent_method must be in_person or remote_sms.")
	}
	return errs.err()
}

// Create records a new mandate for c's tenant: active at once for
// in_person consent, a draft waiting for its SMS code for remote_sms.
// Invalid requests are *ValidationError.
func (s *Service) Create(ctx context.Context, c Caller, n NewMandate) (Mandate, error) {
	now := s.cfg.Now().UTC()
	if err := n.validate(c, now); err != nil {
		return Mandate{}, err
	}
	m := Mandate{
		ID: newID("mdt"), TenantID: c.TenantID, Professional: n.Professional, Person: n.Person, Phone: n.Phone,
		PersonRef: s.PersonRef(n.Person), Demarches: slices.Clone(n.Demarches), DurationDays: n.DurationDays,
		Consent: n.Consent, AttestationSHA256: n.AttestationSHA256, Status: StatusActive,
		CreatedAt: now, ExpiresAt: ExpiresAt(now, n.DurationDays), Version: 1,
	}
	var sms *SMS
	if n.Consent == RemoteSMS {
		code := newCode()
		exp := now.Add(s.cfg.CodeTTL)
		m.Status, m.CodeHash, m.CodeExpiresAt = StatusDraft, s.codeHash(m.ID, code), &exp
		sms = &SMS{
			ID: newID("sms"), TenantID: m.TenantID, MandateID: m.ID, To: n.Phone, CreatedAt: now,
			Body: fmt.Sprintf("Relais : %s demande votre accord pour vous aider dans vos démarches (%s) pendant %s. "+
				"Si vous êtes d'accord, donnez-lui ce code : %s. Il expire dans %d minutes.",
				n.Professional.Name, joinDemarches(m.Demarches), durationFR(n.DurationDays), code, int(s.cfg.CodeTTL.Minutes())),
		}
	} else {
		m.ConfirmedAt = &now
	}
	events := []Event{s.event(c, m, ActionCreateMandat, OutcomeOK, fmt.Sprintf("consent=%s duration_days=%d status=%s", m.Consent, m.DurationDays, m.Status))}
	if m.Status == StatusActive {
		events = append(events, s.autorisations(c, m)...)
	}
	if err := s.store.CreateMandate(ctx, m, sms, events); err != nil {
		return Mandate{}, fmt.Errorf("creating mandate: %w", err)
	}
	return m, nil
}

func (s *Service) event(c Caller, m Mandate, action, outcome, detail string, demarches ...Demarche) Event {
	if demarches == nil {
		demarches = m.Demarches
	}
	return Event{
		At: s.cfg.Now().UTC(), TenantID: m.TenantID, APIKeyID: c.Actor(), Action: action, MandateID: m.ID,
		PersonRef: m.PersonRef, Demarches: slices.Clone(demarches), Outcome: outcome, Detail: detail,
	}
}

// autorisations are the create_autorisation events, one per démarche.
func (s *Service) autorisations(c Caller, m Mandate) []Event {
	out := make([]Event, len(m.Demarches))
	for i, d := range m.Demarches {
		out[i] = s.event(c, m, ActionCreateAutorisation, OutcomeOK, "expires_at="+m.ExpiresAt.Format(time.RFC3339), d)
	}
	return out
}

func joinDemarches(ds []Demarche) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = string(d)
	}
	return strings.Join(parts, ", ")
}

func durationFR(days int) string {
	if days == 1 {
		return "1 jour"
	}
	return fmt.Sprintf("%d jours", days)
}

// newCode returns a uniformly random 6-digit code.
func newCode() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		panic(fmt.Sprintf("mandate: reading randomness: %v", err)) // crypto/rand does not fail
	}
	return fmt.Sprintf("%06d", n.Int64())
}

func (s *Service) codeHash(mandateID, code string) []byte {
	mac := hmac.New(sha256.New, s.cfg.PersonKey)
	mac.Write([]byte("relais-sms-code-v1\x00" + mandateID + "\x00" + code))
	return mac.Sum(nil)
}

// Get returns a mandate of tenantID; another tenant's is ErrNotFound.
func (s *Service) Get(ctx context.Context, tenantID, id string) (Mandate, error) {
	if !ValidID(id) {
		return Mandate{}, ErrNotFound
	}
	m, err := s.store.Mandate(ctx, id)
	if err != nil {
		return Mandate{}, fmt.Errorf("reading mandate: %w", err)
	}
	if m.TenantID != tenantID {
		return Mandate{}, ErrNotFound
	}
	return m, nil
}

// ListByPerson lists tenantID's mandates for the person personRef.
func (s *Service) ListByPerson(ctx context.Context, tenantID, personRef string) ([]Mandate, error) {
	ms, err := s.store.MandatesByPerson(ctx, tenantID, personRef)
	if err != nil {
		return nil, fmt.Errorf("listing mandates: %w", err)
	}
	return ms, nil
}

// Journal lists tenantID's mandate events about personRef, in order.
func (s *Service) Journal(ctx context.Context, tenantID, personRef string) ([]Event, error) {
	evs, err := s.store.MandateJournal(ctx, tenantID, personRef)
	if err != nil {
		return nil, fmt.Errorf("reading mandate journal: %w", err)
	}
	return evs, nil
}

// update reads the mandate, applies change, and writes it with the events
// change returns, retrying on a concurrent update. A change that returns
// an error with events still journals them (a refused confirmation).
func (s *Service) update(ctx context.Context, c Caller, id string, change func(m *Mandate, now time.Time) ([]Event, error)) (Mandate, error) {
	for range 5 {
		m, err := s.Get(ctx, c.TenantID, id)
		if err != nil {
			return Mandate{}, err
		}
		now := s.cfg.Now().UTC()
		before := m
		events, cerr := change(&m, now)
		if cerr != nil {
			if len(events) > 0 && m.Version != before.Version {
				// The refusal changed the mandate (a failed code attempt).
				if err := s.store.UpdateMandate(ctx, m, events); errors.Is(err, ErrVersionConflict) {
					continue
				} else if err != nil {
					return Mandate{}, fmt.Errorf("updating mandate: %w", err)
				}
			} else if len(events) > 0 {
				if err := s.store.AppendMandateEvents(ctx, events); err != nil {
					return Mandate{}, fmt.Errorf("journaling refusal: %w", err)
				}
			}
			return Mandate{}, cerr
		}
		if m.Version == before.Version {
			return m, nil // nothing changed
		}
		err = s.store.UpdateMandate(ctx, m, events)
		if errors.Is(err, ErrVersionConflict) {
			continue
		}
		if err != nil {
			return Mandate{}, fmt.Errorf("updating mandate: %w", err)
		}
		return m, nil
	}
	return Mandate{}, fmt.Errorf("updating mandate %s: %w", id, ErrVersionConflict)
}

// Confirm activates a remote_sms draft with the code the person received.
// A wrong code counts as an attempt; after MaxCodeAttempts, or after
// CodeTTL, the code is dead and a new mandate must be made.
func (s *Service) Confirm(ctx context.Context, c Caller, id, code string) (Mandate, error) {
	return s.update(ctx, c, id, func(m *Mandate, now time.Time) ([]Event, error) {
		refuse := func(rcode string) ([]Event, error) {
			return []Event{s.event(c, *m, ActionConfirmMandat, OutcomeRefused, "reason="+rcode)}, refused(rcode, *m, "")
		}
		switch m.StatusAt(now) {
		case StatusRevoked:
			return refuse(CodeRevoked)
		case StatusExpired:
			return refuse(CodeExpired)
		case StatusActive:
			return refuse(CodeNotDraft)
		}
		if m.CodeHash == nil || m.CodeExpiresAt == nil || !now.Before(*m.CodeExpiresAt) || m.CodeAttempts >= s.cfg.MaxCodeAttempts {
			return refuse(CodeCodeExpired)
		}
		if !hmac.Equal(m.CodeHash, s.codeHash(m.ID, code)) {
			m.CodeAttempts++
			m.Version++
			return refuse(CodeInvalidCode)
		}
		m.Status, m.ConfirmedAt, m.CodeHash, m.CodeExpiresAt = StatusActive, &now, nil, nil
		m.Version++
		events := []Event{s.event(c, *m, ActionConfirmMandat, OutcomeOK, "consent=remote_sms")}
		return append(events, s.autorisations(c, *m)...), nil
	})
}

// Revoke ends a mandate now. Revoking a revoked mandate changes nothing.
func (s *Service) Revoke(ctx context.Context, c Caller, id string) (Mandate, error) {
	return s.update(ctx, c, id, func(m *Mandate, now time.Time) ([]Event, error) {
		if m.Status == StatusRevoked {
			return nil, nil
		}
		m.Status, m.RevokedAt, m.CodeHash, m.CodeExpiresAt = StatusRevoked, &now, nil, nil
		m.Version++
		return []Event{s.event(c, *m, ActionCancelMandat, OutcomeOK, "")}, nil
	})
}

// Renew gives an active or expired mandate a new expiry, its duration
// from now, with the same démarches. A revoked mandate or a draft cannot
// be renewed.
func (s *Service) Renew(ctx context.Context, c Caller, id string) (Mandate, error) {
	return s.update(ctx, c, id, func(m *Mandate, now time.Time) ([]Event, error) {
		switch m.StatusAt(now) {
		case StatusRevoked:
			return nil, refused(CodeRevoked, *m, "")
		case StatusDraft:
			return nil, refused(CodeNotActive, *m, "")
		}
		m.Status, m.ExpiresAt = StatusActive, ExpiresAt(now, m.DurationDays)
		m.Version++
		return []Event{s.event(c, *m, ActionRenewMandat, OutcomeOK, "expires_at="+m.ExpiresAt.Format(time.RFC3339))}, nil
	})
}

// Transfer hands a live mandate to another professional of the same
// tenant (the tenant is the organisation: the caller's tenant is the only
// one the mandate can stay in).
func (s *Service) Transfer(ctx context.Context, c Caller, id string, to Professional) (Mandate, error) {
	var errs fieldErrors
	checkText(&errs, "professional.id", to.ID)
	checkText(&errs, "professional.name", to.Name)
	if err := errs.err(); err != nil {
		return Mandate{}, err
	}
	return s.update(ctx, c, id, func(m *Mandate, now time.Time) ([]Event, error) {
		switch m.StatusAt(now) {
		case StatusRevoked:
			return nil, refused(CodeRevoked, *m, "")
		case StatusExpired:
			return nil, refused(CodeExpired, *m, "")
		}
		if m.Professional.ID == to.ID && m.Professional.Name == to.Name {
			return nil, nil
		}
		from := m.Professional.ID
		m.Professional = to
		m.Version++
		return []Event{s.event(c, *m, ActionTransferMandat, OutcomeOK, "from="+from+" to="+to.ID)}, nil
	})
}

// Use is a granted use of a mandate: who the platform must be told about,
// under which mandate and démarche.
type Use struct {
	MandateID    string
	PersonRef    string
	Person       Person
	Professional Professional
	Demarche     Demarche
	At           time.Time
	ExpiresAt    time.Time
}

// Authorize checks, before each use, that the mandate exists, is held by
// the caller's tenant, is active, not expired, not revoked, and covers
// demarche. Every answer but "no such mandate" is journaled: a
// use_autorisation entry, refused ones with their code. A refusal is a
// *RefusedError; an unknown mandate is ErrNotFound.
func (s *Service) Authorize(ctx context.Context, mandateID string, c Caller, demarche Demarche, now time.Time) (Use, error) {
	ds, err := s.AuthorizeAll(ctx, mandateID, c, []Demarche{demarche}, now)
	if err != nil {
		return Use{}, err
	}
	return ds[0].Use, ds[0].Err
}

// Decision is the answer about one démarche of a batch authorisation.
type Decision struct {
	Demarche Demarche
	// Use is the granted use; zero when refused.
	Use Use
	// Err is the *RefusedError of a refused démarche; nil when granted.
	Err error
}

// AuthorizeAll is Authorize for several démarches of one mandate at once:
// one read of the mandate and one write journaling every use, a
// use_autorisation entry per distinct démarche in the order given, with
// the refusals and journal entries Authorize gives one by one. It returns
// a Decision per distinct démarche, in that order. An unknown mandate is
// ErrNotFound, and nothing is journaled.
func (s *Service) AuthorizeAll(ctx context.Context, mandateID string, c Caller, demarches []Demarche, now time.Time) ([]Decision, error) {
	out, events, err := s.Decide(ctx, mandateID, c, demarches, now)
	if err != nil {
		return nil, err
	}
	if err := s.JournalUses(ctx, events); err != nil {
		return nil, err
	}
	return out, nil
}

// Decide checks like AuthorizeAll and journals nothing: it returns the
// use_autorisation events that the caller must journal, with JournalUses
// or in a transaction of its own (the profile lookups journal them with
// their answer), before it tells anyone the outcome. A use whose event is
// not journaled must not be reported as done.
func (s *Service) Decide(ctx context.Context, mandateID string, c Caller, demarches []Demarche, now time.Time) ([]Decision, []Event, error) {
	if !ValidID(mandateID) {
		return nil, nil, ErrNotFound
	}
	m, err := s.store.Mandate(ctx, mandateID)
	if err != nil {
		return nil, nil, fmt.Errorf("reading mandate: %w", err)
	}
	var (
		out    = make([]Decision, 0, len(demarches))
		events = make([]Event, 0, len(demarches))
		st     = m.StatusAt(now)
	)
	for _, d := range demarches {
		if slices.ContainsFunc(out, func(dec Decision) bool { return dec.Demarche == d }) {
			continue
		}
		var code string
		switch {
		case m.TenantID != c.TenantID:
			code = CodeOtherOrganisation
		case st == StatusRevoked:
			code = CodeRevoked
		case st == StatusExpired:
			code = CodeExpired
		case st != StatusActive:
			code = CodeNotActive
		case !m.Covers(d):
			code = CodeDemarcheNotCovered
		}
		ev := s.event(c, m, ActionUseAutorisation, OutcomeOK, "", d)
		ev.At = now.UTC()
		dec := Decision{Demarche: d}
		if code != "" {
			ev.Outcome, ev.Detail = OutcomeRefused, "reason="+code
			if code == CodeOtherOrganisation {
				// Journaled for the mandate's organisation, naming the caller.
				ev.Detail += " caller_tenant=" + c.TenantID
			}
			dec.Err = refused(code, m, d)
		} else {
			dec.Use = Use{
				MandateID: m.ID, PersonRef: m.PersonRef, Person: m.Person, Professional: m.Professional,
				Demarche: d, At: now.UTC(), ExpiresAt: m.ExpiresAt,
			}
		}
		out, events = append(out, dec), append(events, ev)
	}
	return out, events, nil
}

// JournalUses journals the events Decide returned, in one transaction.
func (s *Service) JournalUses(ctx context.Context, events []Event) error {
	if len(events) == 0 {
		return nil
	}
	if err := s.store.AppendMandateEvents(ctx, events); err != nil {
		return fmt.Errorf("journaling mandate use: %w", err)
	}
	return nil
}

// AttestationSHA256 is the hex SHA-256 of an attestation document, as
// NewMandate.AttestationSHA256 wants it.
func AttestationSHA256(doc []byte) string {
	sum := sha256.Sum256(doc)
	return hex.EncodeToString(sum[:])
}
