package activitycsv_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/relais-dev/relais/mapping"
	"github.com/relais-dev/relais/mapping/activitycsv"
)

// Read an upload, get the valid rows in the canonical model and every
// problem at once.
func ExampleRead() {
	files := map[string]string{
		"usagers.csv": "Identifiant usager;Nom de naissance;Prénoms;Sexe;Date de naissance\n" +
			"U0042;Lefèvre;Zoé;F;14/03/1948\n",
		"sejours.csv": "Identifiant séjour;Date d'entrée;Date de sortie\n" +
			"U0042-SEJOUR-1;01/09/2019;\n" +
			"U0042-SEJOUR-2;31/02/2024;\n",
	}
	var inputs []activitycsv.Input
	for name, body := range files {
		inputs = append(inputs, activitycsv.Input{Name: name, R: strings.NewReader(body), Size: int64(len(body))})
	}
	opts := activitycsv.Options{
		FINESS:  "750000010",
		Period:  mapping.Period{Start: "2024-01-01", End: "2024-12-31"},
		Partial: true, // hand on the valid rows, list the others
	}
	res, err := activitycsv.Read(context.Background(), opts, func(r activitycsv.Row) error {
		switch r.Kind {
		case activitycsv.KindPersons:
			fmt.Println("person", r.Person.LocalID)
		case activitycsv.KindStays:
			fmt.Println("stay", r.Stay.Identifier, "from", r.Stay.Start)
		}
		return nil
	}, inputs...)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range res.Problems {
		fmt.Println(p.Code, p)
	}
	// Output:
	// person 3750000010/U0042
	// stay 3750000010/U0042-SEJOUR-1 from 2019-09-01
	// invalid_date sejours.csv : Ligne 3, colonne « Date d'entrée » : « 31/02/2024 » n'est pas une date valide.
}
