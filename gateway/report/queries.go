package report

import (
	"context"

	"github.com/relais-dev/relais/gateway/store"
	"github.com/relais-dev/relais/mapping"
)

// Find returns a tenant's report of an establishment over a period, with
// its versions (newest first) and each output's delivery, or
// store.ErrNotFound.
func (s *Service) Find(ctx context.Context, tenantID, finess string, period mapping.Period) (store.Report, error) {
	return s.store.FindReport(ctx, tenantID, finess, string(period.Start), string(period.End))
}

// Get returns a tenant's report by id, or store.ErrNotFound.
func (s *Service) Get(ctx context.Context, tenantID, id string) (store.Report, error) {
	return s.store.GetReport(ctx, tenantID, id)
}

// List returns a tenant's reports of an establishment, oldest period first.
func (s *Service) List(ctx context.Context, tenantID, finess string) ([]store.Report, error) {
	return s.store.ListReports(ctx, tenantID, finess)
}

// IndicatorsCSV returns the establishment's indicator CSV of a version of a
// report (0: the latest) and that version's number.
func (s *Service) IndicatorsCSV(ctx context.Context, tenantID, reportID string, version int) ([]byte, int, error) {
	return s.store.ReportIndicators(ctx, tenantID, reportID, version)
}
