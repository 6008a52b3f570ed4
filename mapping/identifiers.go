package mapping

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// National identifiers: FINESS, SIREN/SIRET, NIR, INSEE COG codes.

// ValidFINESS reports whether s is a FINESS number: 9 digits whose last is a
// Luhn check digit over the other eight.
func ValidFINESS(s string) bool {
	return len(s) == 9 && allDigits(s) && luhn(s)
}

// laPosteSIREN is the SIREN of La Poste, whose establishments are too many
// for the 4-digit establishment number and the Luhn key: their SIRETs use
// another rule (see ValidSIRET).
const laPosteSIREN = "356000000"

// laPosteHeadOffice is La Poste's head office, which keeps the Luhn key.
const laPosteHeadOffice = "35600000000048"

// ValidSIREN reports whether s is a SIREN: 9 digits with a Luhn key.
func ValidSIREN(s string) bool {
	return len(s) == 9 && allDigits(s) && luhn(s)
}

// ValidSIRET reports whether s is a SIRET: 14 digits, the SIREN then the
// establishment number, with a Luhn key over the whole. La Poste (SIREN
// 356000000) is the exception: the sum of the digits of its establishments'
// SIRETs is a multiple of 5, and only its head office, 35600000000048,
// follows Luhn.
func ValidSIRET(s string) bool {
	if len(s) != 14 || !allDigits(s) {
		return false
	}
	if s[:9] == laPosteSIREN && s != laPosteHeadOffice {
		sum := 0
		for i := range len(s) {
			sum += int(s[i] - '0')
		}
		return sum%5 == 0
	}
	return luhn(s)
}

// nirPattern is a NIR or NIA with its key: sex, year, month, department
// (2A and 2B for Corsica), commune, order number, 2-digit key.
var nirPattern = regexp.MustCompile(`^[0-9]{5}(?:[0-9]{2}|2A|2B)[0-9]{8}$`)

// ValidNIR reports whether s is a 15-character NIR (or NIA) whose last two
// digits are its key: 97 minus the first 13 characters modulo 97, Corsica's
// 2A and 2B counting as 19 and 18.
func ValidNIR(s string) bool {
	if !nirPattern.MatchString(s) {
		return false
	}
	body := s[:13]
	switch body[5:7] {
	case "2A":
		body = body[:5] + "19" + body[7:]
	case "2B":
		body = body[:5] + "18" + body[7:]
	}
	rem := 0
	for i := range len(body) {
		rem = (rem*10 + int(body[i]-'0')) % 97
	}
	key, _ := digits(s[13:])
	return key == 97-rem
}

// COG codes (INSEE "code officiel géographique").
var (
	// communePattern is a commune: a department (01 to 98, 2A and 2B; 20
	// stays valid for births in Corsica before 1976, the COG code in force
	// at birth being the identity trait) then three digits. 99 is the prefix
	// of countries.
	communePattern = regexp.MustCompile(`^(?:0[1-9]|[1-8][0-9]|9[0-8]|2A|2B)[0-9]{3}$`)
	// countryPattern is a country or territory: 99 then three digits.
	countryPattern = regexp.MustCompile(`^99[0-9]{3}$`)
)

// CountryFrance is the COG code of France.
const CountryFrance = "99100"

// ValidCommuneCOG reports whether s is the shape of an INSEE COG commune
// code: 5 characters, digits or 2A/2B then 3 digits, not a country code.
func ValidCommuneCOG(s string) bool { return communePattern.MatchString(s) }

// ValidCountryCOG reports whether s is the shape of an INSEE COG country
// code: 99 then 3 digits; 99100 is France.
func ValidCountryCOG(s string) bool { return countryPattern.MatchString(s) }

// TDDUI identifiers: the formats the ANS guide for the transfer of ESMS data
// enforces. FINESS is the establishment's FINESS number, localID the ESMS
// software's identifier of the person (letters and digits).

// Identifier systems of the TDDUI guide.
const (
	// StayIdentifierSystem is the system of a stay's identifier.
	StayIdentifierSystem = "https://identifiant-medicosocial-sejour.esante.gouv.fr"
	// PresenceAbsenceIdentifierSystem is the system of a presence or
	// absence's identifier.
	PresenceAbsenceIdentifierSystem = "https://identifiant-medicosocial-presenceabsence.esante.gouv.fr"
)

var (
	personLocalIDPattern   = regexp.MustCompile(`^3[0-9]{9}/[A-Za-z0-9]+$`)
	stayIdentifierPattern  = regexp.MustCompile(`^3[0-9]{9}/[A-Za-z0-9]+-SEJOUR-[A-Za-z0-9]+$`)
	presenceAbsencePattern = regexp.MustCompile(`^3[0-9]{9}/[A-Za-z0-9]+-PA-[A-Za-z0-9]+$`)
	alphanumPattern        = regexp.MustCompile(`^[A-Za-z0-9]+$`)
)

// ErrInvalidIdentifier is returned (wrapped) by the identifier builders when
// a part is malformed.
var ErrInvalidIdentifier = errors.New("invalid identifier part")

// PersonLocalID builds a person's TDDUI local identifier,
// "3<FINESS>/<localID>".
func PersonLocalID(finess, localID string) (string, error) {
	if !ValidFINESS(finess) {
		return "", fmt.Errorf("%w: FINESS must be 9 digits with a valid key", ErrInvalidIdentifier)
	}
	if !alphanumPattern.MatchString(localID) {
		return "", fmt.Errorf("%w: local id must be letters and digits", ErrInvalidIdentifier)
	}
	return "3" + finess + "/" + localID, nil
}

// StayIdentifier builds a stay's TDDUI identifier,
// "3<FINESS>/<localID>-SEJOUR-<file>", file being the stay's file number.
func StayIdentifier(finess, localID, file string) (string, error) {
	person, err := PersonLocalID(finess, localID)
	if err != nil {
		return "", err
	}
	if !alphanumPattern.MatchString(file) {
		return "", fmt.Errorf("%w: file number must be letters and digits", ErrInvalidIdentifier)
	}
	return person + "-SEJOUR-" + file, nil
}

// PresenceAbsenceIdentifier builds a presence or absence's TDDUI
// identifier, "3<FINESS>/<localID>-PA-<n>".
func PresenceAbsenceIdentifier(finess, localID, n string) (string, error) {
	person, err := PersonLocalID(finess, localID)
	if err != nil {
		return "", err
	}
	if !alphanumPattern.MatchString(n) {
		return "", fmt.Errorf("%w: number must be letters and digits", ErrInvalidIdentifier)
	}
	return person + "-PA-" + n, nil
}

// ValidPersonLocalID reports whether s has the form "3<9 digits>/<letters
// and digits>". It checks the shape the guide enforces, not the FINESS key.
func ValidPersonLocalID(s string) bool { return personLocalIDPattern.MatchString(s) }

// ValidStayIdentifier reports whether s has the form
// "3<9 digits>/<letters and digits>-SEJOUR-<letters and digits>".
func ValidStayIdentifier(s string) bool { return stayIdentifierPattern.MatchString(s) }

// ValidPresenceAbsenceIdentifier reports whether s matches the guide's
// ^3[0-9]{9}/[A-Za-z0-9]+-PA-[A-Za-z0-9]+$.
func ValidPresenceAbsenceIdentifier(s string) bool { return presenceAbsencePattern.MatchString(s) }

// personOf returns the person local identifier a stay or presence/absence
// identifier starts with: the local id holds no dash, so it ends at the
// first one.
func personOf(id string) string {
	if i := strings.IndexByte(id, '-'); i >= 0 {
		return id[:i]
	}
	return id
}

// finessOf returns the FINESS inside a TDDUI identifier of a valid shape.
func finessOf(id string) string {
	if len(id) < 10 {
		return ""
	}
	return id[1:10]
}

func allDigits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// luhn reports whether the digits of s, the last being the check digit,
// pass the Luhn test.
func luhn(s string) bool {
	sum := 0
	for i := range len(s) {
		d := int(s[len(s)-1-i] - '0')
		if i%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}
