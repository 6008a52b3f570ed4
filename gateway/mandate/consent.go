package mandate

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"time"
)

// Consent records that a citizen, signed in through FranceConnect, let a
// tenant fetch some categories of their data from some platforms until a
// given time. The FranceConnect access token is not part of it: the store
// keeps it apart, sealed (relais_consent_tokens), until the token expires
// (the purge deletes it then) or the consent is withdrawn (deleted with
// the withdrawal), for the lookups made under the consent meanwhile.
type Consent struct {
	ID        string
	TenantID  string
	PersonRef string
	// Categories are the data categories (mapping.DataCategory), e.g.
	// "household".
	Categories []string
	// Platforms are the connectors the data may come from, e.g.
	// "apiparticulier".
	Platforms []string
	GrantedAt time.Time
	ExpiresAt time.Time
	// WithdrawnAt is when the person withdrew the consent; nil while they
	// have not.
	WithdrawnAt *time.Time
}

// ActiveAt reports whether c is in force at now: granted, not expired,
// not withdrawn.
func (c Consent) ActiveAt(now time.Time) bool {
	if c.WithdrawnAt != nil && !now.Before(*c.WithdrawnAt) {
		return false
	}
	return !now.Before(c.GrantedAt) && now.Before(c.ExpiresAt)
}

// Journal operations of consents. The store journals them with the
// consent's data categories, ActorPerson as the actor, and the consent id
// and person reference in the detail.
const (
	ActionGrantConsent    = "grant_consent"
	ActionWithdrawConsent = "withdraw_consent"
)

// ConsentStore is what consents need of persistence. Each write journals
// itself in the same transaction.
type ConsentStore interface {
	// CreateConsent records c and journals a grant_consent entry.
	CreateConsent(ctx context.Context, c Consent) error
	// Consent reads one of a tenant's consents, or ErrNotFound.
	Consent(ctx context.Context, tenantID, id string) (Consent, error)
	// ConsentsByPerson lists a tenant's consents of one person, oldest
	// first, withdrawn ones included.
	ConsentsByPerson(ctx context.Context, tenantID, personRef string) ([]Consent, error)
	// WithdrawConsent ends the consent id of the person personRef at at
	// and journals a withdraw_consent entry. The consent of another
	// tenant or person is ErrNotFound; withdrawing a withdrawn consent
	// changes and journals nothing. It returns the consent as stored.
	WithdrawConsent(ctx context.Context, tenantID, personRef, id string, at time.Time) (Consent, error)
}

var consentIDPattern = regexp.MustCompile(`^cns_[a-z2-7]{16}$`)

// ValidConsentID reports whether id has the shape of a consent id.
func ValidConsentID(id string) bool { return consentIDPattern.MatchString(id) }

var tokenPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// NewConsent validates and builds a consent granted at grantedAt for ttl.
func NewConsent(tenantID, personRef string, categories, platforms []string, grantedAt time.Time, ttl time.Duration) (Consent, error) {
	var errs fieldErrors
	if !ValidPersonRef(personRef) {
		errs.add("person_ref", "invalid_format", "person_ref must be a person reference (prs_ and 32 characters).")
	}
	for _, f := range []struct {
		name string
		list []string
	}{{"categories", categories}, {"platforms", platforms}} {
		name, list := f.name, f.list
		if len(list) == 0 {
			errs.add(name, "required", "List at least one of "+name+".")
		}
		for i, v := range list {
			if !tokenPattern.MatchString(v) || slices.Index(list, v) != i {
				errs.add(fmt.Sprintf("%s[%d]", name, i), "invalid_value", name+" are distinct lower-case identifiers.")
			}
		}
	}
	if ttl <= 0 {
		errs.add("expires_at", "invalid_value", "A consent must last some time.")
	}
	if err := errs.err(); err != nil {
		return Consent{}, err
	}
	return Consent{
		ID: newID("cns"), TenantID: tenantID, PersonRef: personRef,
		Categories: slices.Clone(categories), Platforms: slices.Clone(platforms),
		GrantedAt: grantedAt.UTC(), ExpiresAt: grantedAt.Add(ttl).UTC(),
	}, nil
}
