package tddui

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"

	"github.com/relais-dev/relais/mapping"
	"github.com/relais-dev/relais/mapping/engine"
)

// BundleIdentifierSystem is the system of the Bundle identifiers Relais
// gives.
const BundleIdentifierSystem = "https://relais-dev.github.io/relais/fhir/sid/report-chunk"

// ContentType is a Bundle's content type.
const ContentType = "application/fhir+json"

// Options say which Bundle to make.
type Options struct {
	// ReportID is Relais's report id, stable across versions: letters,
	// digits, ".", "_" and "-", at most 100. Required.
	ReportID string
	// Version is the report's version, from 1. Required.
	Version int
	// Chunk and Chunks number the Bundle among the report's, from 1.
	// Required.
	Chunk, Chunks int
	// EstablishmentName is the Organization's name. Default: none.
	EstablishmentName string
}

var reportIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,100}$`)

// Validate names the first invalid field of o.
func (o Options) Validate() error {
	switch {
	case !reportIDPattern.MatchString(o.ReportID):
		return errors.New("tddui: Options.ReportID must be 1 to 100 letters, digits, '.', '_' or '-'")
	case o.Version < 1:
		return fmt.Errorf("tddui: Options.Version must be at least 1 (%d)", o.Version)
	case o.Chunk < 1 || o.Chunk > o.Chunks:
		return fmt.Errorf("tddui: Options.Chunk must be between 1 and Options.Chunks (%d of %d)", o.Chunk, o.Chunks)
	case len(o.EstablishmentName) > 200:
		return errors.New("tddui: Options.EstablishmentName is longer than 200 bytes")
	}
	return nil
}

// Bundle is one chunk of the report, mapped.
type Bundle struct {
	// Chunk and Chunks number the Bundle among the report's, from 1.
	Chunk, Chunks int
	// Identifier is Bundle.identifier.value, in BundleIdentifierSystem.
	Identifier string
	// Entries counts the Bundle's entries, the Organization included.
	Entries int
	// Body is the Bundle's JSON.
	Body []byte
}

// BundleIdentifier is the identifier of a report's chunk: the same for
// every version.
func BundleIdentifier(reportID string, chunk int) string {
	return fmt.Sprintf("%s-%d", reportID, chunk)
}

// input is what the TDDUI spec maps.
type input struct {
	Bundle struct {
		Identifier struct {
			System string `json:"system"`
			Value  string `json:"value"`
		} `json:"identifier"`
		Version       int            `json:"version"`
		Organizations []organization `json:"organizations"`
	} `json:"bundle"`
	Report *mapping.ActivityReport `json:"activity_report"`
}

type organization struct {
	FINESS string `json:"finess"`
	Name   string `json:"name,omitempty"`
}

// Map maps one chunk of a report, part (rows of the report, the FINESS
// and period of the whole), to its Bundle with plan, the TDDUI spec
// (tddui.activity.outbound). The Bundle holds the establishment's
// Organization and part's rows, as they are: a stay whose person, or an
// event or slot whose stay, was sent in an earlier chunk refers to it by
// its business identifier, which the receiver resolves against what it
// keeps. The rows should be valid (ActivityReport.Validate); the spec
// refuses what the canonical schema refuses.
func Map(plan *engine.Plan, part *mapping.ActivityReport, opts Options) (Bundle, error) {
	if err := opts.Validate(); err != nil {
		return Bundle{}, err
	}
	var in input
	in.Bundle.Identifier.System = BundleIdentifierSystem
	in.Bundle.Identifier.Value = BundleIdentifier(opts.ReportID, opts.Chunk)
	in.Bundle.Version = opts.Version
	in.Bundle.Organizations = []organization{{FINESS: part.FINESS, Name: opts.EstablishmentName}}
	in.Report = part
	raw, err := json.Marshal(in)
	if err != nil {
		return Bundle{}, fmt.Errorf("encoding chunk %d: %w", opts.Chunk, err)
	}
	res, err := plan.Run(raw, engine.RunOptions{})
	if err != nil {
		return Bundle{}, fmt.Errorf("mapping chunk %d: %w", opts.Chunk, err)
	}
	entries := 1 + len(part.Persons) + len(part.Stays) + len(part.Events) + len(part.PresenceAbsences)
	return Bundle{Chunk: opts.Chunk, Chunks: opts.Chunks, Identifier: in.Bundle.Identifier.Value, Entries: entries, Body: res.Output}, nil
}
