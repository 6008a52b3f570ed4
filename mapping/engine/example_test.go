package engine_test

import (
	"fmt"
	"time"

	"github.com/relais-dev/relais/mapping/engine"
)

func ExamplePlan_Run() {
	spec := `
spec: relais.mapping/v1
name: example.quotient_familial.inbound
platform: apiparticulier
operation: quotient_familial
direction: inbound
purpose: Tarification sociale selon le quotient familial.
reads:
  - data.allocataires[].prenoms
  - data.quotient_familial.valeur
rules:
  - target: household.allocataires[].given_names
    from: data.allocataires[].prenoms
    expr: givenNames(value)
  - target: benefit.status
    from: data.quotient_familial.valeur
    expr: "value == 0 ? 'not_computable' : 'beneficiary'"
  - target: benefit.amount
    from: data.quotient_familial.valeur
    when: value != 0
`
	plan, err := engine.Parse("example.yaml", []byte(spec), engine.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	input := `{"data":{"allocataires":[{"nom_naissance":"ROUX","prenoms":"JEAN PHILIPPE"}],
	           "quotient_familial":{"fournisseur":"CNAF","valeur":0}},"links":{},"meta":{}}`
	res, err := plan.Run([]byte(input), engine.RunOptions{Source: engine.Source{At: time.Now()}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(res.Output))
	fmt.Println("dropped:", res.Dropped)
	fmt.Println("from the platform:", res.Provenance.Paths)
	// Output:
	// {"household":{"allocataires":[{"given_names":["JEAN","PHILIPPE"]}]},"benefit":{"status":"not_computable"}}
	// dropped: [data.allocataires[].nom_naissance data.quotient_familial.fournisseur links meta]
	// from the platform: [household.allocataires[].given_names benefit.status benefit.amount]
}

func ExampleParse_problems() {
	spec := `
spec: relais.mapping/v1
name: example
platform: apiparticulier
operation: quotient_familial
direction: inbound
purpose: Exemple.
reads:
  - data.quotient_familial.valeur
rules:
  - target: benefit.amount
    expr: input.data.quotient_familial.valeur + input.data.secret
`
	_, err := engine.Parse("example.yaml", []byte(spec), engine.Options{})
	fmt.Println(err)
	// Output:
	// loading mapping spec example.yaml: 1 problem(s)
	//   example.yaml:12:59: undeclared_read: the expression reads data.secret, which reads does not declare
}
