package mapping

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// FoldName folds a name for comparison, the way civil-status registers and
// the platforms compare names: upper case; accents and other marks removed
// (canonical decomposition, then marks dropped); ligatures and letters with
// a stroke spelled in plain Latin letters (Æ AE, Œ OE, ß SS, Ø O, Ł L, Đ D);
// hyphens, apostrophes and white space as one space, none at either end;
// any other character (punctuation, symbols, letters without an upper case)
// dropped. So "  Zoé-Marie  d’Orléans" folds to "ZOE MARIE D ORLEANS".
//
// FoldName is idempotent, and its result holds only letters that are not
// lower case, digits and single spaces. A name of plain ASCII is folded
// without decomposing it.
func FoldName(s string) string {
	if !isASCII(s) {
		s = norm.NFD.String(strings.ToUpper(s))
	}
	var b strings.Builder
	b.Grow(len(s))
	space := false // a separator is due before the next letter
	for _, r := range s {
		if r < utf8.RuneSelf {
			switch {
			case 'a' <= r && r <= 'z':
				r -= 'a' - 'A'
			case 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
			case r == ' ' || r == '-' || r == '\'' || r == '`' || ('\t' <= r && r <= '\r'):
				space = b.Len() > 0
				continue
			default:
				continue
			}
			writeFolded(&b, &space, "", r)
			continue
		}
		switch {
		case unicode.Is(unicode.M, r):
			// A mark of a decomposed letter: the letter stays.
		case unicode.IsSpace(r) || unicode.Is(unicode.Pd, r) || isApostrophe(r):
			space = b.Len() > 0
		case spelledLetter(r) != "":
			writeFolded(&b, &space, spelledLetter(r), 0)
		case unicode.IsDigit(r) || (unicode.IsLetter(r) && !unicode.IsLower(r)):
			writeFolded(&b, &space, "", r)
		}
	}
	return b.String()
}

// writeFolded writes s, or r when s is empty, after the space that is due.
func writeFolded(b *strings.Builder, space *bool, s string, r rune) {
	if *space {
		b.WriteByte(' ')
		*space = false
	}
	if s != "" {
		b.WriteString(s)
		return
	}
	b.WriteRune(r)
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func isApostrophe(r rune) bool {
	switch r {
	case '’', '‘', 'ʼ', 'ʻ', '´', '′':
		return true
	}
	return false
}

// spelledLetter is how an upper-case ligature or letter with a stroke,
// which has no canonical decomposition, is spelled in plain Latin letters;
// "" for any other rune.
func spelledLetter(r rune) string {
	switch r {
	case 'Æ':
		return "AE"
	case 'Œ':
		return "OE"
	case 'ß', 'ẞ':
		return "SS"
	case 'Ø':
		return "O"
	case 'Ł':
		return "L"
	case 'Đ', 'Ð':
		return "D"
	}
	return ""
}

// MatchStatus is the verdict of [MatchIdentity].
type MatchStatus string

// Match statuses.
const (
	// MatchStatusMatch: every field both identities have agrees, the names
	// included.
	MatchStatusMatch MatchStatus = "match"
	// MatchStatusMismatch: at least one field disagrees; the identities are
	// not known to be the same person and must not be merged.
	MatchStatusMismatch MatchStatus = "mismatch"
	// MatchStatusUnverified: no field disagrees, but the family name or the
	// given names could not be compared, a side lacking them.
	MatchStatusUnverified MatchStatus = "unverified"
)

// The fields [MatchIdentity] compares, as [IdentityMatch] names them: the
// JSON names of [Person]'s fields. The family name is compared with the
// used name on either side, under "birth_family_name".
const (
	FieldBirthFamilyName = "birth_family_name"
	FieldGivenNames      = "given_names"
	FieldSex             = "sex"
	FieldBirthDate       = "birth_date"
	FieldBirthPlaceCOG   = "birth_place_cog"
	FieldBirthCountryCOG = "birth_country_cog"
	FieldINS             = "ins"
)

// IdentityMatch says whether two identities can be the same person and,
// when not, which fields disagree. It names fields and never holds a value:
// it may be logged and shown.
type IdentityMatch struct {
	Status MatchStatus `json:"status"`
	// Mismatched lists the fields that disagree, in [Person]'s field order;
	// empty unless Status is mismatch.
	Mismatched []string `json:"mismatched,omitempty"`
	// Unchecked lists the fields that only one side gives, or that one side
	// gives in a form that cannot be compared (a date of birth that is not a
	// partial date, a sex other than F or M, an INS of another system), so
	// they were not compared. Fields neither side gives are in neither list.
	Unchecked []string `json:"unchecked,omitempty"`
}

// Matched reports whether the identities match: every field both have
// agrees, the names included.
func (m IdentityMatch) Matched() bool { return m.Status == MatchStatusMatch }

// MatchIdentity compares the identity asked of a platform with the one the
// platform returned, so a lookup can flag an answer about someone else
// instead of merging it. It is symmetric: the order of a and b does not
// change the verdict. The rules:
//
//   - family names: the birth and used names of each side, folded with
//     [FoldName] and with their spaces removed (N'Diaye = NDiaye = N Diaye),
//     match when one of a's equals one of b's: a platform may return the
//     used name where the birth name was asked;
//   - given names: folded and split into words, hyphens and apostrophes
//     splitting too (Jean-Pierre = Jean Pierre, Marie Anne = Marie-Anne);
//     they match when the words are the same, or the same once their spaces
//     are removed, or when one list's words begin the other's and cover at
//     least the longer list's first given name (Pierre matches Pierre Alexis
//     François, Marie does not match Marie-Anne);
//   - the date of birth matches at the coarser precision
//     ([PartialDate.Matches]: 1984 matches 1984-09-03, 1984-10 does not);
//   - sex, when both are F or M;
//   - the COG code of the commune of birth, when both have one, and of the
//     country of birth, when both know it (France when only a commune is
//     given);
//   - the INS, when both have one in the same system.
func MatchIdentity(a, b *Person) IdentityMatch {
	var m IdentityMatch
	// compare records field's verdict: nothing when neither side gives it,
	// unchecked when the two cannot be compared.
	compare := func(field string, given, comparable, agree bool) bool {
		switch {
		case !given:
		case !comparable:
			m.Unchecked = append(m.Unchecked, field)
		case !agree:
			m.Mismatched = append(m.Mismatched, field)
		}
		return comparable
	}

	famA, famB := familyNames(a), familyNames(b)
	familyCompared := compare(FieldBirthFamilyName,
		a.BirthFamilyName != "" || a.UsedName != "" || b.BirthFamilyName != "" || b.UsedName != "",
		len(famA) > 0 && len(famB) > 0,
		slices.ContainsFunc(famA, func(n string) bool { return slices.Contains(famB, n) }))
	givenA, givenB := foldGivenNames(a.GivenNames), foldGivenNames(b.GivenNames)
	givenCompared := compare(FieldGivenNames, len(a.GivenNames) > 0 || len(b.GivenNames) > 0,
		len(givenA.words) > 0 && len(givenB.words) > 0, givenNamesMatch(givenA, givenB))
	sexKnown := func(s Sex) bool { return s == SexFemale || s == SexMale }
	compare(FieldSex, a.Sex != "" || b.Sex != "", sexKnown(a.Sex) && sexKnown(b.Sex), a.Sex == b.Sex)
	compare(FieldBirthDate, a.BirthDate != "" || b.BirthDate != "",
		a.BirthDate.Valid() && b.BirthDate.Valid(), a.BirthDate.Matches(b.BirthDate))
	placeA, placeB := foldCode(a.BirthPlaceCOG), foldCode(b.BirthPlaceCOG)
	compare(FieldBirthPlaceCOG, placeA != "" || placeB != "", placeA != "" && placeB != "", placeA == placeB)
	countryA, countryB := birthCountry(a), birthCountry(b)
	compare(FieldBirthCountryCOG, countryA != "" || countryB != "", countryA != "" && countryB != "", countryA == countryB)
	compare(FieldINS, a.INS != nil || b.INS != nil, a.INS != nil && b.INS != nil && a.INS.System == b.INS.System,
		a.INS != nil && b.INS != nil && foldCode(a.INS.Value) == foldCode(b.INS.Value))

	switch {
	case len(m.Mismatched) > 0:
		m.Status = MatchStatusMismatch
	case !familyCompared || !givenCompared:
		m.Status = MatchStatusUnverified
	default:
		m.Status = MatchStatusMatch
	}
	return m
}

// familyNames are p's birth and used names, folded and without spaces;
// empty ones left out.
func familyNames(p *Person) []string {
	names := make([]string, 0, 2)
	for _, n := range []string{p.BirthFamilyName, p.UsedName} {
		if f := strings.ReplaceAll(FoldName(n), " ", ""); f != "" && !slices.Contains(names, f) {
			names = append(names, f)
		}
	}
	return names
}

// foldedGivenNames are given names as words: folded, hyphens and
// apostrophes splitting them.
type foldedGivenNames struct {
	words []string
	// first is the number of words of the first given name: the first
	// space-separated part of the list, so that Jean-Pierre, written with
	// a hyphen, is one name of two words, and "Jean Pierre" two names.
	first int
}

func foldGivenNames(names []string) foldedGivenNames {
	var g foldedGivenNames
	for _, n := range names {
		for part := range strings.FieldsSeq(n) {
			f := FoldName(part)
			if f == "" {
				continue
			}
			words := strings.Split(f, " ")
			if g.first == 0 {
				g.first = len(words)
			}
			g.words = append(g.words, words...)
		}
	}
	return g
}

// givenNamesMatch applies MatchIdentity's rule for given names; both lists
// have words.
func givenNamesMatch(a, b foldedGivenNames) bool {
	if strings.Join(a.words, "") == strings.Join(b.words, "") {
		return true
	}
	short, long := a, b
	if len(short.words) > len(long.words) {
		short, long = long, short
	}
	return len(short.words) < len(long.words) && len(short.words) >= long.first &&
		slices.Equal(short.words, long.words[:len(short.words)])
}

// birthCountry is p's COG country of birth: France when only a commune is
// given, "" when unknown.
func birthCountry(p *Person) string {
	if c := foldCode(p.BirthCountryCOG); c != "" {
		return c
	}
	if foldCode(p.BirthPlaceCOG) != "" {
		return CountryFrance
	}
	return ""
}

// foldCode is a code without surrounding spaces, in upper case (Corsican
// communes are 2A and 2B).
func foldCode(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }
