package apiparticulier

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/relais-dev/relais/mapping"
)

// Identity is a person as the CAF/MSA routes look them up: the identity
// parameters of an `/identite` call, or what FranceConnect says of the
// citizen on a `/france_connect` call.
type Identity struct {
	NomNaissance string   `json:"nomNaissance"`
	NomUsage     string   `json:"nomUsage,omitempty"`
	Prenoms      []string `json:"prenoms"`
	// AnneeNaissance, MoisNaissance and JourNaissance are 0 when unknown.
	AnneeNaissance int    `json:"anneeDateNaissance,omitempty"`
	MoisNaissance  int    `json:"moisDateNaissance,omitempty"`
	JourNaissance  int    `json:"jourDateNaissance,omitempty"`
	Sexe           string `json:"sexeEtatCivil"` // "M" or "F"
	// CodePaysNaissance is the INSEE code of the country of birth (99100:
	// France).
	CodePaysNaissance string `json:"codeCogInseePaysNaissance"`
	// CodeCommuneNaissance is the INSEE code of the commune of birth, or
	// NomCommuneNaissance and CodeDepartementNaissance name it.
	CodeCommuneNaissance     string `json:"codeCogInseeCommuneNaissance,omitempty"`
	NomCommuneNaissance      string `json:"nomCommuneNaissance,omitempty"`
	CodeDepartementNaissance string `json:"codeCogInseeDepartementNaissance,omitempty"`
}

// paysFrance is the INSEE code of France as a country of birth.
const paysFrance = "99100"

// errCivilityParams is why identityFromQuery refuses a query.
var errCivilityParams = errors.New("civility parameters missing or malformed")

// identityFromQuery reads the identity parameters of an `/identite` call.
// The runtime has already checked them against the contract (types,
// formats, required ones); this checks what the contract cannot say: a
// person born in France needs a commune of birth, by code or by name with
// the département and the year of birth.
func identityFromQuery(q url.Values) (Identity, error) {
	id := Identity{
		NomNaissance:             q.Get("nomNaissance"),
		NomUsage:                 q.Get("nomUsage"),
		Prenoms:                  q["prenoms[]"],
		Sexe:                     q.Get("sexeEtatCivil"),
		CodePaysNaissance:        q.Get("codeCogInseePaysNaissance"),
		CodeCommuneNaissance:     q.Get("codeCogInseeCommuneNaissance"),
		NomCommuneNaissance:      q.Get("nomCommuneNaissance"),
		CodeDepartementNaissance: q.Get("codeCogInseeDepartementNaissance"),
	}
	var err error
	if id.AnneeNaissance, err = intParam(q, "anneeDateNaissance"); err != nil {
		return Identity{}, err
	}
	if id.MoisNaissance, err = intParam(q, "moisDateNaissance"); err != nil {
		return Identity{}, err
	}
	if id.JourNaissance, err = intParam(q, "jourDateNaissance"); err != nil {
		return Identity{}, err
	}
	// The platform ignores a month without a year and a day without a month.
	if id.AnneeNaissance == 0 {
		id.MoisNaissance = 0
	}
	if id.MoisNaissance == 0 {
		id.JourNaissance = 0
	}
	if err := id.check(); err != nil {
		return Identity{}, err
	}
	return id, nil
}

// check applies the rules the contract's schemas cannot express.
func (id Identity) check() error {
	switch {
	case mapping.FoldName(id.NomNaissance) == "":
		return fmt.Errorf("%w: nomNaissance is empty", errCivilityParams)
	case len(id.Prenoms) == 0 || mapping.FoldName(strings.Join(id.Prenoms, " ")) == "":
		return fmt.Errorf("%w: prenoms[] is empty", errCivilityParams)
	case id.Sexe != "M" && id.Sexe != "F":
		return fmt.Errorf("%w: sexeEtatCivil is not M or F", errCivilityParams)
	case id.CodePaysNaissance == paysFrance && id.CodeCommuneNaissance == "" &&
		(id.NomCommuneNaissance == "" || id.CodeDepartementNaissance == "" || id.AnneeNaissance == 0):
		return fmt.Errorf("%w: a person born in France needs codeCogInseeCommuneNaissance, or nomCommuneNaissance with codeCogInseeDepartementNaissance and anneeDateNaissance", errCivilityParams)
	case id.CodePaysNaissance != paysFrance && (id.CodeCommuneNaissance != "" || id.NomCommuneNaissance != ""):
		return fmt.Errorf("%w: a commune of birth is given for a person born abroad", errCivilityParams)
	}
	return nil
}

func intParam(q url.Values, name string) (int, error) {
	v := q.Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%w: %s is not a number", errCivilityParams, name)
	}
	return n, nil
}

// key is the identity in a canonical form: two queries the platform cannot
// tell apart have the same key.
func (id Identity) key() string {
	var b strings.Builder
	for _, part := range []string{
		mapping.FoldName(id.NomNaissance), mapping.FoldName(id.NomUsage), mapping.FoldName(strings.Join(id.Prenoms, " ")),
		strconv.Itoa(id.AnneeNaissance), strconv.Itoa(id.MoisNaissance), strconv.Itoa(id.JourNaissance),
		id.Sexe, id.CodePaysNaissance, strings.ToUpper(id.CodeCommuneNaissance),
		mapping.FoldName(id.NomCommuneNaissance), strings.ToUpper(id.CodeDepartementNaissance),
	} {
		b.WriteString(part)
		b.WriteByte('|')
	}
	return b.String()
}

// birthCommune is the INSEE code of the commune of birth: the code given,
// or the one the name and département resolve to in communes; "" when
// unknown.
func (id Identity) birthCommune(communes map[string]commune) string {
	if id.CodeCommuneNaissance != "" {
		return strings.ToUpper(id.CodeCommuneNaissance)
	}
	if id.NomCommuneNaissance == "" {
		return ""
	}
	name, dept := mapping.FoldName(id.NomCommuneNaissance), strings.ToUpper(id.CodeDepartementNaissance)
	for code, c := range communes {
		if mapping.FoldName(c.Nom) == name && c.Departement == dept {
			return code
		}
	}
	return ""
}

// prenomsMatch reports whether the first names asked are the member's, or
// their first ones in order ("JEAN" matches "JEAN PIERRE", "JEAN PI" does
// not).
func prenomsMatch(asked, member string) bool {
	if asked == "" {
		return false
	}
	rest, ok := strings.CutPrefix(member, asked)
	return ok && (rest == "" || rest[0] == ' ')
}

// Citizen is the identity FranceConnect gives of a signed-in citizen (the
// `identite_pivot` claims): what the `/france_connect` routes use instead of
// identity parameters.
type Citizen struct {
	// GivenNames are the first names in civil-status order
	// (given_name_array).
	GivenNames []string `json:"given_name_array"`
	// FamilyName is the birth name (family_name).
	FamilyName string `json:"family_name"`
	// PreferredUsername is the name in use, when any (preferred_username).
	PreferredUsername string `json:"preferred_username,omitempty"`
	// Birthdate is YYYY-MM-DD; FranceConnect writes unknown parts as 00.
	Birthdate string `json:"birthdate,omitempty"`
	// Gender is "male" or "female".
	Gender string `json:"gender"`
	// Birthplace is the INSEE code of the commune of birth, empty for a
	// person born abroad.
	Birthplace string `json:"birthplace,omitempty"`
	// Birthcountry is the INSEE code of the country of birth.
	Birthcountry string `json:"birthcountry"`
}

// Identity is the identity the platform looks the citizen up with.
func (c Citizen) Identity() Identity {
	id := Identity{
		NomNaissance:         c.FamilyName,
		NomUsage:             c.PreferredUsername,
		Prenoms:              c.GivenNames,
		CodePaysNaissance:    c.Birthcountry,
		CodeCommuneNaissance: c.Birthplace,
	}
	switch c.Gender {
	case "male":
		id.Sexe = "M"
	case "female":
		id.Sexe = "F"
	}
	if y, m, d, ok := splitDate(c.Birthdate); ok {
		id.AnneeNaissance, id.MoisNaissance, id.JourNaissance = y, m, d
	}
	return id
}

// splitDate reads YYYY-MM-DD, where MM and DD may be 00 (unknown).
func splitDate(s string) (y, m, d int, ok bool) {
	if len(s) != len("2006-01-02") || s[4] != '-' || s[7] != '-' {
		return 0, 0, 0, false
	}
	for i, c := range []byte(s) {
		if i != 4 && i != 7 && (c < '0' || c > '9') {
			return 0, 0, 0, false
		}
	}
	var err error
	if y, err = strconv.Atoi(s[:4]); err != nil {
		return 0, 0, 0, false
	}
	if m, err = strconv.Atoi(s[5:7]); err != nil || m > 12 {
		return 0, 0, 0, false
	}
	if d, err = strconv.Atoi(s[8:]); err != nil || d > 31 {
		return 0, 0, 0, false
	}
	return y, m, d, y > 0
}
