package api

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json"

	"github.com/relais-dev/relais/gateway/report"
	"github.com/relais-dev/relais/gateway/store"
	"github.com/relais-dev/relais/mapping"
	"github.com/relais-dev/relais/mapping/activitycsv"
)

// CodeReportsNotConfigured is the problem code of the report routes on a
// gateway without activity reports.
const CodeReportsNotConfigured = "reports_not_configured"

// errReportsOff is the logged cause of reportsOff.
var errReportsOff = errors.New("activity reports are not configured (no reports section, api.Deps.Reports is nil)")

func reportsOff() *Error {
	return &Error{Status: http.StatusServiceUnavailable, Code: CodeReportsNotConfigured, Title: "Activity reports are not configured",
		Detail: "This gateway has no activity report service (reports in the configuration).", Err: errReportsOff}
}

// establishmentOf reads ?establishment= and checks that the caller's
// tenant is that establishment. For JSON the body may give it instead.
func (s *Server) establishmentOf(r *http.Request, fallback string) (string, error) {
	finess := r.URL.Query().Get("establishment")
	if finess == "" {
		finess = fallback
	}
	if finess == "" {
		return "", &Error{Status: http.StatusBadRequest, Code: "establishment_required", Title: "Establishment required", Field: "establishment",
			Detail: "Give the establishment's FINESS number: ?establishment=..."}
	}
	if !mapping.ValidFINESS(finess) {
		return "", &Error{Status: http.StatusBadRequest, Code: "invalid_establishment", Title: "Invalid establishment", Field: "establishment",
			Detail: "The establishment must be a 9-digit FINESS number with a valid key."}
	}
	t, err := s.deps.Store.TenantByID(r.Context(), principal(r.Context()).TenantID)
	if err != nil {
		return "", fmt.Errorf("reading tenant: %w", err)
	}
	if t.FINESS != finess {
		return "", &Error{Status: http.StatusForbidden, Code: "establishment_not_owned", Title: "Not your establishment", Field: "establishment",
			Detail: "Your tenant may report only for its own establishment (the FINESS number registered with it)."}
	}
	return finess, nil
}

// parsePeriod reads a period: a year (2024), a month (2024-03), or two ISO
// dates "2024-01-01/2024-06-30".
func parsePeriod(v string) (mapping.Period, bool) {
	if start, end, ok := strings.Cut(v, "/"); ok {
		p := mapping.Period{Start: mapping.Date(start), End: mapping.Date(end)}
		if !p.Start.Valid() || !p.End.Valid() || p.End < p.Start || len(start) != 10 || len(end) != 10 {
			return mapping.Period{}, false
		}
		return p, true
	}
	if t, err := time.Parse("2006", v); err == nil && len(v) == 4 {
		return mapping.Period{Start: mapping.Date(v + "-01-01"), End: mapping.Date(v + "-12-31")}, t.Year() > 1900
	}
	if t, err := time.Parse("2006-01", v); err == nil && len(v) == 7 {
		last := t.AddDate(0, 1, -1)
		return mapping.Period{Start: mapping.Date(t.Format(time.DateOnly)), End: mapping.Date(last.Format(time.DateOnly))}, t.Year() > 1900
	}
	return mapping.Period{}, false
}

func invalidPeriod() *Error {
	return &Error{Status: http.StatusBadRequest, Code: "invalid_period", Title: "Invalid period", Field: "period",
		Detail: "The period is a year (2024), a month (2024-03) or two dates: 2024-01-01/2024-06-30."}
}

func periodParam(r *http.Request, required bool) (mapping.Period, bool, error) {
	v := r.URL.Query().Get("period")
	if v == "" {
		if required {
			return mapping.Period{}, false, &Error{Status: http.StatusBadRequest, Code: "period_required", Title: "Period required", Field: "period",
				Detail: "Give the report's period: ?period=2024, ?period=2024-03 or ?period=2024-01-01/2024-06-30."}
		}
		return mapping.Period{}, false, nil
	}
	p, ok := parsePeriod(v)
	if !ok {
		return mapping.Period{}, false, invalidPeriod()
	}
	return p, true, nil
}

// reportProblem is the 422 answer to an invalid upload: the problem
// document with the upload's problems.
type reportProblem struct {
	problem
	Problems      []report.Problem         `json:"problems"`
	TotalProblems int                      `json:"total_problems"`
	Files         []activitycsv.FileResult `json:"files,omitempty"`
}

// spooled is one uploaded file, on disk while it is read.
type spooled struct {
	files []*os.File
	names []string
	sizes []int64
}

func (sp *spooled) close() {
	for _, f := range sp.files {
		_ = f.Close()
		_ = os.Remove(f.Name())
	}
}

func (sp *spooled) inputs() []activitycsv.Input {
	in := make([]activitycsv.Input, len(sp.files))
	for i, f := range sp.files {
		in[i] = activitycsv.Input{Name: sp.names[i], R: f, Size: sp.sizes[i]}
	}
	return in
}

// spool copies one file to disk (activitycsv reads its files more than
// once, and a zip needs a ReaderAt), hashing it into h, within budget.
func (sp *spooled) spool(dir, name string, r io.Reader, h io.Writer, budget *int64) error {
	f, err := os.CreateTemp(dir, "relais-upload-*")
	if err != nil {
		return fmt.Errorf("creating spool file: %w", err)
	}
	sp.files, sp.names, sp.sizes = append(sp.files, f), append(sp.names, name), append(sp.sizes, 0)
	fh := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, fh), io.LimitReader(r, *budget+1))
	if err != nil {
		return malformedMultipart("The upload cannot be read: " + err.Error() + ".")
	}
	if n > *budget {
		return &Error{Status: http.StatusRequestEntityTooLarge, Code: "upload_too_large", Title: "Upload too large",
			Detail: "The files of one upload must be at most " + strconv.FormatInt(*budget, 10) + " bytes together."}
	}
	*budget -= n
	sp.sizes[len(sp.sizes)-1] = n
	fmt.Fprintf(h, "file\x00%s\x00%d\x00%x\x00", name, n, fh.Sum(nil))
	return nil
}

func (s *Server) createReport(w http.ResponseWriter, r *http.Request) error {
	key := principal(r.Context())
	idemKey := r.Header.Get("Idempotency-Key")
	if idemKey != "" {
		if err := checkIdempotencyKey(idemKey); err != nil {
			return err
		}
	}
	partial := false
	if v := r.URL.Query().Get("partial"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return &Error{Status: http.StatusBadRequest, Code: "invalid_partial", Title: "Invalid partial", Field: "partial",
				Detail: "partial is true or false."}
		}
		partial = b
	}
	cfg := s.deps.Reports.Config()
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	u := report.Upload{TenantID: key.TenantID, APIKeyID: key.ID, IdempotencyKey: idemKey, Partial: partial}
	h := sha256.New()
	sp := &spooled{}
	defer sp.close()
	switch {
	case mt == "application/json":
		lr := &limitedReader{r: io.TeeReader(r.Body, h), n: cfg.MaxJSONBytes, limit: cfg.MaxJSONBytes, blank: true}
		var rep *mapping.ActivityReport
		if err := json.UnmarshalRead(lr, &rep, json.RejectUnknownMembers(true)); err != nil {
			return decodeError(err, lr)
		}
		if rep == nil {
			return &Error{Status: http.StatusBadRequest, Code: "invalid_type", Title: "Wrong type", Field: "(body)", Detail: "The body must be a JSON object, not null."}
		}
		u.Report = rep
		if q := r.URL.Query().Get("period"); q != "" {
			p, ok := parsePeriod(q)
			if !ok || p != rep.Period {
				return &Error{Status: http.StatusBadRequest, Code: "period_mismatch", Title: "Period mismatch", Field: "period",
					Detail: "The period of the URL and of the body differ; give it once, in the body."}
			}
		}
		if !mapping.ValidFINESS(rep.FINESS) && r.URL.Query().Get("establishment") == "" {
			return &Error{Status: http.StatusBadRequest, Code: "invalid_establishment", Title: "Invalid establishment", Field: "finess",
				Detail: "The report's finess must be a 9-digit FINESS number with a valid key."}
		}
		finess, err := s.establishmentOf(r, rep.FINESS)
		if err != nil {
			return err
		}
		if finess != rep.FINESS {
			return &Error{Status: http.StatusBadRequest, Code: "establishment_mismatch", Title: "Establishment mismatch", Field: "finess",
				Detail: "The establishment of the URL and the report's finess differ."}
		}
		u.FINESS, u.Period = finess, rep.Period
	case mt == "multipart/form-data" && params["boundary"] != "", mt == "text/csv", mt == "application/zip", mt == "application/x-zip-compressed":
		finess, err := s.establishmentOf(r, "")
		if err != nil {
			return err
		}
		period, _, err := periodParam(r, true)
		if err != nil {
			return err
		}
		u.FINESS, u.Period = finess, period
		budget := cfg.MaxUploadBytes
		if mt == "multipart/form-data" {
			if err := s.spoolMultipart(r.Body, params["boundary"], cfg.SpoolDir, sp, h, &budget); err != nil {
				return err
			}
		} else {
			name := "upload.csv"
			if strings.Contains(mt, "zip") {
				name = "upload.zip"
			}
			if _, dp, err := mime.ParseMediaType(r.Header.Get("Content-Disposition")); err == nil && dp["filename"] != "" {
				name = filepath.Base(dp["filename"])
			}
			if err := sp.spool(cfg.SpoolDir, name, r.Body, h, &budget); err != nil {
				return err
			}
		}
		u.Files = sp.inputs()
	default:
		return &Error{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type", Title: "Unsupported media type",
			Detail: "Send the files as multipart/form-data (one part per file), one text/csv or application/zip body, or the canonical report as application/json."}
	}
	fmt.Fprintf(h, "report\x00%s\x00%s\x00%s\x00%t", u.FINESS, u.Period.Start, u.Period.End, u.Partial)
	u.RequestHash = h.Sum(nil)

	out, err := s.deps.Reports.Accept(r.Context(), u)
	if errors.Is(err, store.ErrIdempotencyConflict) {
		return &Error{Status: http.StatusUnprocessableEntity, Code: "idempotency_key_reused", Title: "Idempotency-Key reused",
			Field: "Idempotency-Key", Detail: "This Idempotency-Key was already used with a different upload."}
	} else if err != nil {
		return fmt.Errorf("accepting report: %w", err)
	}
	if !out.Accepted {
		s.writeReportProblem(w, r, out.Summary)
		return nil
	}
	if out.Replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	v := viewOfVersion(out.Version)
	w.Header().Set("Location", v.Href)
	writeJSON(w, http.StatusAccepted, "application/json", v)
	return nil
}

func (s *Server) spoolMultipart(body io.Reader, boundary, dir string, sp *spooled, h io.Writer, budget *int64) error {
	mr := multipart.NewReader(body, boundary)
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return malformedMultipart("The multipart body cannot be read: " + err.Error() + ".")
		}
		name := part.FileName()
		if name == "" {
			_ = part.Close()
			return malformedMultipart(`Every part must be a file, with a filename (Content-Disposition: form-data; name="files"; filename="usagers.csv").`)
		}
		if len(sp.files) >= 32 {
			return malformedMultipart("An upload holds at most 32 files.")
		}
		if err := sp.spool(dir, filepath.Base(name), part, h, budget); err != nil {
			return err
		}
	}
	if len(sp.files) == 0 {
		return &Error{Status: http.StatusBadRequest, Code: "no_files", Title: "No files",
			Detail: "Send at least one file: usagers.csv, sejours.csv, evenements.csv, presences.csv, or a zip of them."}
	}
	return nil
}

func (s *Server) writeReportProblem(w http.ResponseWriter, r *http.Request, sum report.Summary) {
	p := reportProblem{
		problem: problem{
			Type: problemType("report_invalid"), Title: "Invalid report", Status: http.StatusUnprocessableEntity, Code: "report_invalid",
			Detail:   fmt.Sprintf("%d problem(s) were found; nothing was kept nor delivered. Fix them, or send partial=true to keep the valid rows.", sum.TotalProblems),
			Instance: r.URL.Path, RequestID: requestID(r.Context()),
		},
		Problems: sum.Problems, TotalProblems: sum.TotalProblems, Files: sum.Files,
	}
	if p.Problems == nil {
		p.Problems = []report.Problem{}
	}
	// Messages quote no personal value, but the list stays out of the logs.
	s.logger.LogAttrs(r.Context(), slog.LevelDebug, "request failed", slog.String("request_id", p.RequestID),
		slog.String("code", p.Code), slog.Int("status", p.Status), slog.Int("problems", sum.TotalProblems))
	writeJSON(w, http.StatusUnprocessableEntity, "application/problem+json", p)
}

// ---- Views ----------------------------------------------------------------

type outputView struct {
	Destination string         `json:"destination"`
	Kind        string         `json:"kind"`
	Chunk       int            `json:"chunk"`
	Chunks      int            `json:"chunks"`
	DeliveryID  string         `json:"delivery_id"`
	Href        string         `json:"href"`
	Status      string         `json:"status"`
	Receipt     *store.Receipt `json:"receipt,omitempty"`
}

// destinationView sums a version's outputs at one destination.
type destinationView struct {
	Destination string `json:"destination"`
	Kind        string `json:"kind"`
	// Status is delivered (every chunk), failed (one failed or is dead), or
	// pending.
	Status    string `json:"status"`
	Chunks    int    `json:"chunks"`
	Delivered int    `json:"delivered"`
}

type versionView struct {
	ReportID     string            `json:"report_id"`
	Version      int               `json:"version"`
	Href         string            `json:"href"`
	SubmissionID string            `json:"submission_id"`
	Partial      bool              `json:"partial"`
	CreatedAt    time.Time         `json:"created_at"`
	Summary      jsonRaw           `json:"summary"`
	Destinations []destinationView `json:"destinations"`
	Outputs      []outputView      `json:"outputs"`
}

// jsonRaw embeds stored JSON as is.
type jsonRaw []byte

func (j jsonRaw) MarshalJSON() ([]byte, error) {
	if len(j) == 0 {
		return []byte("{}"), nil
	}
	return j, nil
}

func viewOfVersion(v store.ReportVersion) versionView {
	out := versionView{
		ReportID: v.ReportID, Version: v.Version, Href: "/v1/reports/" + v.ReportID, SubmissionID: v.SubmissionID,
		Partial: v.Partial, CreatedAt: v.CreatedAt, Summary: jsonRaw(v.Summary),
		Destinations: []destinationView{}, Outputs: []outputView{},
	}
	for _, o := range v.Outputs {
		out.Outputs = append(out.Outputs, outputView{
			Destination: o.Destination, Kind: o.Kind, Chunk: o.Chunk, Chunks: o.Chunks, DeliveryID: o.Delivery.ID,
			Href: "/v1/deliveries/" + o.Delivery.ID, Status: string(o.Delivery.Status), Receipt: o.Delivery.Receipt,
		})
		n := len(out.Destinations)
		if n == 0 || out.Destinations[n-1].Destination != o.Destination || out.Destinations[n-1].Kind != o.Kind {
			out.Destinations = append(out.Destinations, destinationView{Destination: o.Destination, Kind: o.Kind, Status: "delivered"})
			n++
		}
		d := &out.Destinations[n-1]
		d.Chunks++
		switch o.Delivery.Status {
		case store.StatusDelivered:
			d.Delivered++
		case store.StatusFailed, store.StatusDead:
			d.Status = "failed"
		default:
			if d.Status != "failed" {
				d.Status = "pending"
			}
		}
	}
	return out
}

type reportView struct {
	ID          string        `json:"id"`
	FINESS      string        `json:"establishment"`
	PeriodStart string        `json:"period_start"`
	PeriodEnd   string        `json:"period_end"`
	CreatedAt   time.Time     `json:"created_at"`
	Versions    []versionView `json:"versions"`
}

func reportViewOf(rep store.Report) reportView {
	v := reportView{ID: rep.ID, FINESS: rep.FINESS, PeriodStart: rep.PeriodStart, PeriodEnd: rep.PeriodEnd, CreatedAt: rep.CreatedAt, Versions: []versionView{}}
	for _, rv := range rep.Versions {
		v.Versions = append(v.Versions, viewOfVersion(rv))
	}
	return v
}

func (s *Server) listReports(w http.ResponseWriter, r *http.Request) error {
	finess, err := s.establishmentOf(r, "")
	if err != nil {
		return err
	}
	period, ok, err := periodParam(r, false)
	if err != nil {
		return err
	}
	tenant := principal(r.Context()).TenantID
	reports := []reportView{}
	if ok {
		rep, err := s.deps.Reports.Find(r.Context(), tenant, finess, period)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return fmt.Errorf("finding report: %w", err)
		default:
			reports = append(reports, reportViewOf(rep))
		}
	} else {
		all, err := s.deps.Reports.List(r.Context(), tenant, finess)
		if err != nil {
			return fmt.Errorf("listing reports: %w", err)
		}
		for _, rep := range all {
			reports = append(reports, reportViewOf(rep))
		}
	}
	writeJSON(w, http.StatusOK, "application/json", map[string]any{"reports": reports})
	return nil
}

func (s *Server) getReport(w http.ResponseWriter, r *http.Request) error {
	rep, err := s.deps.Reports.Get(r.Context(), principal(r.Context()).TenantID, r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		return notFound("report")
	} else if err != nil {
		return fmt.Errorf("reading report: %w", err)
	}
	writeJSON(w, http.StatusOK, "application/json", reportViewOf(rep))
	return nil
}

func (s *Server) reportIndicatorsCSV(w http.ResponseWriter, r *http.Request) error {
	version := 0
	if v := r.URL.Query().Get("version"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return &Error{Status: http.StatusBadRequest, Code: "invalid_version", Title: "Invalid version", Field: "version",
				Detail: "version is a version number, from 1."}
		}
		version = n
	}
	id := r.PathValue("id")
	body, version, err := s.deps.Reports.IndicatorsCSV(r.Context(), principal(r.Context()).TenantID, id, version)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("report (or version)")
	} else if err != nil {
		return fmt.Errorf("reading indicators: %w", err)
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="indicateurs-%s-v%d.csv"`, id, version))
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
	return nil
}

func (s *Server) reportCalendar(w http.ResponseWriter, r *http.Request) error {
	finess, err := s.establishmentOf(r, "")
	if err != nil {
		return err
	}
	year := 0
	if v := r.URL.Query().Get("year"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 2000 || n > 2100 {
			return &Error{Status: http.StatusBadRequest, Code: "invalid_year", Title: "Invalid year", Field: "year", Detail: "year is between 2000 and 2100."}
		}
		year = n
	}
	items, err := s.deps.Reports.Calendar(r.Context(), principal(r.Context()).TenantID, finess, year)
	if err != nil {
		return fmt.Errorf("listing the calendar: %w", err)
	}
	writeJSON(w, http.StatusOK, "application/json", map[string]any{"establishment": finess, "items": items})
	return nil
}
