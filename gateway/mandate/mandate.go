package mandate

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/relais-dev/relais/mapping"
)

// Demarche is a family of procedures a mandate covers, from the Aidants
// Connect list plus sante: the canonical model's type.
type Demarche = mapping.Demarche

// The démarches.
const (
	Papiers    = mapping.DemarchePapiers
	Famille    = mapping.DemarcheFamille
	Social     = mapping.DemarcheSocial
	Travail    = mapping.DemarcheTravail
	Logement   = mapping.DemarcheLogement
	Transports = mapping.DemarcheTransports
	Argent     = mapping.DemarcheArgent
	Justice    = mapping.DemarcheJustice
	Etranger   = mapping.DemarcheEtranger
	Loisirs    = mapping.DemarcheLoisirs
	Sante      = mapping.DemarcheSante
)

// Demarches returns every démarche, in the Aidants Connect order.
func Demarches() []Demarche { return mapping.Demarches() }

// DurationDays are the durations a mandate may have, in days.
func DurationDays() []int { return []int{1, 31, 182, 365} }

// ValidDuration reports whether days is one of DurationDays.
func ValidDuration(days int) bool { return slices.Contains(DurationDays(), days) }

// ExpiresAt is when a mandate of days created (or renewed) at from ends.
func ExpiresAt(from time.Time, days int) time.Time {
	return from.Add(time.Duration(days) * 24 * time.Hour)
}

// ConsentMethod is how the person consented to the mandate.
type ConsentMethod string

// Consent methods.
const (
	// InPerson: the person signed an attestation in front of the
	// professional; its SHA-256 is kept, not the document.
	InPerson ConsentMethod = "in_person"
	// RemoteSMS: the person confirms with a 6-digit code sent by SMS; the
	// mandate is a draft until then.
	RemoteSMS ConsentMethod = "remote_sms"
)

// Status is where a mandate stands.
type Status string

// Statuses. Only draft, active and revoked are stored: expired is computed
// from ExpiresAt.
const (
	StatusDraft   Status = "draft"
	StatusActive  Status = "active"
	StatusExpired Status = "expired"
	StatusRevoked Status = "revoked"
)

// Professional is the person who holds a mandate for their organisation:
// an opaque id and a display name, given by the API caller, or, in the
// professional space, the ProConnect subject and name of the professional
// signed in.
type Professional struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Person holds the identity traits of the person a mandate is for, as in
// FranceConnect's identité pivot. It is sealed at rest and never appears in
// a URL, a log or the journal.
type Person struct {
	FamilyName string `json:"family_name"`
	GivenNames string `json:"given_names"`
	// BirthDate is YYYY-MM-DD.
	BirthDate string `json:"birth_date"`
	// Sex is female or male.
	Sex string `json:"sex"`
	// BirthPlace is the INSEE COG code of the birth commune; required when
	// BirthCountry is 99100 (France), empty otherwise.
	BirthPlace string `json:"birth_place,omitempty"`
	// BirthCountry is the INSEE COG code of the birth country.
	BirthCountry string `json:"birth_country"`
}

// FranceCOG is the COG code of France as a birth country.
const FranceCOG = "99100"

var cogPattern = regexp.MustCompile(`^[0-9][0-9AB][0-9]{3}$`)

// FieldError is one invalid field of a request.
type FieldError struct {
	// Field is the JSON path, e.g. person.birth_date.
	Field string
	// Code is stable: required, invalid_format, invalid_value, too_long.
	Code string
	// Detail explains, without quoting the value.
	Detail string
}

// ValidationError lists every invalid field.
type ValidationError struct{ Fields []FieldError }

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Code
	}
	return "mandate: invalid request: " + strings.Join(parts, ", ")
}

type fieldErrors []FieldError

func (f *fieldErrors) add(field, code, detail string) {
	*f = append(*f, FieldError{Field: field, Code: code, Detail: detail})
}

func (f fieldErrors) err() error {
	if len(f) == 0 {
		return nil
	}
	return &ValidationError{Fields: f}
}

const maxName = 200

func checkText(errs *fieldErrors, field, v string) {
	switch {
	case strings.TrimSpace(v) == "":
		errs.add(field, "required", field+" is required.")
	case len(v) > maxName:
		errs.add(field, "too_long", fmt.Sprintf("%s must be at most %d bytes.", field, maxName))
	case strings.ContainsFunc(v, unicode.IsControl):
		errs.add(field, "invalid_format", field+" must not contain control characters.")
	}
}

// Validate checks p's traits, as Create does; an invalid p is a
// *ValidationError whose fields are family_name, given_names, birth_date,
// sex, birth_place and birth_country.
func (p Person) Validate(now time.Time) error {
	var errs fieldErrors
	p.validate(&errs, "", now)
	return errs.err()
}

// validate checks p's traits; prefix is the path of p in the request.
func (p Person) validate(errs *fieldErrors, prefix string, now time.Time) {
	checkText(errs, prefix+"family_name", p.FamilyName)
	checkText(errs, prefix+"given_names", p.GivenNames)
	if d, err := time.Parse(time.DateOnly, p.BirthDate); err != nil {
		errs.add(prefix+"birth_date", "invalid_date", "birth_date must be a date, YYYY-MM-DD.")
	} else if d.After(now) || d.Year() < 1880 {
		errs.add(prefix+"birth_date", "invalid_date", "birth_date must be in the past, after 1880.")
	}
	if p.Sex != "female" && p.Sex != "male" {
		errs.add(prefix+"sex", "invalid_value", "sex must be female or male.")
	}
	if !cogPattern.MatchString(p.BirthCountry) || !strings.HasPrefix(p.BirthCountry, "99") {
		errs.add(prefix+"birth_country", "invalid_format", "birth_country must be a 5-character INSEE COG country code (99xxx).")
	}
	switch {
	case p.BirthCountry == FranceCOG && !cogPattern.MatchString(p.BirthPlace):
		errs.add(prefix+"birth_place", "invalid_format", "birth_place must be a 5-character INSEE COG commune code when birth_country is 99100.")
	case p.BirthCountry != FranceCOG && p.BirthPlace != "":
		errs.add(prefix+"birth_place", "invalid_value", "birth_place is only given for a person born in France (99100).")
	}
}

// canonical is the traits in a fixed order, the names folded
// (mapping.FoldName: case, accents, hyphens, apostrophes and spaces).
func (p Person) canonical() string {
	return strings.Join([]string{
		mapping.FoldName(p.FamilyName), mapping.FoldName(p.GivenNames), p.BirthDate, p.Sex,
		strings.ToUpper(p.BirthPlace), strings.ToUpper(p.BirthCountry),
	}, "\x1f")
}

// PersonRefPrefix starts every person reference.
const PersonRefPrefix = "prs_"

var refEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// PersonRef is the person's opaque reference: an HMAC-SHA256 of the
// normalised traits under key, so that the same person gets the same
// reference whatever the accents or case, and nobody without the key can
// test an identity against it.
func PersonRef(key []byte, p Person) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("relais-person-ref-v1\x00"))
	mac.Write([]byte(p.canonical()))
	return PersonRefPrefix + refEncoding.EncodeToString(mac.Sum(nil)[:20])
}

var personRefPattern = regexp.MustCompile(`^prs_[a-z2-7]{32}$`)

// ValidPersonRef reports whether ref has the shape PersonRef returns.
func ValidPersonRef(ref string) bool { return personRefPattern.MatchString(ref) }

// Mandate is one mandate. Person and Phone are the only personal data; the
// store seals them.
type Mandate struct {
	ID           string
	TenantID     string
	Professional Professional
	Person       Person
	// Phone is where the confirmation code went (remote_sms only).
	Phone     string
	PersonRef string
	Demarches []Demarche
	// DurationDays is 1, 31, 182 or 365.
	DurationDays int
	Consent      ConsentMethod
	// AttestationSHA256 is the hex SHA-256 of the signed attestation
	// (in_person only).
	AttestationSHA256 string
	// Status is draft, active or revoked as stored; use StatusAt for the
	// status at a given time.
	Status      Status
	CreatedAt   time.Time
	ExpiresAt   time.Time
	ConfirmedAt *time.Time
	RevokedAt   *time.Time
	// CodeHash is the keyed hash of the pending SMS code; nil once used.
	CodeHash      []byte
	CodeAttempts  int
	CodeExpiresAt *time.Time
	// Version grows by one at every update, for optimistic locking.
	Version int
}

// StatusAt is m's status at now.
func (m Mandate) StatusAt(now time.Time) Status {
	if m.Status == StatusRevoked {
		return StatusRevoked
	}
	if !now.Before(m.ExpiresAt) {
		return StatusExpired
	}
	return m.Status
}

// Covers reports whether m covers d.
func (m Mandate) Covers(d Demarche) bool { return slices.Contains(m.Demarches, d) }

var idEncoding = refEncoding

// newID returns prefix_ followed by 80 random bits, like the store's ids.
func newID(prefix string) string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return prefix + "_" + idEncoding.EncodeToString(b[:])
}

var mandateIDPattern = regexp.MustCompile(`^mdt_[a-z2-7]{16}$`)

// ValidID reports whether id has the shape of a mandate id.
func ValidID(id string) bool { return mandateIDPattern.MatchString(id) }
