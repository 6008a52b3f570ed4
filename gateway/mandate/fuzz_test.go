package mandate_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/relais-dev/relais/gateway/mandate"
)

// FuzzPersonRef: whatever the names (they come from outside), the
// reference has its documented shape, ignores case and surrounding
// spaces, and never quotes the input.
func FuzzPersonRef(f *testing.F) {
	f.Add("Lefèvre", "Zoé Marie-Hélène")
	f.Add("LE GUÉVEL", "andré")
	f.Add("Ñúñez  de\tla Peña", "José-María")
	f.Add("\u0130stanbul", "ǅemal")
	f.Add("", "\xff\xfe")
	f.Fuzz(func(t *testing.T, family, given string) {
		p := mandate.Person{FamilyName: family, GivenNames: given, BirthDate: "1948-03-14", Sex: "female", BirthCountry: "99134"}
		ref := mandate.PersonRef([]byte("fuzz-key-0123456789abcdef0123456789"), p)
		if !mandate.ValidPersonRef(ref) {
			t.Fatalf("ref %q has not the documented shape", ref)
		}
		if len(family) >= 4 && strings.Contains(ref, family) {
			t.Fatalf("ref %q quotes %q", ref, family)
		}
		if !utf8.ValidString(family) || !utf8.ValidString(given) {
			return
		}
		q := p
		q.FamilyName, q.GivenNames = " "+strings.ToUpper(family)+" ", strings.ToUpper(given)
		if strings.ToLower(strings.ToUpper(family)) != strings.ToLower(family) || strings.ToLower(strings.ToUpper(given)) != strings.ToLower(given) {
			return // case mapping that does not round-trip (ß, dotless i): not a promise
		}
		if mandate.PersonRef([]byte("fuzz-key-0123456789abcdef0123456789"), q) != ref {
			t.Fatalf("case or spaces changed the ref of %q %q", family, given)
		}
	})
}
