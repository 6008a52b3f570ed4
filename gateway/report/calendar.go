package report

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/gateway/store"
)

// Calendar item statuses.
const (
	StatusDue       = "due"
	StatusSubmitted = "submitted"
	StatusAccepted  = "accepted"
	StatusRejected  = "rejected"
)

// CalendarItem is one report due from an establishment.
type CalendarItem struct {
	// Output is psu_declaration or indicators.
	Output connectors.ReportKind `json:"output"`
	// Declaration names the PSU declaration: forecast, actual,
	// update_june, update_september; "yearly" for the indicator report.
	Declaration string `json:"declaration"`
	// Label says it in French, for the staff.
	Label string `json:"label"`
	// PeriodStart and PeriodEnd are the period the report covers.
	PeriodStart string `json:"period_start"`
	PeriodEnd   string `json:"period_end"`
	// Due is the deadline, a date (Paris).
	Due string `json:"due"`
	// Status is due, submitted (on its way), accepted (every destination
	// gave a receipt) or rejected (see Reasons).
	Status string `json:"status"`
	// Overdue: the deadline has passed and nothing was accepted.
	Overdue bool `json:"overdue"`
	// ReportID and Version are the version the status is of.
	ReportID string   `json:"report_id,omitempty"`
	Version  int      `json:"version,omitempty"`
	Reasons  []Reason `json:"reasons,omitempty"`
}

// Reason is why a destination rejected a report.
type Reason struct {
	Destination string `json:"destination"`
	Code        string `json:"code"`
	Detail      string `json:"detail,omitempty"`
}

// Calendar lists what an establishment must report in year (0: this
// year, Paris time): for a crèche the CAF's four PSU declarations
// (forecast of the year by 15 February, actual of the previous year by
// 31 March, update January–June by 10 July, update January–September by
// 12 October), and the previous year's indicator report by
// Config.IndicatorsDue. Each item's status is that of the latest version
// of the report of its period: a forecast and the actual of the same year
// are one report (the whole year), the actual being its later version.
func (s *Service) Calendar(ctx context.Context, tenantID, finess string, year int) ([]CalendarItem, error) {
	now := s.now().In(s.paris)
	if year == 0 {
		year = now.Year()
	}
	y, prev := strconv.Itoa(year), strconv.Itoa(year-1)
	var items []CalendarItem
	if s.cfg.creche(finess) {
		items = append(items,
			CalendarItem{Output: connectors.ReportPSUDeclaration, Declaration: "forecast", Label: "PSU : prévisionnel " + y,
				PeriodStart: y + "-01-01", PeriodEnd: y + "-12-31", Due: y + "-02-15"},
			CalendarItem{Output: connectors.ReportPSUDeclaration, Declaration: "actual", Label: "PSU : réel " + prev,
				PeriodStart: prev + "-01-01", PeriodEnd: prev + "-12-31", Due: y + "-03-31"},
			CalendarItem{Output: connectors.ReportPSUDeclaration, Declaration: "update_june", Label: "PSU : actualisation janvier–juin " + y,
				PeriodStart: y + "-01-01", PeriodEnd: y + "-06-30", Due: y + "-07-10"},
			CalendarItem{Output: connectors.ReportPSUDeclaration, Declaration: "update_september", Label: "PSU : actualisation janvier–septembre " + y,
				PeriodStart: y + "-01-01", PeriodEnd: y + "-09-30", Due: y + "-10-12"},
		)
	}
	items = append(items, CalendarItem{Output: connectors.ReportIndicators, Declaration: "yearly", Label: "Indicateurs d'activité " + prev,
		PeriodStart: prev + "-01-01", PeriodEnd: prev + "-12-31", Due: y + "-" + s.cfg.IndicatorsDue})

	statuses, err := s.store.ReportStatuses(ctx, tenantID, finess)
	if err != nil {
		return nil, err
	}
	today := now.Format(time.DateOnly)
	for i := range items {
		it := &items[i]
		it.Status = StatusDue
		var delivered, total int
		for _, st := range statuses {
			if st.PeriodStart != it.PeriodStart || st.PeriodEnd != it.PeriodEnd || st.Kind != string(it.Output) {
				continue
			}
			it.ReportID, it.Version = st.ReportID, st.Version
			for _, d := range st.Deliveries {
				total++
				switch d.Status {
				case store.StatusDelivered:
					delivered++
				case store.StatusFailed, store.StatusDead:
					it.Reasons = append(it.Reasons, reasonOf(d))
				}
			}
		}
		switch {
		case len(it.Reasons) > 0:
			it.Status = StatusRejected
		case total > 0 && delivered == total:
			it.Status = StatusAccepted
		case total > 0:
			it.Status = StatusSubmitted
		}
		it.Overdue = it.Status != StatusAccepted && today > it.Due
	}
	return items, nil
}

// reasonOf reads a failed delivery's stored problem: its code, and the
// platform's own detail when it gave one.
func reasonOf(d store.Delivery) Reason {
	r := Reason{Destination: d.Destination, Code: "upstream_rejected"}
	var p struct {
		Code     string `json:"code"`
		Title    string `json:"title"`
		Detail   string `json:"detail"`
		Upstream *struct {
			Body json.RawMessage `json:"body"`
		} `json:"upstream"`
	}
	if json.Unmarshal(d.LastError, &p) != nil {
		return r
	}
	if p.Code != "" {
		r.Code = p.Code
	}
	r.Detail = p.Title
	if p.Upstream != nil {
		var body struct {
			Detail string `json:"detail"`
		}
		if json.Unmarshal(p.Upstream.Body, &body) == nil && body.Detail != "" {
			r.Detail = body.Detail
		}
	}
	if r.Detail == "" {
		r.Detail = fmt.Sprintf("delivery %s", d.Status)
	}
	return r
}
