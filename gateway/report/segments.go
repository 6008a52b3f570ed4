package report

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/relais-dev/relais/mapping"
	"github.com/relais-dev/relais/mapping/activitycsv"
)

// segmentRow is one canonical row as a segment stores it: one JSON object
// per line, exactly one member set.
type segmentRow struct {
	Person   *mapping.ReportPerson    `json:"person,omitempty"`
	Stay     *mapping.Stay            `json:"stay,omitempty"`
	Event    *mapping.Event           `json:"event,omitempty"`
	Presence *mapping.PresenceAbsence `json:"presence,omitempty"`
}

// segmentWriter stages the valid rows of an upload in segments of size
// rows and feeds them to the figures. It holds one segment at most.
type segmentWriter struct {
	ctx      context.Context //nolint:containedctx // used within one Accept
	store    Store
	uploadID string
	size     int
	figures  Figures

	buf     bytes.Buffer
	entries int
	refs    bool
	seq     int
	// refsBySeg says which segments hold persons or stays.
	refsBySeg []bool
	counts    RowCounts
}

// RowCounts counts the rows accepted, by kind.
type RowCounts struct {
	Persons   int `json:"persons"`
	Stays     int `json:"stays"`
	Events    int `json:"events"`
	Presences int `json:"presences"`
}

// Total is the number of rows.
func (c RowCounts) Total() int { return c.Persons + c.Stays + c.Events + c.Presences }

func (w *segmentWriter) add(row activitycsv.Row) error {
	if err := w.figures.Add(row); err != nil {
		return fmt.Errorf("adding row to figures: %w", err)
	}
	sr := segmentRow{Person: row.Person, Stay: row.Stay, Event: row.Event, Presence: row.Presence}
	switch {
	case row.Person != nil:
		w.counts.Persons++
		w.refs = true
	case row.Stay != nil:
		w.counts.Stays++
		w.refs = true
	case row.Event != nil:
		w.counts.Events++
	case row.Presence != nil:
		w.counts.Presences++
	default:
		return nil
	}
	b, err := json.Marshal(sr)
	if err != nil {
		return fmt.Errorf("encoding row: %w", err)
	}
	w.buf.Write(b)
	w.buf.WriteByte('\n')
	w.entries++
	if w.entries >= w.size {
		return w.flush()
	}
	return nil
}

func (w *segmentWriter) flush() error {
	if w.entries == 0 {
		return nil
	}
	if err := w.store.PutReportSegment(w.ctx, w.uploadID, w.seq, w.entries, w.refs, w.buf.Bytes()); err != nil {
		return err
	}
	w.refsBySeg = append(w.refsBySeg, w.refs)
	w.seq++
	w.buf.Reset()
	w.entries, w.refs = 0, false
	return nil
}

// DecodeSegment reads a segment's rows back as a part of the report of
// finess over period.
func DecodeSegment(data []byte, finess string, period mapping.Period) (*mapping.ActivityReport, error) {
	part := &mapping.ActivityReport{FINESS: finess, Period: period}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for line := 1; sc.Scan(); line++ {
		var r segmentRow
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("decoding segment row %d: %w", line, err)
		}
		switch {
		case r.Person != nil:
			part.Persons = append(part.Persons, *r.Person)
		case r.Stay != nil:
			part.Stays = append(part.Stays, *r.Stay)
		case r.Event != nil:
			part.Events = append(part.Events, *r.Event)
		case r.Presence != nil:
			part.PresenceAbsences = append(part.PresenceAbsences, *r.Presence)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading segment: %w", err)
	}
	return part, nil
}
