package mapping

import (
	"encoding/json"
	"testing"
)

var benchHousehold = []byte(`{
	"allocataires": [
		{"birth_family_name": "ROUX", "given_names": ["Jeanne", "Stéphanie"], "sex": "F", "birth_date": "1987-06-27"},
		{"birth_family_name": "ROUX", "given_names": ["Loïc", "Nathan"], "sex": "M", "birth_date": "1979-05-19"}
	],
	"children": [
		{"birth_family_name": "ROUX", "given_names": ["Alexis"], "sex": "M", "birth_date": "2006-04-20"},
		{"birth_family_name": "ROUX", "given_names": ["Fleur"], "sex": "F", "birth_date": "2020"}
	],
	"address": {"recipient": "Madame ROUX JEANNE", "street": "1 RUE MONTORGUEIL", "postal_code_city": "75002 PARIS", "country": "FRANCE"}
}`)

func BenchmarkHouseholdValidate(b *testing.B) {
	var h Household
	if err := json.Unmarshal(benchHousehold, &h); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if errs := h.Validate(); len(errs) != 0 {
			b.Fatal(errs)
		}
	}
}

func BenchmarkSchemasValidateHousehold(b *testing.B) {
	s := schemas(b)
	b.ReportAllocs()
	for b.Loop() {
		if errs, err := s.ValidateJSON("household", benchHousehold); err != nil || len(errs) != 0 {
			b.Fatal(errs, err)
		}
	}
}

func BenchmarkParsePartialDate(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParsePartialDate("1980-05-00"); err != nil {
			b.Fatal(err)
		}
	}
}
