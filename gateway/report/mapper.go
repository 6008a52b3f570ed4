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
	// TDDUIBundle builds the bundle of one chunk from the rows of its
	// segment (a part of the report).
	TDDUIBundle(part *mapping.ActivityReport, c ChunkRef) (contentType string, body []byte, err error)
}

// ChunkRef names one TDDUI chunk of a version of a report.
type ChunkRef struct {
	// ReportID is the report's id, the same for every version.
	ReportID string
	// Version is the report's version, from 1.
	Version int
	// Chunk and Chunks number the chunk among the version's, from 1.
	Chunk, Chunks int
}

// Figures accumulates what the indicator report and the PSU declaration
// need, without keeping the rows.
type Figures interface {
	Add(row activitycsv.Row) error
	// Indicators returns the indicator report in the destination's schema,
	// and the same indicators as the establishment's CSV.
	Indicators() (contentType string, body, csv []byte, err error)
	// PSU returns the PSU declaration in the destination's schema, or a
	// nil body when the report's period is not one the PSU declares
	// (then none is sent).
	PSU() (contentType string, body []byte, err error)
}
