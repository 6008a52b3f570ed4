package mandate_test

import (
	"fmt"

	"github.com/relais-dev/relais/gateway/mandate"
)

// The person reference ignores case, accents and spacing, so staff can
// type a name as they like and still find the person's mandates.
func ExamplePersonRef() {
	key := []byte("example-key-0123456789abcdef012345")
	a := mandate.PersonRef(key, mandate.Person{FamilyName: "Lefèvre", GivenNames: "Zoé", BirthDate: "1948-03-14", Sex: "female", BirthCountry: "99134"})
	b := mandate.PersonRef(key, mandate.Person{FamilyName: "LEFEVRE ", GivenNames: "zoe", BirthDate: "1948-03-14", Sex: "female", BirthCountry: "99134"})
	fmt.Println(mandate.ValidPersonRef(a), a == b)
	// Output: true true
}
