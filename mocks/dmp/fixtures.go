package dmp

import (
	"embed"
	"encoding/json"
	"fmt"
	"time"
)

// fixtures holds the test patients and the documents already in their
// records. They follow the real shapes (INS test NIRs with valid keys,
// PDSm bundles) but every identity in them is fictitious.
//
//go:embed fixtures/*.json
var fixtures embed.FS

// fixtureRecords are the provide bundles stored at start, in order.
var fixtureRecords = []string{"fixtures/record-ndiaye-2024.json"}

// FixturePatients returns the test patients: three people with a health
// record, named by test NIRs (system SystemTestNIR).
func FixturePatients() []Patient {
	b, err := fixtures.ReadFile("fixtures/patients.json")
	if err != nil {
		panic(fmt.Sprintf("dmp: reading the fixture patients: %v", err))
	}
	var ps []Patient
	if err := json.Unmarshal(b, &ps); err != nil {
		panic(fmt.Sprintf("dmp: decoding the fixture patients: %v", err))
	}
	return ps
}

// fixtureRecord is a provide bundle and when it was submitted.
type fixtureRecord struct {
	Submitted time.Time       `json:"submitted"`
	Bundle    json.RawMessage `json:"bundle"`
}

// loadFixtureDocuments submits the fixture bundles to st through the same
// checks as a client's.
func loadFixtureDocuments(st *store) error {
	for _, name := range fixtureRecords {
		b, err := fixtures.ReadFile(name)
		if err != nil {
			return fmt.Errorf("reading fixture %s: %w", name, err)
		}
		var rec fixtureRecord
		if err := json.Unmarshal(b, &rec); err != nil {
			return fmt.Errorf("decoding fixture %s: %w", name, err)
		}
		sub, ferr := parseBundle(rec.Bundle)
		if ferr == nil {
			_, _, ferr = st.commit(sub, rec.Submitted)
		}
		if ferr != nil {
			return fmt.Errorf("submitting fixture %s: %w", name, ferr)
		}
	}
	return nil
}
