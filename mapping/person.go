package mapping

import (
	"fmt"
	"unicode/utf8"
)

// Sex is a person's sex as civil status records it.
type Sex string

// Sexes.
const (
	SexFemale  Sex = "F"
	SexMale    Sex = "M"
	SexUnknown Sex = "U"
)

// INS identifier systems (OIDs of the national health identifier).
const (
	// INSSystemNIR: the INS is the person's NIR.
	INSSystemNIR = "urn:oid:1.2.250.1.213.1.4.8"
	// INSSystemNIA: the INS is a temporary number (NIA).
	INSSystemNIA = "urn:oid:1.2.250.1.213.1.4.9"
	// INSSystemTest: a test NIR, for qualification environments.
	INSSystemTest = "urn:oid:1.2.250.1.213.1.4.10"
	// INSSystemDemo: a demonstration NIR.
	INSSystemDemo = "urn:oid:1.2.250.1.213.1.4.11"
)

// INS is a national health identifier (identifiant national de santé).
type INS struct {
	// Value is the 15-character NIR or NIA, key included.
	Value string `json:"value"`
	// System is one of the INSSystem constants.
	System string `json:"system"`
}

// Identifier is an identifier of a person in another system: the ESMS
// software, a platform.
type Identifier struct {
	// System is an absolute URI naming the identifier's issuer
	// (https://... or urn:oid:...).
	System string `json:"system"`
	Value  string `json:"value"`
}

// Person is a person's identity as the civil status and the INS know it.
// Every field is personal data.
type Person struct {
	// BirthFamilyName is the name at birth ("nom de naissance").
	BirthFamilyName string `json:"birth_family_name"`
	// UsedName is the name in use ("nom d'usage"), when it differs.
	UsedName string `json:"used_name,omitempty"`
	// GivenNames lists the given names in civil status order, the first
	// one first; a compound name ("Jean-Pierre") is one entry.
	GivenNames []string `json:"given_names"`
	Sex        Sex      `json:"sex"`
	// BirthDate may lack its day or its month.
	BirthDate PartialDate `json:"birth_date"`
	// BirthPlaceCOG is the INSEE COG code of the commune of birth, for a
	// person born in France.
	BirthPlaceCOG string `json:"birth_place_cog,omitempty"`
	// BirthCountryCOG is the INSEE COG code of the country of birth,
	// CountryFrance (99100) for France. Empty means France when
	// BirthPlaceCOG is set, an unknown birth place otherwise.
	BirthCountryCOG string `json:"birth_country_cog,omitempty"`
	// INS is the national health identifier, once the identity is
	// qualified.
	INS *INS `json:"ins,omitempty"`
	// Identifiers are the person's identifiers in other systems.
	Identifiers []Identifier `json:"identifiers,omitempty"`
}

// FirstGivenName is the first of the given names, "" when there is none.
func (p *Person) FirstGivenName() string {
	if len(p.GivenNames) == 0 {
		return ""
	}
	return p.GivenNames[0]
}

// isZero reports whether p is the zero Person: an absent one.
func (p *Person) isZero() bool {
	return p.BirthFamilyName == "" && p.UsedName == "" && p.GivenNames == nil && p.Sex == "" &&
		p.BirthDate == "" && p.BirthPlaceCOG == "" && p.BirthCountryCOG == "" && p.INS == nil && p.Identifiers == nil
}

// BornAbroad reports whether the country of birth is known and is not
// France.
func (p *Person) BornAbroad() bool {
	return p.BirthCountryCOG != "" && p.BirthCountryCOG != CountryFrance
}

// Limits of a person's fields, in characters.
const (
	maxNameLength    = 100
	maxGivenNames    = 10
	maxIdentifiers   = 20
	maxIdentifierLen = 128
)

// Validate checks the person. The birth place follows the COG rule: a person
// born in France (country 99100) has a birth commune; a person born abroad
// has none; a country left empty means France when a commune is given, and
// an unknown birth place otherwise, which a person with an INS cannot have
// (the birth place is one of the INS's strict traits).
func (p *Person) Validate() []*FieldError {
	c := newChecker("")
	p.validate(c)
	return c.result()
}

func (p *Person) validate(c *checker) {
	c.text("birth_family_name", "Le nom de naissance", p.BirthFamilyName, true, maxNameLength)
	c.text("used_name", "Le nom d'usage", p.UsedName, false, maxNameLength)
	switch {
	case len(p.GivenNames) == 0:
		c.add("given_names", "required", "must list at least one given name", "Au moins un prénom est obligatoire.")
	case len(p.GivenNames) > maxGivenNames:
		c.add("given_names", "too_long", fmt.Sprintf("must list at most %d given names", maxGivenNames),
			fmt.Sprintf("La liste des prénoms dépasse %d prénoms.", maxGivenNames))
	}
	for i, g := range p.GivenNames {
		c.text(fmt.Sprintf("given_names[%d]", i), "Le prénom", g, true, maxNameLength)
	}
	enum(c, "sex", "Le sexe", p.Sex, SexFemale, SexMale, SexUnknown)
	switch {
	case p.BirthDate == "":
		c.missing("birth_date", "La date de naissance")
	case !p.BirthDate.Valid():
		c.add("birth_date", "invalid_partial_date", "must be a partial date: YYYY, YYYY-MM or YYYY-MM-DD",
			"La date de naissance n'est pas une date partielle valide (AAAA, AAAA-MM ou AAAA-MM-JJ).")
	}
	p.validateBirthPlace(c)
	if p.INS != nil {
		p.INS.validate(c.at("ins"))
	}
	if len(p.Identifiers) > maxIdentifiers {
		c.add("identifiers", "too_long", fmt.Sprintf("must list at most %d identifiers", maxIdentifiers),
			fmt.Sprintf("La liste des identifiants dépasse %d identifiants.", maxIdentifiers))
	}
	for i := range p.Identifiers {
		p.Identifiers[i].validate(c.item("identifiers", i))
	}
}

func (p *Person) validateBirthPlace(c *checker) {
	if p.BirthCountryCOG != "" && !ValidCountryCOG(p.BirthCountryCOG) {
		c.add("birth_country_cog", "invalid_format", "must be an INSEE COG country code: 99 then 3 digits",
			"Le code du pays de naissance doit être un code COG de l'Insee : 99 suivi de 3 chiffres.")
	}
	switch {
	case p.BirthPlaceCOG != "" && !ValidCommuneCOG(p.BirthPlaceCOG):
		c.add("birth_place_cog", "invalid_format",
			"must be an INSEE COG commune code: 2 digits, 2A or 2B, then 3 digits",
			"Le code de la commune de naissance doit être un code COG de l'Insee : 2 chiffres, 2A ou 2B, puis 3 chiffres.")
	case p.BirthPlaceCOG != "" && p.BornAbroad():
		c.add("birth_place_cog", "not_allowed", "must be empty for a person born abroad",
			"La commune de naissance ne doit pas être renseignée pour une personne née à l'étranger.")
	case p.BirthPlaceCOG == "" && p.BirthCountryCOG == CountryFrance:
		c.add("birth_place_cog", "required", "is required for a person born in France",
			"La commune de naissance est obligatoire pour une personne née en France.")
	case p.BirthPlaceCOG == "" && p.BirthCountryCOG == "" && p.INS != nil:
		c.add("birth_place_cog", "required", "is required with an INS, unless the country of birth is foreign",
			"La commune de naissance est obligatoire avec un INS, sauf pour une personne née à l'étranger.")
	}
}

func (ins *INS) validate(c *checker) {
	enum(c, "system", "Le système de l'INS", ins.System, INSSystemNIR, INSSystemNIA, INSSystemTest, INSSystemDemo)
	switch {
	case ins.Value == "":
		c.missing("value", "La valeur de l'INS")
	case !nirPattern.MatchString(ins.Value):
		c.add("value", "invalid_format", "must be 15 characters: 13 digits (2A or 2B for Corsica) and a 2-digit key",
			"L'INS doit compter 15 caractères : 13 chiffres (2A ou 2B pour la Corse) et une clé de 2 chiffres.")
	case (ins.System == INSSystemNIR || ins.System == INSSystemNIA) && !ValidNIR(ins.Value):
		c.add("value", "invalid_key", "has a wrong key",
			"La clé de l'INS ne correspond pas au numéro.")
	}
}

func (id *Identifier) validate(c *checker) {
	switch {
	case id.System == "":
		c.missing("system", "Le système de l'identifiant")
	case utf8.RuneCountInString(id.System) > 256 || !uriPattern.MatchString(id.System):
		c.add("system", "invalid_format", "must be an absolute URI of at most 256 characters",
			"Le système de l'identifiant doit être une URI absolue d'au plus 256 caractères.")
	}
	c.text("value", "La valeur de l'identifiant", id.Value, true, maxIdentifierLen)
}

// Address is a postal address as API Particulier gives it: free text
// lines, all optional, at least one set.
type Address struct {
	// Recipient is the recipient line ("Madame ROUX JEANNE").
	Recipient string `json:"recipient,omitempty"`
	// Street is the number and street ("1 RUE MONTORGUEIL").
	Street string `json:"street,omitempty"`
	// Locality is a place name without a street ("lieu-dit").
	Locality string `json:"locality,omitempty"`
	// PostalCodeCity is the postal code and city ("75002 PARIS").
	PostalCodeCity string `json:"postal_code_city,omitempty"`
	Country        string `json:"country,omitempty"`
}

const maxAddressLine = 200

func (a *Address) validate(c *checker) {
	if *a == (Address{}) {
		c.add("", "required", "must have at least one line", "L'adresse doit comporter au moins une ligne.")
		return
	}
	c.text("recipient", "Le destinataire", a.Recipient, false, maxAddressLine)
	c.text("street", "La voie", a.Street, false, maxAddressLine)
	c.text("locality", "Le lieu-dit", a.Locality, false, maxAddressLine)
	c.text("postal_code_city", "Le code postal et la ville", a.PostalCodeCity, false, maxAddressLine)
	c.text("country", "Le pays", a.Country, false, maxAddressLine)
}

// Household is a family as the CAF or the MSA knows it: the allocataires
// (the claimant and partner), the children, the address.
type Household struct {
	Allocataires []Person `json:"allocataires"`
	Children     []Person `json:"children,omitempty"`
	Address      *Address `json:"address,omitempty"`
}

const maxHouseholdMembers = 30

// Validate checks the household and every person in it.
func (h *Household) Validate() []*FieldError {
	c := newChecker("")
	h.validate(c)
	return c.result()
}

func (h *Household) validate(c *checker) {
	switch {
	case len(h.Allocataires) == 0:
		c.add("allocataires", "required", "must list at least one allocataire", "Au moins un allocataire est obligatoire.")
	case len(h.Allocataires) > maxHouseholdMembers:
		c.add("allocataires", "too_long", fmt.Sprintf("must list at most %d allocataires", maxHouseholdMembers),
			fmt.Sprintf("La liste des allocataires dépasse %d personnes.", maxHouseholdMembers))
	}
	for i := range h.Allocataires {
		h.Allocataires[i].validate(c.item("allocataires", i))
	}
	if len(h.Children) > maxHouseholdMembers {
		c.add("children", "too_long", fmt.Sprintf("must list at most %d children", maxHouseholdMembers),
			fmt.Sprintf("La liste des enfants dépasse %d enfants.", maxHouseholdMembers))
	}
	for i := range h.Children {
		h.Children[i].validate(c.item("children", i))
	}
	if h.Address != nil {
		h.Address.validate(c.at("address"))
	}
}
