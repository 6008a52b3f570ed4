package tddui_test

import (
	"fmt"
	"log"

	"github.com/relais-dev/relais/mapping"
	"github.com/relais-dev/relais/mapping/engine"
	"github.com/relais-dev/relais/mapping/specs"
	"github.com/relais-dev/relais/mapping/tddui"
)

// ExampleMap maps the second chunk of a report: a stay whose person was
// sent in the first chunk refers to it by its local id.
func ExampleMap() {
	schemas, err := mapping.CompileSchemas()
	if err != nil {
		log.Fatal(err)
	}
	cat, err := engine.LoadCatalog(specs.FS, engine.Options{Schemas: schemas.Get})
	if err != nil {
		log.Fatal(err)
	}
	p, _ := cat.Plan("tddui", "bundle", engine.Outbound)
	part := &mapping.ActivityReport{
		FINESS: "750000010", Period: mapping.Period{Start: "2024-01-01", End: "2024-12-31"},
		Stays: []mapping.Stay{{Identifier: "3750000010/U1-SEJOUR-1", PersonLocalID: "3750000010/U1", Start: "2023-05-01"}},
	}
	b, err := tddui.Map(p, part, tddui.Options{ReportID: "rpt_1", Version: 2, Chunk: 2, Chunks: 3})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(b.Identifier, b.Entries, len(tddui.Check(b.Body)))
	// Output: rpt_1-2 2 0
}
