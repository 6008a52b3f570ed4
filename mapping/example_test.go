package mapping_test

import (
	"fmt"

	"github.com/relais-dev/relais/mapping"
)

func ExampleParsePartialDate() {
	// The CAF writes unknown parts as zeros; the canonical model drops them.
	for _, s := range []string{"1980-05-12", "1980-05-00", "2020-00-00", "1980-00-12"} {
		d, err := mapping.ParsePartialDate(s)
		if err != nil {
			fmt.Printf("%s: %v\n", s, err)
			continue
		}
		fmt.Printf("%s: %s (%s)\n", s, d, d.Precision())
	}
	// Output:
	// 1980-05-12: 1980-05-12 (day)
	// 1980-05-00: 1980-05 (month)
	// 2020-00-00: 2020 (year)
	// 1980-00-12: invalid partial date, want YYYY, YYYY-MM or YYYY-MM-DD: day without a month
}

func ExamplePartialDate_Matches() {
	caf := mapping.PartialDate("1980-05")
	fmt.Println(caf.Matches("1980-05-12"))
	fmt.Println(caf.Matches("1980-06-01"))
	fmt.Println(mapping.PartialDate("1980").Matches("1980-12-31"))
	// Output:
	// true
	// false
	// true
}

func ExampleStayIdentifier() {
	id, err := mapping.StayIdentifier("750000010", "DUI451", "2024001")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(id, mapping.ValidStayIdentifier(id))
	// Output:
	// 3750000010/DUI451-SEJOUR-2024001 true
}

func ExampleSchemas_ValidateJSON() {
	schemas, err := mapping.CompileSchemas()
	if err != nil {
		fmt.Println(err)
		return
	}
	errs, err := schemas.ValidateJSON("benefit", []byte(`{
		"kind": "quotient_familial", "provider": "CNAF", "status": "not_computable",
		"amount": 0, "period": {"year": 2024, "month": 9}
	}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, fe := range errs {
		fmt.Println(fe.Field, fe.Code, "|", fe.Message)
	}
	// Output:
	// amount not_allowed | Le champ « amount » ne doit pas être renseigné ici.
	// amount out_of_range | Le champ « amount » est hors des limites permises.
}
