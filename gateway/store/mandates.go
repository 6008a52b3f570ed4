package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/relais-dev/relais/gateway/mandate"
)

var (
	_ mandate.Store        = (*Store)(nil)
	_ mandate.ConsentStore = (*Store)(nil)
)

// mandateNotFound is both this package's and the mandate package's "not
// found", so callers of either test it.
var mandateNotFound = errors.Join(ErrNotFound, mandate.ErrNotFound)

// sealedPerson is what a mandate seals: the identity traits and the phone.
type sealedPerson struct {
	Person mandate.Person `json:"person"`
	Phone  string         `json:"phone,omitempty"`
}

func mandateAAD(id string) []byte { return []byte("mandate:" + id) }

func smsAAD(id string) []byte { return []byte("sms:" + id) }

func optMicros(t *time.Time) *int64 {
	if t == nil {
		return nil
	}
	v := micros(*t)
	return &v
}

func optTime(v *int64) *time.Time {
	if v == nil {
		return nil
	}
	t := fromMicros(*v)
	return &t
}

func joinDemarches(ds []mandate.Demarche) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = string(d)
	}
	return strings.Join(parts, ",")
}

func splitDemarches(s string) []mandate.Demarche {
	if s == "" {
		return nil
	}
	parts := strings.Split(s, ",")
	out := make([]mandate.Demarche, len(parts))
	for i, p := range parts {
		out[i] = mandate.Demarche(p)
	}
	return out
}

// CreateMandate implements mandate.Store: the mandate, its SMS and its
// journal events in one transaction.
func (s *Store) CreateMandate(ctx context.Context, m mandate.Mandate, sms *mandate.SMS, events []mandate.Event) error {
	plain, err := json.Marshal(sealedPerson{Person: m.Person, Phone: m.Phone})
	if err != nil {
		return fmt.Errorf("encoding person: %w", err)
	}
	keyID, sealed := s.keys.Seal(plain, mandateAAD(m.ID))
	return s.b.inTx(ctx, func(tx txn) error {
		if _, err := tx.exec(ctx, `INSERT INTO relais_mandates (id, tenant_id, professional_id, professional_name, person_ref,
person_key_id, person, demarches, duration_days, consent_method, attestation_sha256, status, code_hash, code_attempts,
code_expires_at, created_at, expires_at, confirmed_at, revoked_at, version)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)`,
			m.ID, m.TenantID, m.Professional.ID, m.Professional.Name, m.PersonRef, keyID, sealed, joinDemarches(m.Demarches),
			m.DurationDays, string(m.Consent), m.AttestationSHA256, string(m.Status), m.CodeHash, m.CodeAttempts,
			optMicros(m.CodeExpiresAt), micros(m.CreatedAt), micros(m.ExpiresAt), optMicros(m.ConfirmedAt), optMicros(m.RevokedAt),
			m.Version); err != nil {
			return fmt.Errorf("inserting mandate: %w", err)
		}
		if sms != nil {
			msg, err := json.Marshal(map[string]string{"to": sms.To, "body": sms.Body})
			if err != nil {
				return fmt.Errorf("encoding sms: %w", err)
			}
			smsKey, sealedMsg := s.keys.Seal(msg, smsAAD(sms.ID))
			if _, err := tx.exec(ctx, `INSERT INTO relais_sms_outbox (id, tenant_id, mandate_id, key_id, message, created_at)
VALUES ($1, $2, $3, $4, $5, $6)`, sms.ID, sms.TenantID, sms.MandateID, smsKey, sealedMsg, micros(sms.CreatedAt)); err != nil {
				return fmt.Errorf("inserting sms: %w", err)
			}
		}
		return appendMandateEvents(ctx, tx, events)
	})
}

const mandateColumns = `id, tenant_id, professional_id, professional_name, person_ref, person_key_id, person, demarches,
duration_days, consent_method, attestation_sha256, status, code_hash, code_attempts, code_expires_at, created_at,
expires_at, confirmed_at, revoked_at, version`

func (s *Store) scanMandate(r row) (mandate.Mandate, error) {
	var (
		m                         mandate.Mandate
		keyID, demarches          string
		consent, status           string
		sealed                    []byte
		created, expires          int64
		codeExp, confirmed, revok *int64
	)
	if err := r.Scan(&m.ID, &m.TenantID, &m.Professional.ID, &m.Professional.Name, &m.PersonRef, &keyID, &sealed, &demarches,
		&m.DurationDays, &consent, &m.AttestationSHA256, &status, &m.CodeHash, &m.CodeAttempts, &codeExp, &created,
		&expires, &confirmed, &revok, &m.Version); err != nil {
		return mandate.Mandate{}, err
	}
	plain, err := s.keys.Open(keyID, sealed, mandateAAD(m.ID))
	if err != nil {
		return mandate.Mandate{}, fmt.Errorf("opening mandate %s: %w", m.ID, err)
	}
	var sp sealedPerson
	if err := json.Unmarshal(plain, &sp); err != nil {
		return mandate.Mandate{}, fmt.Errorf("decoding mandate %s: %w", m.ID, err)
	}
	m.Person, m.Phone = sp.Person, sp.Phone
	m.Demarches = splitDemarches(demarches)
	m.Consent, m.Status = mandate.ConsentMethod(consent), mandate.Status(status)
	m.CreatedAt, m.ExpiresAt = fromMicros(created), fromMicros(expires)
	m.CodeExpiresAt, m.ConfirmedAt, m.RevokedAt = optTime(codeExp), optTime(confirmed), optTime(revok)
	if len(m.CodeHash) == 0 {
		m.CodeHash = nil
	}
	return m, nil
}

// Mandate implements mandate.Store: one mandate, whatever its tenant.
func (s *Store) Mandate(ctx context.Context, id string) (mandate.Mandate, error) {
	m, err := s.scanMandate(s.b.queryRow(ctx, `SELECT `+mandateColumns+` FROM relais_mandates WHERE id = $1`, id))
	if errors.Is(err, errNoRows) {
		return mandate.Mandate{}, mandateNotFound
	} else if err != nil {
		return mandate.Mandate{}, fmt.Errorf("reading mandate: %w", err)
	}
	return m, nil
}

// MandatesByPerson implements mandate.Store.
func (s *Store) MandatesByPerson(ctx context.Context, tenantID, personRef string) ([]mandate.Mandate, error) {
	r, err := s.b.query(ctx, `SELECT `+mandateColumns+` FROM relais_mandates WHERE tenant_id = $1 AND person_ref = $2
ORDER BY created_at, id`, tenantID, personRef)
	if err != nil {
		return nil, fmt.Errorf("listing mandates: %w", err)
	}
	defer r.Close()
	out := []mandate.Mandate{}
	for r.Next() {
		m, err := s.scanMandate(r)
		if err != nil {
			return nil, fmt.Errorf("reading mandate: %w", err)
		}
		out = append(out, m)
	}
	return out, r.Err()
}

// UpdateMandate implements mandate.Store: the mutable columns of m, if the
// stored version is m.Version-1, and events, in one transaction. The
// identity, the démarches and the duration never change.
func (s *Store) UpdateMandate(ctx context.Context, m mandate.Mandate, events []mandate.Event) error {
	return s.b.inTx(ctx, func(tx txn) error {
		n, err := tx.exec(ctx, `UPDATE relais_mandates SET professional_id = $1, professional_name = $2, status = $3,
code_hash = $4, code_attempts = $5, code_expires_at = $6, expires_at = $7, confirmed_at = $8, revoked_at = $9, version = $10
WHERE id = $11 AND tenant_id = $12 AND version = $13`,
			m.Professional.ID, m.Professional.Name, string(m.Status), m.CodeHash, m.CodeAttempts, optMicros(m.CodeExpiresAt),
			micros(m.ExpiresAt), optMicros(m.ConfirmedAt), optMicros(m.RevokedAt), m.Version, m.ID, m.TenantID, m.Version-1)
		if err != nil {
			return fmt.Errorf("updating mandate: %w", err)
		}
		if n == 0 {
			return mandate.ErrVersionConflict
		}
		return appendMandateEvents(ctx, tx, events)
	})
}

// AppendMandateEvents implements mandate.Store.
func (s *Store) AppendMandateEvents(ctx context.Context, events []mandate.Event) error {
	return s.b.inTx(ctx, func(tx txn) error { return appendMandateEvents(ctx, tx, events) })
}

// mandateJournalEntry is how a mandate event is journaled: the mandate id
// and the person reference go in Detail, so that the hash chain covers
// them, and in relais_mandate_journal, which indexes them.
func mandateJournalEntry(e mandate.Event) JournalEntry {
	detail := "mandate=" + e.MandateID + " person=" + e.PersonRef
	if e.Detail != "" {
		detail += " " + e.Detail
	}
	cats := make([]string, len(e.Demarches))
	for i, d := range e.Demarches {
		cats[i] = string(d)
	}
	return JournalEntry{
		At: e.At, TenantID: e.TenantID, APIKeyID: e.APIKeyID, Operation: e.Action,
		Categories: cats, Outcome: e.Outcome, Detail: detail,
	}
}

func appendMandateEvents(ctx context.Context, tx txn, events []mandate.Event) error {
	for _, e := range events {
		if err := appendIndexedJournal(ctx, tx, mandateJournalEntry(e),
			`INSERT INTO relais_mandate_journal (seq, tenant_id, person_ref, mandate_id) VALUES ($1, $2, $3, $4)`,
			e.TenantID, e.PersonRef, e.MandateID); err != nil {
			return err
		}
	}
	return nil
}

// MandateJournal implements mandate.Store: a tenant's journal entries
// about one person, every mandate event and every use, in journal order.
func (s *Store) MandateJournal(ctx context.Context, tenantID, personRef string) ([]mandate.Event, error) {
	r, err := s.b.query(ctx, `SELECT j.seq, j.at, j.tenant_id, j.api_key_id, j.operation, j.categories, j.outcome, j.detail, mj.mandate_id
FROM relais_mandate_journal mj JOIN relais_journal j ON j.seq = mj.seq
WHERE mj.tenant_id = $1 AND mj.person_ref = $2 ORDER BY mj.seq`, tenantID, personRef)
	if err != nil {
		return nil, fmt.Errorf("listing mandate journal: %w", err)
	}
	defer r.Close()
	out := []mandate.Event{}
	for r.Next() {
		var (
			e    mandate.Event
			at   int64
			cats string
		)
		if err := r.Scan(&e.Seq, &at, &e.TenantID, &e.APIKeyID, &e.Action, &cats, &e.Outcome, &e.Detail, &e.MandateID); err != nil {
			return nil, fmt.Errorf("reading journal entry: %w", err)
		}
		e.At, e.PersonRef, e.Demarches = fromMicros(at), personRef, splitDemarches(cats)
		out = append(out, e)
	}
	return out, r.Err()
}

// SMSOutbox lists the SMS sent for a tenant's mandates, oldest first. In
// the sandbox it stands in for the SMS gateway.
func (s *Store) SMSOutbox(ctx context.Context, tenantID string) ([]mandate.SMS, error) {
	r, err := s.b.query(ctx, `SELECT id, tenant_id, mandate_id, key_id, message, created_at FROM relais_sms_outbox
WHERE tenant_id = $1 ORDER BY created_at, id`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("listing sms outbox: %w", err)
	}
	defer r.Close()
	var out []mandate.SMS
	for r.Next() {
		var (
			m       mandate.SMS
			keyID   string
			sealed  []byte
			created int64
		)
		if err := r.Scan(&m.ID, &m.TenantID, &m.MandateID, &keyID, &sealed, &created); err != nil {
			return nil, fmt.Errorf("reading sms: %w", err)
		}
		plain, err := s.keys.Open(keyID, sealed, smsAAD(m.ID))
		if err != nil {
			return nil, fmt.Errorf("opening sms %s: %w", m.ID, err)
		}
		var msg map[string]string
		if err := json.Unmarshal(plain, &msg); err != nil {
			return nil, fmt.Errorf("decoding sms %s: %w", m.ID, err)
		}
		m.To, m.Body, m.CreatedAt = msg["to"], msg["body"], fromMicros(created)
		out = append(out, m)
	}
	return out, r.Err()
}

// ---- Consents --------------------------------------------------------

// consentJournalEntry is how a consent event is journaled: the person
// themself acts, on the consent's data categories; the consent id, the
// person reference and the platforms go in Detail, under the hash chain.
func consentJournalEntry(c mandate.Consent, action string, at time.Time) JournalEntry {
	return JournalEntry{
		At: at, TenantID: c.TenantID, APIKeyID: mandate.ActorPerson, Operation: action, Categories: c.Categories,
		Outcome: mandate.OutcomeOK,
		Detail:  "consent=" + c.ID + " person=" + c.PersonRef + " platforms=" + strings.Join(c.Platforms, ","),
	}
}

// CreateConsent implements mandate.ConsentStore: the consent and its
// grant_consent journal entry, in one transaction. No token is stored.
func (s *Store) CreateConsent(ctx context.Context, c mandate.Consent) error {
	return s.b.inTx(ctx, func(tx txn) error {
		if _, err := tx.exec(ctx, `INSERT INTO relais_consents (id, tenant_id, person_ref, categories, platforms, granted_at, expires_at, withdrawn_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, c.ID, c.TenantID, c.PersonRef, strings.Join(c.Categories, ","),
			strings.Join(c.Platforms, ","), micros(c.GrantedAt), micros(c.ExpiresAt), optMicros(c.WithdrawnAt)); err != nil {
			return fmt.Errorf("inserting consent: %w", err)
		}
		return appendJournal(ctx, tx, consentJournalEntry(c, mandate.ActionGrantConsent, c.GrantedAt))
	})
}

const consentColumns = `id, tenant_id, person_ref, categories, platforms, granted_at, expires_at, withdrawn_at`

func scanConsent(r row) (mandate.Consent, error) {
	var (
		c                mandate.Consent
		cats, plats      string
		granted, expires int64
		withdrawn        *int64
	)
	if err := r.Scan(&c.ID, &c.TenantID, &c.PersonRef, &cats, &plats, &granted, &expires, &withdrawn); err != nil {
		return mandate.Consent{}, err
	}
	c.Categories, c.Platforms = strings.Split(cats, ","), strings.Split(plats, ",")
	c.GrantedAt, c.ExpiresAt, c.WithdrawnAt = fromMicros(granted), fromMicros(expires), optTime(withdrawn)
	return c, nil
}

// Consent implements mandate.ConsentStore: a tenant's consent; another
// tenant's is not found.
func (s *Store) Consent(ctx context.Context, tenantID, id string) (mandate.Consent, error) {
	c, err := scanConsent(s.b.queryRow(ctx, `SELECT `+consentColumns+` FROM relais_consents WHERE id = $1 AND tenant_id = $2`, id, tenantID))
	if errors.Is(err, errNoRows) {
		return mandate.Consent{}, mandateNotFound
	} else if err != nil {
		return mandate.Consent{}, fmt.Errorf("reading consent: %w", err)
	}
	return c, nil
}

// ConsentsByPerson implements mandate.ConsentStore, oldest first.
func (s *Store) ConsentsByPerson(ctx context.Context, tenantID, personRef string) ([]mandate.Consent, error) {
	r, err := s.b.query(ctx, `SELECT `+consentColumns+` FROM relais_consents WHERE tenant_id = $1 AND person_ref = $2
ORDER BY granted_at, id`, tenantID, personRef)
	if err != nil {
		return nil, fmt.Errorf("listing consents: %w", err)
	}
	defer r.Close()
	out := []mandate.Consent{}
	for r.Next() {
		c, err := scanConsent(r)
		if err != nil {
			return nil, fmt.Errorf("reading consent: %w", err)
		}
		out = append(out, c)
	}
	return out, r.Err()
}

// WithdrawConsent implements mandate.ConsentStore: withdrawn_at, the
// deletion of the consent's FranceConnect token and the withdraw_consent
// journal entry in one transaction; the consent of
// another tenant or person is not found; a second withdrawal changes and
// journals nothing.
func (s *Store) WithdrawConsent(ctx context.Context, tenantID, personRef, id string, at time.Time) (mandate.Consent, error) {
	var c mandate.Consent
	err := s.b.inTx(ctx, func(tx txn) error {
		var err error
		c, err = scanConsent(tx.queryRow(ctx, `UPDATE relais_consents SET withdrawn_at = $1
WHERE id = $2 AND tenant_id = $3 AND person_ref = $4 AND withdrawn_at IS NULL RETURNING `+consentColumns,
			micros(at), id, tenantID, personRef))
		if errors.Is(err, errNoRows) {
			c, err = scanConsent(tx.queryRow(ctx, `SELECT `+consentColumns+` FROM relais_consents
WHERE id = $1 AND tenant_id = $2 AND person_ref = $3`, id, tenantID, personRef))
			if errors.Is(err, errNoRows) {
				return mandateNotFound
			} else if err != nil {
				return fmt.Errorf("reading consent: %w", err)
			}
			return nil // withdrawn already
		} else if err != nil {
			return fmt.Errorf("withdrawing consent: %w", err)
		}
		// Its FranceConnect token goes with it: nothing may be pulled
		// under a withdrawn consent.
		if _, err := tx.exec(ctx, `DELETE FROM relais_consent_tokens WHERE consent_id = $1`, c.ID); err != nil {
			return fmt.Errorf("deleting consent token: %w", err)
		}
		return appendJournal(ctx, tx, consentJournalEntry(c, mandate.ActionWithdrawConsent, *c.WithdrawnAt))
	})
	if err != nil {
		return mandate.Consent{}, err
	}
	return c, nil
}

// ---- The directory of professionals ------------------------------------

// RecordProfessional notes that p, of the tenant tenantID, signed in at
// at: added to the directory, or their name and last sign-in refreshed.
func (s *Store) RecordProfessional(ctx context.Context, tenantID string, p mandate.Professional, at time.Time) error {
	if _, err := s.b.exec(ctx, `INSERT INTO relais_professionals (tenant_id, id, name, first_seen_at, last_seen_at)
VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, id) DO UPDATE SET name = excluded.name, last_seen_at = excluded.last_seen_at`,
		tenantID, p.ID, p.Name, micros(at), micros(at)); err != nil {
		return fmt.Errorf("recording professional: %w", err)
	}
	return nil
}

// Professionals lists the directory of a tenant's professionals, by name.
func (s *Store) Professionals(ctx context.Context, tenantID string) ([]mandate.Professional, error) {
	r, err := s.b.query(ctx, `SELECT id, name FROM relais_professionals WHERE tenant_id = $1 ORDER BY name, id`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("listing professionals: %w", err)
	}
	defer r.Close()
	out := []mandate.Professional{}
	for r.Next() {
		var p mandate.Professional
		if err := r.Scan(&p.ID, &p.Name); err != nil {
			return nil, fmt.Errorf("reading professional: %w", err)
		}
		out = append(out, p)
	}
	return out, r.Err()
}
