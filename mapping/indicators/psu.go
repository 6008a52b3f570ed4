package indicators

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/relais-dev/relais/mapping"
)

// PSU declaration kinds (contracts/cafpsu Kind) a report's period maps to.
const (
	PSUActual          = "reel"
	PSUUpdateJune      = "actualisation_juin"
	PSUUpdateSeptember = "actualisation_septembre"
)

// PSUContentType is the content type of a PSU declaration body.
const PSUContentType = "application/json"

// ErrNotPSUPeriod is returned by PSUKind and PSUDeclaration when the
// report's period is not one the CAF declares: 1 January to 30 June, 30
// September or 31 December of one year.
var ErrNotPSUPeriod = errors.New("the period is not a PSU declaration period (1 January to 30 June, 30 September or 31 December)")

// PSUKind tells the declaration kind and year of a period: January to June
// is the June update, January to September the September update, the whole
// year the actual. (The forecast is not made from activity.)
func PSUKind(p mapping.Period) (kind string, year int, err error) {
	s, e := string(p.Start), string(p.End)
	if len(s) != 10 || len(e) != 10 || s[:4] != e[:4] || s[4:] != "-01-01" {
		return "", 0, ErrNotPSUPeriod
	}
	year, _ = atoi(s[:4])
	switch e[4:] {
	case "-06-30":
		return PSUUpdateJune, year, nil
	case "-09-30":
		return PSUUpdateSeptember, year, nil
	case "-12-31":
		return PSUActual, year, nil
	}
	return "", 0, ErrNotPSUPeriod
}

// psuDeclaration is the body of POST /v1/structures/{partner}/declarations.
type psuDeclaration struct {
	Year          int           `json:"year"`
	Kind          string        `json:"kind"`
	Establishment psuEstablishm `json:"establishment"`
	Months        []PSUMonth    `json:"months"`
}

type psuEstablishm struct {
	SIRET  string  `json:"siret"`
	FINESS *string `json:"finess"`
}

// PSUDeclaration is the body of the report's PSU declaration, in the form
// the CAF declaration API takes (contracts/cafpsu DeclarationRequest): the
// kind and year from the period, the establishment's SIRET and FINESS (null
// when est.FINESS is empty: a structure the CAF knows without one), and the
// months.
func (r *Report) PSUDeclaration(est mapping.Establishment) ([]byte, error) {
	kind, year, err := PSUKind(r.Period)
	if err != nil {
		return nil, err
	}
	if !mapping.ValidSIRET(est.SIRET) {
		return nil, errors.New("making the PSU declaration: the establishment's SIRET is missing or invalid")
	}
	d := psuDeclaration{Year: year, Kind: kind, Establishment: psuEstablishm{SIRET: est.SIRET}, Months: r.PSU.Months}
	if est.FINESS != "" {
		f := est.FINESS
		d.Establishment.FINESS = &f
	}
	b, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("encoding the PSU declaration: %w", err)
	}
	return b, nil
}
