package mapping

import (
	"fmt"
	"regexp"
	"slices"
	"time"
)

// Demarche is a scope of a mandate: a family of formalities, as Aidants
// Connect names them.
type Demarche string

// Démarches.
const (
	DemarchePapiers    Demarche = "papiers"
	DemarcheFamille    Demarche = "famille"
	DemarcheSocial     Demarche = "social"
	DemarcheTravail    Demarche = "travail"
	DemarcheLogement   Demarche = "logement"
	DemarcheTransports Demarche = "transports"
	DemarcheArgent     Demarche = "argent"
	DemarcheJustice    Demarche = "justice"
	DemarcheEtranger   Demarche = "etranger"
	DemarcheLoisirs    Demarche = "loisirs"
	// DemarcheSante is ours, beside the Aidants Connect list: health
	// records and health documents.
	DemarcheSante Demarche = "sante"
)

var demarches = []Demarche{
	DemarchePapiers, DemarcheFamille, DemarcheSocial, DemarcheTravail, DemarcheLogement,
	DemarcheTransports, DemarcheArgent, DemarcheJustice, DemarcheEtranger, DemarcheLoisirs,
	DemarcheSante,
}

// Demarches returns every démarche, in the Aidants Connect order, sante last.
func Demarches() []Demarche { return slices.Clone(demarches) }

// Valid reports whether d is one of Demarches.
func (d Demarche) Valid() bool { return slices.Contains(demarches, d) }

// Helper is the professional who acts for the person under a mandate.
type Helper struct {
	// Name is the professional's name.
	Name string `json:"name"`
	// SIRET is the SIRET of the professional's organisation.
	SIRET        string `json:"siret"`
	Organisation string `json:"organisation"`
}

// MaxMandateDays is the longest a mandate lasts.
const MaxMandateDays = 365

// Mandate lets a professional act for a person for some démarches, for a
// limited time, until revoked: the Aidants Connect model, which replaces
// accounts created with the professional's own e-mail.
type Mandate struct {
	ID     string `json:"id"`
	Helper Helper `json:"helper"`
	// PersonLocalID is the ESMS software's identifier of the person.
	PersonLocalID string     `json:"person_local_id"`
	Demarches     []Demarche `json:"demarches"`
	CreatedAt     time.Time  `json:"created_at"`
	ExpiresAt     time.Time  `json:"expires_at"`
	RevokedAt     time.Time  `json:"revoked_at,omitzero"`
	// DurationDays is the length the mandate was given, 1 to 365 days
	// (Aidants Connect offers 1, 31, 182 and 365).
	DurationDays int `json:"duration_days"`
}

// ActiveAt reports whether the mandate is in force at t: created, not
// expired, not revoked.
func (m *Mandate) ActiveAt(t time.Time) bool {
	return !t.Before(m.CreatedAt) && t.Before(m.ExpiresAt) && (m.RevokedAt.IsZero() || t.Before(m.RevokedAt))
}

// Covers reports whether the mandate's scopes include d.
func (m *Mandate) Covers(d Demarche) bool {
	for _, x := range m.Demarches {
		if x == d {
			return true
		}
	}
	return false
}

// Validate checks the mandate. Beyond the schema, it checks that ExpiresAt
// is after CreatedAt by at most DurationDays (plus one day, for an expiry at
// the end of the last day) and that RevokedAt is not before CreatedAt.
func (m *Mandate) Validate() []*FieldError {
	c := newChecker("")
	c.localID("id", "L'identifiant du mandat", m.ID)
	if m.Helper == (Helper{}) {
		c.missing("helper", "L'aidant")
	} else {
		hc := c.at("helper")
		hc.text("name", "Le nom de l'aidant", m.Helper.Name, true, maxNameLength)
		hc.siret("siret", m.Helper.SIRET, true)
		hc.text("organisation", "Le nom de la structure", m.Helper.Organisation, true, 200)
	}
	c.localID("person_local_id", "L'identifiant de la personne", m.PersonLocalID)
	if len(m.Demarches) == 0 {
		c.add("demarches", "required", "must list at least one démarche", "Au moins une démarche est obligatoire.")
	}
	for i, d := range m.Demarches {
		enum(c, fmt.Sprintf("demarches[%d]", i), "La démarche", d, demarches...)
	}
	uniqueStrings(c, "demarches", "La liste des démarches répète une démarche.", m.Demarches)
	c.instant("created_at", "La date de création du mandat", m.CreatedAt)
	c.instant("expires_at", "La date d'expiration du mandat", m.ExpiresAt)
	c.within("duration_days", "La durée du mandat (en jours)", m.DurationDays, 1, MaxMandateDays)
	if !m.CreatedAt.IsZero() && !m.ExpiresAt.IsZero() {
		limit := m.CreatedAt.Add(time.Duration(m.DurationDays+1) * 24 * time.Hour)
		switch {
		case !m.ExpiresAt.After(m.CreatedAt):
			c.add("expires_at", "before_start", "must be after created_at",
				"La date d'expiration doit suivre la date de création.")
		case m.DurationDays >= 1 && m.DurationDays <= MaxMandateDays && m.ExpiresAt.After(limit):
			c.add("expires_at", "too_late", "must be at most duration_days after created_at",
				"La date d'expiration dépasse la durée du mandat.")
		}
	}
	if !m.RevokedAt.IsZero() {
		c.notBefore("revoked_at", "La date de révocation", m.CreatedAt, m.RevokedAt)
	}
	return c.result()
}

// DataCategory is a kind of personal data a consent covers.
type DataCategory string

// Data categories.
const (
	DataIdentity   DataCategory = "identity"
	DataContact    DataCategory = "contact"
	DataHousehold  DataCategory = "household"
	DataBenefit    DataCategory = "benefit"
	DataEmployment DataCategory = "employment"
	DataDocument   DataCategory = "document"
	DataHealth     DataCategory = "health"
	DataActivity   DataCategory = "activity"
)

var dataCategories = []DataCategory{
	DataIdentity, DataContact, DataHousehold, DataBenefit, DataEmployment, DataDocument, DataHealth, DataActivity,
}

// ConsentSource is how a consent was given.
type ConsentSource string

// Consent sources.
const (
	// ConsentFranceConnect: the person signed in with FranceConnect and
	// consented; Person is the identity FranceConnect returned.
	ConsentFranceConnect ConsentSource = "franceconnect"
)

// Consent is a person's consent to exchange some categories of data with
// some platforms.
type Consent struct {
	ID string `json:"id"`
	// Person is the identity of the person who consented.
	Person         Person         `json:"person"`
	DataCategories []DataCategory `json:"data_categories"`
	// Platforms are the names of the connectors the consent covers.
	Platforms   []string      `json:"platforms"`
	GivenAt     time.Time     `json:"given_at"`
	ExpiresAt   time.Time     `json:"expires_at,omitzero"`
	WithdrawnAt time.Time     `json:"withdrawn_at,omitzero"`
	Source      ConsentSource `json:"source"`
}

var platformPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)

// ActiveAt reports whether the consent holds at t: given, not expired, not
// withdrawn.
func (c *Consent) ActiveAt(t time.Time) bool {
	return !t.Before(c.GivenAt) &&
		(c.ExpiresAt.IsZero() || t.Before(c.ExpiresAt)) &&
		(c.WithdrawnAt.IsZero() || t.Before(c.WithdrawnAt))
}

// Validate checks the consent. Beyond the schema, it checks that ExpiresAt
// is after GivenAt and WithdrawnAt not before it.
func (c *Consent) Validate() []*FieldError {
	ch := newChecker("")
	ch.localID("id", "L'identifiant du consentement", c.ID)
	if c.Person.isZero() {
		ch.missing("person", "L'identité de la personne")
	} else {
		c.Person.validate(ch.at("person"))
	}
	if len(c.DataCategories) == 0 {
		ch.add("data_categories", "required", "must list at least one data category",
			"Au moins une catégorie de données est obligatoire.")
	}
	for i, d := range c.DataCategories {
		enum(ch, fmt.Sprintf("data_categories[%d]", i), "La catégorie de données", d, dataCategories...)
	}
	uniqueStrings(ch, "data_categories", "La liste des catégories de données répète une catégorie.", c.DataCategories)
	if len(c.Platforms) == 0 {
		ch.add("platforms", "required", "must list at least one platform", "Au moins une plateforme est obligatoire.")
	}
	for i, p := range c.Platforms {
		if !platformPattern.MatchString(p) {
			ch.add(fmt.Sprintf("platforms[%d]", i), "invalid_format",
				"must be a connector name: a lowercase letter then up to 31 lowercase letters, digits or _",
				"La plateforme doit être un nom de connecteur : lettres minuscules, chiffres ou _.")
		}
	}
	uniqueStrings(ch, "platforms", "La liste des plateformes répète une plateforme.", c.Platforms)
	ch.instant("given_at", "La date du consentement", c.GivenAt)
	if !c.ExpiresAt.IsZero() && !c.GivenAt.IsZero() && !c.ExpiresAt.After(c.GivenAt) {
		ch.add("expires_at", "before_start", "must be after given_at",
			"La date d'expiration doit suivre la date du consentement.")
	}
	if !c.WithdrawnAt.IsZero() {
		ch.notBefore("withdrawn_at", "La date de retrait", c.GivenAt, c.WithdrawnAt)
	}
	enum(ch, "source", "L'origine du consentement", c.Source, ConsentFranceConnect)
	return ch.result()
}
