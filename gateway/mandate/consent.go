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
// given time. The FranceConnect access token is not part of it: it lives
// only as long as the calls made under the consent (60 s), in memory.
type Consent struct {
	ID        string
	TenantID  string
	PersonRef string
	// Categories are the data categories, e.g. "quotient_familial".
	Categories []string
	// Platforms are the connectors the data may come from, e.g.
	// "apiparticulier".
	Platforms []string
	GrantedAt time.Time
	ExpiresAt time.Time
}

// ActiveAt reports whether c is in force at now.
func (c Consent) ActiveAt(now time.Time) bool {
	return !now.Before(c.GrantedAt) && now.Before(c.ExpiresAt)
}

// ConsentStore is what consents need of persistence.
type ConsentStore interface {
	CreateConsent(ctx context.Context, c Consent) error
	Consent(ctx context.Context, tenantID, id string) (Consent, error)
	ConsentsByPerson(ctx context.Context, tenantID, personRef string) ([]Consent, error)
}

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
