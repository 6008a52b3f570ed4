package report

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/relais-dev/relais/mapping"
	"github.com/relais-dev/relais/mapping/activitycsv"
	"github.com/relais-dev/relais/mapping/engine"
	"github.com/relais-dev/relais/mapping/indicators"
	"github.com/relais-dev/relais/mapping/tddui"
)

// Mappings is the Mapper of the mapping packages: mapping/indicators for
// the indicator report and the PSU declaration, mapping/tddui for the
// TDDUI chunks.
type Mappings struct {
	tddui    *engine.Plan
	cfg      Config
	location *time.Location
}

var _ Mapper = (*Mappings)(nil)

// NewMappings returns the Mapper of the mapping packages. plan is the
// TDDUI spec (tddui.activity.outbound, from the gateway's catalog); cfg
// says what is known of each establishment (name, SIRET, capacity).
func NewMappings(plan *engine.Plan, cfg Config) (*Mappings, error) {
	if plan == nil {
		return nil, errors.New("report: the TDDUI mapping plan is required")
	}
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		return nil, fmt.Errorf("loading Europe/Paris: %w", err)
	}
	return &Mappings{tddui: plan, cfg: cfg, location: paris}, nil
}

// NewFigures implements Mapper with an indicators.Accumulator.
func (m *Mappings) NewFigures(finess string, period mapping.Period) Figures {
	est := m.cfg.establishment(finess)
	acc, err := indicators.New(indicators.Options{FINESS: finess, Period: period, Capacity: est.Capacity, Location: m.location})
	return &figures{acc: acc, err: err, est: est}
}

// TDDUIBundle implements Mapper with tddui.Map.
func (m *Mappings) TDDUIBundle(part *mapping.ActivityReport, c ChunkRef) (string, []byte, error) {
	b, err := tddui.Map(m.tddui, part, tddui.Options{
		ReportID: c.ReportID, Version: c.Version, Chunk: c.Chunk, Chunks: c.Chunks,
		EstablishmentName: m.cfg.establishment(part.FINESS).Name,
	})
	if err != nil {
		return "", nil, err
	}
	return tddui.ContentType, b.Body, nil
}

// figures is one upload's indicators.Accumulator.
type figures struct {
	acc *indicators.Accumulator
	// err is the accumulator's options' problem, if any.
	err error
	est Establishment
	rep *indicators.Report
}

func (f *figures) Add(row activitycsv.Row) error {
	if f.err != nil {
		return f.err
	}
	return f.acc.Row(row)
}

func (f *figures) report() (*indicators.Report, error) {
	if f.err != nil {
		return nil, f.err
	}
	if f.rep == nil {
		f.rep = f.acc.Report()
	}
	return f.rep, nil
}

func (f *figures) Indicators() (string, []byte, []byte, error) {
	r, err := f.report()
	if err != nil {
		return "", nil, nil, err
	}
	body, err := r.JSON()
	if err != nil {
		return "", nil, nil, fmt.Errorf("encoding indicators: %w", err)
	}
	var csv bytes.Buffer
	if err := r.WriteCSV(&csv); err != nil {
		return "", nil, nil, fmt.Errorf("writing indicators CSV: %w", err)
	}
	return indicators.ContentType, body, csv.Bytes(), nil
}

func (f *figures) PSU() (string, []byte, error) {
	r, err := f.report()
	if err != nil {
		return "", nil, err
	}
	est := mapping.Establishment{FINESS: f.est.FINESS, SIRET: f.est.SIRET, Name: f.est.Name}
	if f.est.CAFWithoutFINESS {
		est.FINESS = ""
	}
	body, err := r.PSUDeclaration(est)
	if errors.Is(err, indicators.ErrNotPSUPeriod) {
		return "", nil, nil
	} else if err != nil {
		return "", nil, err
	}
	return indicators.PSUContentType, body, nil
}
