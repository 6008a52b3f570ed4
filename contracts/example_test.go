package contracts_test

import (
	"encoding/json"
	"fmt"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/relais-dev/relais/contracts"
)

// A platform renamed a field and turned a number into a string overnight:
// Compare names each change by its JSON path.
func ExampleCompare() {
	doc, err := openapi3.NewLoader().LoadFromData([]byte(`
openapi: 3.1.0
info: {title: example, version: '1'}
paths: {}
components:
  schemas:
    QuotientFamilial:
      type: object
      required: [data]
      properties:
        data:
          type: object
          required: [quotient_familial, allocataires]
          properties:
            quotient_familial:
              type: object
              required: [valeur]
              properties:
                valeur: {type: integer}
            allocataires:
              type: array
              items:
                type: object
                required: [nom_naissance]
                properties:
                  nom_naissance: {type: string}
                  prenoms: {type: array, items: {type: string}}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	var body any
	_ = json.Unmarshal([]byte(`{"data":{"quotient_familial":{"valeur":"1250"},
		"allocataires":[{"nomNaissance":"DUPONT","prenoms":["Jean"]}]}}`), &body)

	for _, c := range contracts.Compare(doc.Components.Schemas["QuotientFamilial"], nil, body) {
		fmt.Printf("%-8s %s  %s→%s\n", c.Kind, c.Path, c.Want, c.Got)
	}
	// Output:
	// removed  $.data.allocataires[0].nom_naissance  string→absent
	// added    $.data.allocataires[0].nomNaissance  absent→string
	// retyped  $.data.quotient_familial.valeur  integer→string
}
