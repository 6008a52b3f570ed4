package oidc

import "strings"

// Kind is the kind of person a test user is, which tells the provider
// profile that lists them.
type Kind string

// The kinds of test users.
const (
	// Citizen signs in on FranceConnect and FranceConnect+.
	Citizen Kind = "citizen"
	// Professional signs in on ProConnect (public agents and social-sector
	// professionals, tied to an organisation by its SIRET).
	Professional Kind = "professional"
	// HealthProfessional signs in on Pro Santé Connect.
	HealthProfessional Kind = "health_professional"
)

// User is a test user of the login page. Which fields matter depends on
// Kind; the claims each scope releases are in claims.go.
type User struct {
	// ID is the user's stable local id: the login of the login page and,
	// hashed with the client id, their pairwise subject.
	ID string
	// Password is the password of the login page's login/password form.
	Password string
	Kind     Kind

	// Identity pivot (citizens; names also for professionals).
	GivenNames        []string // given_name_array; given_name joins them with spaces
	FamilyName        string   // family_name (birth name), accents and apostrophes kept
	Birthdate         string   // YYYY-MM-DD
	Gender            string   // female or male
	Birthplace        string   // 5-character INSEE COG code of the commune; empty when born abroad
	Birthcountry      string   // 5-character INSEE COG code of the country, 99100 for France
	Email             string
	PreferredUsername string // usage name, if any

	// ProConnect.
	Subject             string // public sub (ProConnect, Pro Santé Connect)
	UsualName           string // usual_name
	UID                 string // uid at the identity provider
	SIRET               string // 14 digits, Luhn-valid
	IdpID               string // the identity provider's id at ProConnect
	OrganizationalUnit  string
	BelongingPopulation string
	Phone               string

	// Pro Santé Connect.
	SubjectNameID   string     // national id of the professional ("8" + RPPS)
	SubjectRoles    []string   // SubjectRole codes
	SecteurActivite string     // Secteur_Activite code
	Exercices       []Exercice // SubjectRefPro.exercices
}

// GivenName is the given_name claim: the given names joined by spaces.
func (u User) GivenName() string { return strings.Join(u.GivenNames, " ") }

// Label is how the login page names the user.
func (u User) Label() string {
	switch u.Kind {
	case Professional:
		return u.GivenName() + " " + u.UsualName + " (" + u.OrganizationalUnit + ")"
	case HealthProfessional:
		return u.GivenName() + " " + u.FamilyName + " (" + u.SubjectNameID + ")"
	default:
		return u.GivenName() + " " + u.FamilyName + ", née le " + u.Birthdate
	}
}

// Exercice is one practice of a health professional (Pro Santé Connect's
// SubjectRefPro.exercices[]).
type Exercice struct {
	CodeProfession               string     `json:"codeProfession"`
	CodeCategorieProfessionnelle string     `json:"codeCategorieProfessionnelle"`
	CodeSavoirFaire              string     `json:"codeSavoirFaire,omitempty"`
	NomDexercice                 string     `json:"nomDexercice"`
	PrenomDexercice              string     `json:"prenomDexercice"`
	Activities                   []Activity `json:"activities"`
}

// Activity is where a health professional practises: the site's FINESS
// and SIRET.
type Activity struct {
	CodeModeExercice     string `json:"codeModeExercice"`
	CodeSecteurDActivite string `json:"codeSecteurDActivite"`
	CodeRole             string `json:"codeRole"`
	NumeroSiretSite      string `json:"numeroSiretSite,omitempty"`
	NumeroFinessSite     string `json:"numeroFinessSite,omitempty"`
	RaisonSocialeSite    string `json:"raisonSocialeSite"`
}

// Citizens are the FranceConnect test citizens. The first ones carry the
// identities of API Particulier sandbox cases (mocks/apiparticulier); the
// others exercise compound given names, accents, apostrophes and a birth
// abroad.
func Citizens() []User {
	return []User{
		{
			ID: "angela.dubois", Password: "angela", Kind: Citizen,
			GivenNames: []string{"Angela", "Claire", "Louise"}, FamilyName: "DUBOIS",
			Birthdate: "1962-08-24", Gender: "female", Birthplace: "75107", Birthcountry: "99100",
			Email: "angela.dubois@example.fr",
		},
		{
			ID: "pierre.mercier", Password: "pierre", Kind: Citizen,
			GivenNames: []string{"Pierre"}, FamilyName: "MERCIER",
			Birthdate: "1969-03-17", Gender: "male", Birthplace: "95277", Birthcountry: "99100",
			Email: "pierre.mercier@example.fr",
		},
		{
			ID: "anne-laure.huche", Password: "annelaure", Kind: Citizen,
			GivenNames: []string{"Anne-Laure"}, FamilyName: "HUCHE",
			Birthdate: "1945-09-30", Gender: "female", Birthplace: "31555", Birthcountry: "99100",
			Email: "anne-laure.huche@example.fr",
		},
		{
			ID: "jean-philippe.dartois", Password: "jeanphilippe", Kind: Citizen,
			GivenNames: []string{"Jean-Philippe", "Marie"}, FamilyName: "D'ARTOIS-LÉVÊQUE",
			Birthdate: "1978-06-27", Gender: "male", Birthplace: "69123", Birthcountry: "99100",
			Email: "jp.dartois@example.fr", PreferredUsername: "Lefèvre",
		},
		{
			ID: "fatima.el-amrani", Password: "fatima", Kind: Citizen,
			GivenNames: []string{"Fatima", "Zahra"}, FamilyName: "EL AMRANI",
			Birthdate: "1985-11-03", Gender: "female", Birthplace: "", Birthcountry: "99350", // born in Morocco
			Email: "fatima.elamrani@example.fr",
		},
		{
			ID: "chloe.noel", Password: "chloe", Kind: Citizen,
			GivenNames: []string{"Chloé", "Éloïse"}, FamilyName: "NOËL",
			Birthdate: "2001-02-28", Gender: "female", Birthplace: "97411", Birthcountry: "99100",
			Email: "chloe.noel@example.fr", PreferredUsername: "Ménard",
		},
	}
}

// Professionals are the ProConnect test professionals, each tied to an
// organisation by a Luhn-valid SIRET.
func Professionals() []User {
	return []User{
		{
			ID: "sophie.garnier", Password: "sophie", Kind: Professional,
			Subject: "b6b1a2f4-4c1e-4a7d-9a53-5e0f1b7e2c01", GivenNames: []string{"Sophie"},
			UsualName: "GARNIER", FamilyName: "GARNIER", Email: "sophie.garnier@ccas-exemple.fr", UID: "sgarnier",
			SIRET: "21300012300009", IdpID: "fia1v2", OrganizationalUnit: "CCAS - Pôle insertion",
			BelongingPopulation: "agent", Phone: "0491000001",
		},
		{
			ID: "karim.benali", Password: "karim", Kind: Professional,
			Subject: "0d9f3c52-8a0e-4b8e-b1f6-3a9c7d2e4f10", GivenNames: []string{"Karim", "Émile"},
			UsualName: "BENALI", FamilyName: "BENALI", Email: "k.benali@association-exemple.org", UID: "kbenali",
			SIRET: "77501234500010", IdpID: "moncomptepro", OrganizationalUnit: "Service d'accompagnement social",
		},
	}
}

// HealthProfessionals are the Pro Santé Connect test professionals.
func HealthProfessionals() []User {
	return []User{
		{
			ID: "helene.roux", Password: "helene", Kind: HealthProfessional,
			Subject: "550dc1c8-d97b-4b1e-ac8c-8eb4471cf9dd", GivenNames: []string{"Hélène"},
			FamilyName: "ROUX", Email: "helene.roux@ehpad-exemple.fr",
			SubjectNameID: "810002345678", SubjectRoles: []string{"60^1.2.250.1.213.1.1.5.5"}, SecteurActivite: "SA07^1.2.250.1.71.4.2.4",
			Exercices: []Exercice{{
				CodeProfession: "60", CodeCategorieProfessionnelle: "C",
				NomDexercice: "ROUX", PrenomDexercice: "Hélène",
				Activities: []Activity{{
					CodeModeExercice: "S", CodeSecteurDActivite: "SA07", CodeRole: "FON-01",
					NumeroSiretSite: "41234567800012", NumeroFinessSite: "130012345",
					RaisonSocialeSite: "EHPAD Les Tilleuls",
				}},
			}},
		},
		{
			ID: "marc.leblanc", Password: "marc", Kind: HealthProfessional,
			Subject: "2b4c6d8e-1a3b-4c5d-8e7f-9a0b1c2d3e4f", GivenNames: []string{"Marc", "André"},
			FamilyName: "LEBLANC", Email: "marc.leblanc@ssiad-exemple.fr",
			SubjectNameID: "810009876543", SubjectRoles: []string{"10^1.2.250.1.213.1.1.5.5"}, SecteurActivite: "SA01^1.2.250.1.71.4.2.4",
			Exercices: []Exercice{{
				CodeProfession: "10", CodeCategorieProfessionnelle: "C", CodeSavoirFaire: "SM54",
				NomDexercice: "LEBLANC", PrenomDexercice: "Marc",
				Activities: []Activity{{
					CodeModeExercice: "L", CodeSecteurDActivite: "SA01", CodeRole: "FON-01",
					NumeroSiretSite: "26750123400012", NumeroFinessSite: "750000523",
					RaisonSocialeSite: "Cabinet médical du Marais",
				}},
			}},
		},
	}
}

// DefaultUsers are the test users of a profile: citizens for FranceConnect
// and FranceConnect+, professionals for ProConnect, health professionals
// for Pro Santé Connect.
func DefaultUsers(profileName string) []User {
	switch kindOf(profileName) {
	case Professional:
		return Professionals()
	case HealthProfessional:
		return HealthProfessionals()
	default:
		return Citizens()
	}
}

func kindOf(profileName string) Kind {
	switch profileName {
	case "proconnect":
		return Professional
	case "prosanteconnect":
		return HealthProfessional
	default:
		return Citizen
	}
}
