package mapping_test

import (
	"fmt"

	"github.com/relais-dev/relais/mapping"
)

func ExampleFoldName() {
	fmt.Println(mapping.FoldName("  Zoé-Marie  d’Orléans"))
	fmt.Println(mapping.FoldName("Lætitia N'Diaye"))
	// Output:
	// ZOE MARIE D ORLEANS
	// LAETITIA N DIAYE
}

func ExampleMatchIdentity() {
	asked := mapping.Person{
		BirthFamilyName: "N'Diaye", GivenNames: []string{"Marie-Anne"},
		Sex: mapping.SexFemale, BirthDate: "1984", BirthPlaceCOG: "75056",
	}
	// The platform gives the used name, every given name in upper case and
	// the full date of birth, but no place of birth.
	returned := mapping.Person{
		BirthFamilyName: "DUPONT", UsedName: "NDIAYE", GivenNames: []string{"MARIE", "ANNE", "LOUISE"},
		Sex: mapping.SexFemale, BirthDate: "1984-09-03",
	}
	m := mapping.MatchIdentity(&asked, &returned)
	fmt.Println(m.Status, m.Mismatched, m.Unchecked)

	// Another month of birth: flagged, never merged.
	returned.BirthDate = "1984-10-03"
	asked.BirthDate = "1984-09"
	m = mapping.MatchIdentity(&asked, &returned)
	fmt.Println(m.Status, m.Mismatched)
	// Output:
	// match [] [birth_place_cog birth_country_cog]
	// mismatch [birth_date]
}
