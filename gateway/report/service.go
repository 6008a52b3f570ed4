package report

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/gateway/store"
	"github.com/relais-dev/relais/mapping"
	"github.com/relais-dev/relais/mapping/activitycsv"
)

// Store is what the service needs of the store.
type Store interface {
	PutReportSegment(ctx context.Context, uploadID string, seq, entries int, refs bool, data []byte) error
	DropReportSegments(ctx context.Context, uploadID string) error
	CreateReportVersion(ctx context.Context, n store.NewReportVersion) (store.ReportVersion, bool, error)
	ReportVersionByKey(ctx context.Context, tenantID, key string, requestHash []byte) (store.ReportVersion, error)
	FindReport(ctx context.Context, tenantID, finess, periodStart, periodEnd string) (store.Report, error)
	GetReport(ctx context.Context, tenantID, id string) (store.Report, error)
	ReportIndicators(ctx context.Context, tenantID, reportID string, version int) ([]byte, int, error)
	ReportStatuses(ctx context.Context, tenantID, finess string) ([]store.ReportStatus, error)
	ListReports(ctx context.Context, tenantID, finess string) ([]store.Report, error)
}

var _ Store = (*store.Store)(nil)

// Destinations finds the connector of a destination.
type Destinations interface {
	Get(name string) (connectors.Connector, bool)
}

// Deps are the service's collaborators.
type Deps struct {
	Store  Store
	Mapper Mapper
	// Destinations checks that every route's destination is registered.
	Destinations Destinations
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Service accepts activity report uploads and builds their outputs.
type Service struct {
	cfg    Config
	store  Store
	mapper Mapper
	now    func() time.Time
	paris  *time.Location
}

// New builds the service. Every route must name a registered destination.
func New(cfg Config, deps Deps) (*Service, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Store == nil || deps.Mapper == nil {
		return nil, errors.New("report: Store and Mapper are required")
	}
	for i, r := range cfg.Routes {
		if deps.Destinations == nil {
			return nil, errors.New("report: Destinations is required with routes")
		}
		if _, ok := deps.Destinations.Get(r.Destination); !ok {
			return nil, fmt.Errorf("reports.routes[%d].destination: no connector %q is configured", i, r.Destination)
		}
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		return nil, fmt.Errorf("loading Europe/Paris: %w", err)
	}
	return &Service{cfg: cfg, store: deps.Store, mapper: deps.Mapper, now: deps.Now, paris: paris}, nil
}

// Config returns the service's configuration, defaults applied.
func (s *Service) Config() Config { return s.cfg }

// Upload is one upload of an establishment's activity over a period:
// CSV files or zips (Files), or the canonical report as JSON (Report).
type Upload struct {
	TenantID string
	APIKeyID string
	// IdempotencyKey is the client's; when empty, the request hash stands
	// for it, so the same bytes uploaded again are the same version.
	IdempotencyKey string
	// RequestHash identifies the request: the files' names and digests,
	// the establishment, the period and Partial.
	RequestHash []byte
	FINESS      string
	Period      mapping.Period
	// Partial accepts the valid rows of an upload with invalid ones.
	Partial bool
	Files   []activitycsv.Input
	Report  *mapping.ActivityReport
}

// Problem is one error of an upload: for a CSV file its place (file,
// line, column, header), for JSON its field; a stable code and a French
// message that quotes no personal value.
type Problem struct {
	File    string `json:"file,omitempty"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Header  string `json:"header,omitempty"`
	Field   string `json:"field,omitempty"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Summary sums an upload up; it holds no personal data.
type Summary struct {
	Files []activitycsv.FileResult `json:"files,omitempty"`
	// Rows counts the rows kept.
	Rows RowCounts `json:"rows"`
	// Problems lists the first problems; TotalProblems counts them all.
	Problems      []Problem `json:"problems,omitempty"`
	TotalProblems int       `json:"total_problems"`
}

// Outcome is what became of an upload.
type Outcome struct {
	// Accepted: a version was stored and its outputs enqueued. When false,
	// Summary lists why and nothing was kept.
	Accepted bool
	// Replayed: the same upload was accepted before; Version is that one.
	Replayed bool
	Version  store.ReportVersion
	Summary  Summary
}

// CodeNoRows is the problem of an upload without a single valid row.
const CodeNoRows = "no_rows"

// idempotencyKey namespaces report keys apart from submissions'.
func idempotencyKey(u *Upload) string {
	if u.IdempotencyKey == "" {
		return "report:sha256:" + hex.EncodeToString(u.RequestHash)
	}
	return "report:" + u.IdempotencyKey
}

// Accept reads, checks and, when it is valid (or Partial), persists an
// upload as the next version of its report, its outputs enqueued for
// delivery. Problems with the upload are in the Outcome; the error is for
// the store, the mapper or ctx, and store.ErrIdempotencyConflict.
func (s *Service) Accept(ctx context.Context, u Upload) (Outcome, error) {
	key := idempotencyKey(&u)
	prev, err := s.store.ReportVersionByKey(ctx, u.TenantID, key, u.RequestHash)
	switch {
	case err == nil:
		return Outcome{Accepted: true, Replayed: true, Version: prev}, nil
	case !errors.Is(err, store.ErrNotFound):
		return Outcome{}, err
	}
	w := &segmentWriter{
		ctx: ctx, store: s.store, uploadID: store.NewUploadID(), size: s.cfg.ChunkEntries,
		figures: s.mapper.NewFigures(u.FINESS, u.Period),
	}
	accepted := false
	defer func() {
		if !accepted {
			// Nothing of a refused upload is kept.
			_ = s.store.DropReportSegments(context.WithoutCancel(ctx), w.uploadID)
		}
	}()
	var sum Summary
	if u.Report != nil {
		sum, err = s.readJSON(u, w)
	} else {
		sum, err = s.readCSV(ctx, u, w)
	}
	if err != nil {
		return Outcome{}, err
	}
	sum.Rows = w.counts
	if sum.TotalProblems > 0 && !u.Partial {
		return Outcome{Summary: sum}, nil
	}
	if w.counts.Total() == 0 {
		sum.Problems = append(sum.Problems, Problem{Code: CodeNoRows,
			Message: "Le rapport ne contient aucune ligne valide : rien n'a été enregistré ni transmis."})
		sum.TotalProblems++
		return Outcome{Summary: sum}, nil
	}
	if err := w.flush(); err != nil {
		return Outcome{}, err
	}
	n, err := s.newVersion(u, key, w, sum)
	if err != nil {
		return Outcome{}, err
	}
	v, replayed, err := s.store.CreateReportVersion(ctx, n)
	if err != nil {
		return Outcome{}, err
	}
	accepted = !replayed
	return Outcome{Accepted: true, Replayed: replayed, Version: v, Summary: sum}, nil
}

func (s *Service) readCSV(ctx context.Context, u Upload, w *segmentWriter) (Summary, error) {
	res, err := activitycsv.Read(ctx, activitycsv.Options{
		FINESS: u.FINESS, Period: u.Period, Partial: u.Partial, Location: s.paris, Limits: s.cfg.Limits,
	}, w.add, u.Files...)
	if err != nil {
		return Summary{}, fmt.Errorf("reading upload: %w", err)
	}
	sum := Summary{Files: res.Files, TotalProblems: res.Total}
	for _, p := range res.Problems {
		sum.Problems = append(sum.Problems, Problem{File: p.File, Line: p.Line, Column: p.Column, Header: p.Header, Code: p.Code, Message: p.Message})
	}
	return sum, nil
}

// readJSON checks a canonical report and hands its valid rows on: all of
// them when it is valid, those without a problem when Partial.
func (s *Service) readJSON(u Upload, w *segmentWriter) (Summary, error) {
	r := u.Report
	var sum Summary
	// invalid holds, by collection, the rows with a problem; whole is a
	// problem with the report itself (FINESS, period), which leaves no row
	// to keep.
	invalid := map[string]map[int]bool{}
	whole := false
	for _, fe := range r.Validate() {
		sum.TotalProblems++
		if len(sum.Problems) < s.cfg.Limits.MaxProblems {
			sum.Problems = append(sum.Problems, Problem{Field: fe.Field, Code: fe.Code, Message: fe.Message})
		}
		coll, idx, ok := itemOf(fe.Field)
		if !ok {
			whole = true
			continue
		}
		if invalid[coll] == nil {
			invalid[coll] = map[int]bool{}
		}
		invalid[coll][idx] = true
	}
	if sum.TotalProblems > 0 && (!u.Partial || whole) {
		return sum, nil
	}
	add := func(coll string, n int, row func(i int) activitycsv.Row) error {
		for i := range n {
			if invalid[coll][i] {
				continue
			}
			if err := w.add(row(i)); err != nil {
				return err
			}
		}
		return nil
	}
	// One collection after the other, stopping at the first error.
	if err := add("persons", len(r.Persons), func(i int) activitycsv.Row {
		return activitycsv.Row{Kind: activitycsv.KindPersons, Person: &r.Persons[i]}
	}); err != nil {
		return Summary{}, err
	}
	if err := add("stays", len(r.Stays), func(i int) activitycsv.Row {
		return activitycsv.Row{Kind: activitycsv.KindStays, Stay: &r.Stays[i]}
	}); err != nil {
		return Summary{}, err
	}
	if err := add("events", len(r.Events), func(i int) activitycsv.Row {
		return activitycsv.Row{Kind: activitycsv.KindEvents, Event: &r.Events[i]}
	}); err != nil {
		return Summary{}, err
	}
	if err := add("presence_absences", len(r.PresenceAbsences), func(i int) activitycsv.Row {
		return activitycsv.Row{Kind: activitycsv.KindPresences, Presence: &r.PresenceAbsences[i]}
	}); err != nil {
		return Summary{}, err
	}
	return sum, nil
}

// itemOf reads "stays[3].start" as ("stays", 3).
func itemOf(field string) (string, int, bool) {
	coll, rest, ok := strings.Cut(field, "[")
	if !ok {
		return "", 0, false
	}
	idx, _, ok := strings.Cut(rest, "]")
	if !ok {
		return "", 0, false
	}
	i, err := strconv.Atoi(idx)
	return coll, i, err == nil
}

// newVersion builds what the store keeps of an accepted upload: the
// indicators, the small outputs' bodies and one output per TDDUI chunk.
func (s *Service) newVersion(u Upload, key string, w *segmentWriter, sum Summary) (store.NewReportVersion, error) {
	summary, err := json.Marshal(sum)
	if err != nil {
		return store.NewReportVersion{}, fmt.Errorf("encoding summary: %w", err)
	}
	indType, indBody, indCSV, err := w.figures.Indicators()
	if err != nil {
		return store.NewReportVersion{}, fmt.Errorf("computing indicators: %w", err)
	}
	n := store.NewReportVersion{
		TenantID: u.TenantID, APIKeyID: u.APIKeyID, IdempotencyKey: key, RequestHash: u.RequestHash,
		FINESS: u.FINESS, PeriodStart: string(u.Period.Start), PeriodEnd: string(u.Period.End),
		UploadID: w.uploadID, Segments: w.seq, Partial: u.Partial, Categories: []string{"identity", "activity"},
		Summary: summary, Indicators: indCSV,
	}
	var psuType string
	var psuBody []byte
	for _, r := range s.cfg.routes(u.FINESS) {
		switch r.Output {
		case connectors.ReportTDDUIBundle:
			for k := 1; k <= w.seq; k++ {
				n.Outputs = append(n.Outputs, store.NewReportOutput{
					Destination: r.Destination, Kind: string(r.Output), Chunk: k, Chunks: w.seq,
					Refs: w.refsBySeg[k-1], ContentType: "application/fhir+json",
				})
			}
		case connectors.ReportIndicators:
			n.Outputs = append(n.Outputs, store.NewReportOutput{
				Destination: r.Destination, Kind: string(r.Output), Chunk: 1, Chunks: 1, ContentType: indType, Body: indBody,
			})
		case connectors.ReportPSUDeclaration:
			if psuBody == nil {
				if psuType, psuBody, err = w.figures.PSU(); err != nil {
					return store.NewReportVersion{}, fmt.Errorf("computing the PSU declaration: %w", err)
				}
			}
			if psuBody == nil {
				continue // not a period the PSU declares
			}
			n.Outputs = append(n.Outputs, store.NewReportOutput{
				Destination: r.Destination, Kind: string(r.Output), Chunk: 1, Chunks: 1, ContentType: psuType, Body: psuBody,
			})
		}
	}
	return n, nil
}

// Delivery turns a report output's work into what its connector
// delivers, building a TDDUI chunk from its segment.
func (s *Service) Delivery(rw *store.ReportWork) (*connectors.ReportDelivery, error) {
	period := mapping.Period{Start: mapping.Date(rw.PeriodStart), End: mapping.Date(rw.PeriodEnd)}
	d := &connectors.ReportDelivery{
		Kind: connectors.ReportKind(rw.Kind), ReportID: rw.ReportID, FINESS: rw.FINESS, Period: period,
		Version: rw.Version, Chunk: rw.Chunk, Chunks: rw.Chunks, Replaces: rw.Replaces,
		ContentType: rw.ContentType, Body: rw.Body,
	}
	if rw.Body != nil {
		return d, nil
	}
	part, err := DecodeSegment(rw.Rows, rw.FINESS, period)
	if err != nil {
		return nil, err
	}
	d.ContentType, d.Body, err = s.mapper.TDDUIBundle(part, ChunkRef{ReportID: rw.ReportID, Version: rw.Version, Chunk: rw.Chunk, Chunks: rw.Chunks})
	if err != nil {
		return nil, fmt.Errorf("building TDDUI chunk %d: %w", rw.Chunk, err)
	}
	return d, nil
}
