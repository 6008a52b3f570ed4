package profile

import (
	"time"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/mapping"
)

// Request is one lookup: whose data, on which legal basis, from which
// sources. It is the body of POST /v1/profiles:lookup.
type Request struct {
	// Identity is the person asked for, in the canonical model. It must be
	// the person the basis was given for (the same person reference).
	Identity mapping.Person `json:"identity"`
	// MandateID and ConsentID name the legal basis: exactly one is set.
	MandateID string `json:"mandate_id,omitempty"`
	ConsentID string `json:"consent_id,omitempty"`
	// Sources are the platforms asked, each once.
	Sources []SourceRequest `json:"sources"`
	// Month is the month asked for, "YYYY-MM", for rights computed monthly
	// (family quotient). Empty: the platform's default, the current month.
	Month string `json:"month,omitempty"`
	// Fresh asks the platforms for data not served from their cache.
	Fresh bool `json:"fresh,omitempty"`
}

// SourceRequest is one platform asked, by its puller's name, with the
// operations wanted; none means every operation it offers.
type SourceRequest struct {
	Name       string   `json:"name"`
	Operations []string `json:"operations,omitempty"`
}

// BasisKind is the kind of legal basis of a lookup.
type BasisKind string

// Basis kinds.
const (
	BasisMandate BasisKind = "mandate"
	BasisConsent BasisKind = "consent"
)

// Basis is the legal basis a lookup ran under.
type Basis struct {
	Kind BasisKind `json:"kind"`
	ID   string    `json:"id"`
	// FranceConnect reports that the consent's FranceConnect access token
	// was alive and handed to the sources that can use it. The token itself
	// never appears in an answer.
	FranceConnect bool `json:"france_connect,omitempty"`
}

// Profile is a lookup's answer: what each source said, and the data, every
// value with its provenance. It is stored sealed until ExpiresAt.
type Profile struct {
	ID        string    `json:"id"`
	Href      string    `json:"href"`
	CreatedAt time.Time `json:"created_at"`
	// ExpiresAt is when the prefill is purged; GET /v1/profiles/{id}
	// answers it until then.
	ExpiresAt time.Time `json:"expires_at"`
	Basis     Basis     `json:"basis"`
	// PersonRef is the reference (a keyed hash) of the identity asked
	// for, as mandates and consents carry it; empty when the identity
	// cannot be a basis's (a partial birth date, an unknown sex).
	PersonRef string `json:"person_ref,omitempty"`
	// Complete reports that every source answered ok.
	Complete bool           `json:"complete"`
	Sources  []SourceResult `json:"sources"`
	Data     Data           `json:"data"`
}

// SourceResult is one source's outcome.
type SourceResult struct {
	Name string `json:"name"`
	// Status sums up the operations' statuses: see SourceStatus.
	Status connectors.Outcome `json:"status"`
	// Identity compares the identity asked for with the ones the source
	// returned; nil when it returned none.
	Identity *IdentityCheck `json:"identity,omitempty"`
	// DurationMS is how long the source took, in milliseconds; 0 when it
	// was not called.
	DurationMS int64             `json:"duration_ms"`
	Operations []OperationResult `json:"operations"`
}

// OperationResult is one operation's outcome.
type OperationResult struct {
	Name   string             `json:"name"`
	Status connectors.Outcome `json:"status"`
	// Reason is a stable code for what is not ok: the refusal
	// (mandate_demarche_not_covered, consent_category_not_covered, ...),
	// the platform's own error code when it gave one, or deadline.
	Reason string `json:"reason,omitempty"`
	// Detail explains, in English, without personal data.
	Detail    string           `json:"detail,omitempty"`
	Provider  mapping.Provider `json:"provider,omitempty"`
	FetchedAt *time.Time       `json:"fetched_at,omitempty"`
	Cached    bool             `json:"cached,omitempty"`
}

// IdentityNotReturned is Provenance.Identity for a value whose operation
// returned no identity to compare.
const IdentityNotReturned = "not_returned"

// IdentityCheck sums up how the identities a source returned compare with
// the one asked for (mapping.MatchIdentity), naming fields, never values.
type IdentityCheck struct {
	// Status is mismatch when one operation's identity mismatches,
	// otherwise unverified when one could not be fully compared, otherwise
	// match.
	Status string `json:"status"`
	// Mismatched lists the fields that disagree (birth_family_name,
	// given_names, sex, birth_date, birth_place_cog, birth_country_cog,
	// ins).
	Mismatched []string `json:"mismatched,omitempty"`
	// Unchecked lists the fields that could not be compared.
	Unchecked []string `json:"unchecked,omitempty"`
}

// Provenance says where one value comes from.
type Provenance struct {
	Source    string           `json:"source"`
	Operation string           `json:"operation"`
	Provider  mapping.Provider `json:"provider,omitempty"`
	FetchedAt time.Time        `json:"fetched_at"`
	Cached    bool             `json:"cached"`
	// Identity is the operation's identity check (mapping.MatchIdentity):
	// match, mismatch, unverified, or not_returned. A value whose identity
	// mismatches is returned, flagged, never merged with the others.
	Identity string `json:"identity"`
}

// Sourced is one value with its provenance.
type Sourced[T any] struct {
	Value      T          `json:"value"`
	Provenance Provenance `json:"provenance"`
}

// Data is what the sources returned, in the canonical model. Nothing is
// merged across operations: a value appears once per operation that
// returned it, except identical persons from one source, kept once.
type Data struct {
	Persons                 []Sourced[mapping.Person]                 `json:"persons"`
	Households              []Sourced[mapping.Household]              `json:"households"`
	Benefits                []Sourced[mapping.Benefit]                `json:"benefits"`
	EmploymentRegistrations []Sourced[mapping.EmploymentRegistration] `json:"employment_registrations"`
	Payments                []Sourced[mapping.Payment]                `json:"payments"`
}

func emptyData() Data {
	return Data{
		Persons: []Sourced[mapping.Person]{}, Households: []Sourced[mapping.Household]{},
		Benefits: []Sourced[mapping.Benefit]{}, EmploymentRegistrations: []Sourced[mapping.EmploymentRegistration]{},
		Payments: []Sourced[mapping.Payment]{},
	}
}

// statusOrder ranks the statuses SourceStatus picks from when a source's
// operations disagree and none is ok: the most actionable first.
var statusOrder = []connectors.Outcome{
	connectors.OutcomeError, connectors.OutcomeUnavailable, connectors.OutcomeTimeout,
	connectors.OutcomeRateLimited, connectors.OutcomeRefused, connectors.OutcomeNotFound,
}

// SourceStatus sums up a source's operations: their common status when
// they agree; ok when at least one is ok (the operations say which are
// not); otherwise the first of error, unavailable, timeout, rate_limited,
// refused, not_found among them.
func SourceStatus(ops []OperationResult) connectors.Outcome {
	if len(ops) == 0 {
		return connectors.OutcomeError
	}
	seen := map[connectors.Outcome]bool{}
	for _, op := range ops {
		seen[op.Status] = true
	}
	if len(seen) == 1 {
		return ops[0].Status
	}
	if seen[connectors.OutcomeOK] {
		return connectors.OutcomeOK
	}
	for _, s := range statusOrder {
		if seen[s] {
			return s
		}
	}
	return connectors.OutcomeError
}
