package report

import (
	"github.com/relais-dev/relais/mapping"
	"github.com/relais-dev/relais/mapping/activitycsv"
)

// Mapper turns canonical rows into the authorities' formats: the mapping
// functions of the report outputs.
type Mapper interface {
	// NewFigures starts the figures of one upload (indicators, PSU hours),
	// fed row by row.
	NewFigures(finess string, period mapping.Period) Figures
	// TDDUIBundle builds the bundle of one chunk, chunk of chunks, from the
	// rows of its segment (a part of the report).
	TDDUIBundle(part *mapping.ActivityReport, chunk, chunks int) (contentType string, body []byte, err error)
}

// Figures accumulates what the indicator report and the PSU declaration
// need, without keeping the rows.
type Figures interface {
	Add(row activitycsv.Row) error
	// Indicators returns the indicator report in the destination's schema,
	// and the same indicators as the establishment's CSV.
	Indicators() (contentType string, body, csv []byte, err error)
	// PSU returns the PSU declaration in the destination's schema.
	PSU() (contentType string, body []byte, err error)
}
