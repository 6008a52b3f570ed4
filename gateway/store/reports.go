package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"
)

// KindActivityReport is the submission kind of one version of an activity
// report: its deliveries are the report's outputs (relais_report_outputs).
const KindActivityReport = "activity_report"

// ErrSegmentsMissing: a version refers to staged rows that are not all there
// (purged, or never written).
var ErrSegmentsMissing = errors.New("store: the upload's staged rows are missing")

func segmentAAD(uploadID string, seq int) []byte {
	return fmt.Appendf(nil, "report-segment:%s:%d", uploadID, seq)
}

func outputAAD(deliveryID string) []byte { return []byte("report-output:" + deliveryID) }

func indicatorsAAD(reportID string, version int) []byte {
	return fmt.Appendf(nil, "report-indicators:%s:%d", reportID, version)
}

// NewUploadID returns the id that stages an upload's rows.
func NewUploadID() string { return newID("upl") }

// PutReportSegment seals and stores segment seq (from 0) of an upload's
// canonical rows: entries rows, refs when some of them (persons, stays) are
// referred to by rows of later segments. Each segment is its own short
// transaction, so that reading a large upload never holds the writer.
func (s *Store) PutReportSegment(ctx context.Context, uploadID string, seq, entries int, refs bool, data []byte) error {
	keyID, sealed := s.keys.Seal(data, segmentAAD(uploadID, seq))
	if _, err := s.b.exec(ctx, `INSERT INTO relais_report_segments (upload_id, seq, entries, refs, key_id, data, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		uploadID, seq, entries, boolInt(refs), keyID, sealed, micros(s.now())); err != nil {
		return fmt.Errorf("inserting report segment: %w", err)
	}
	return nil
}

// DropReportSegments deletes the staged rows of an upload that was refused.
func (s *Store) DropReportSegments(ctx context.Context, uploadID string) error {
	if _, err := s.b.exec(ctx, `DELETE FROM relais_report_segments WHERE upload_id = $1`, uploadID); err != nil {
		return fmt.Errorf("deleting report segments: %w", err)
	}
	return nil
}

// PurgeReportSegments deletes the staged rows of uploads that no version
// took (interrupted uploads) and that are older than before. It returns the
// number of segments deleted.
func (s *Store) PurgeReportSegments(ctx context.Context, before time.Time) (int64, error) {
	n, err := s.b.exec(ctx, `DELETE FROM relais_report_segments WHERE created_at < $1
AND NOT EXISTS (SELECT 1 FROM relais_report_versions v WHERE v.upload_id = relais_report_segments.upload_id)`, micros(before))
	if err != nil {
		return 0, fmt.Errorf("purging report segments: %w", err)
	}
	return n, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// NewReportOutput is one output of a version to one destination.
type NewReportOutput struct {
	Destination string
	// Kind is tddui_bundle, indicators or psu_declaration.
	Kind string
	// Chunk and Chunks number the chunks, from 1. A tddui_bundle chunk k
	// is built at delivery time from segment k-1 of the upload.
	Chunk, Chunks int
	// Refs: later chunks of this output refer to what this one carries;
	// they wait for it to be delivered.
	Refs        bool
	ContentType string
	// Body is the payload, sealed at rest; nil for a chunk built from its
	// segment at delivery time.
	Body []byte
}

// NewReportVersion is an accepted upload, ready to be persisted.
type NewReportVersion struct {
	TenantID       string
	APIKeyID       string
	IdempotencyKey string
	// RequestHash identifies the upload, to tell a retry from a reuse of
	// its idempotency key.
	RequestHash []byte
	FINESS      string
	// PeriodStart and PeriodEnd are ISO dates, both included.
	PeriodStart, PeriodEnd string
	// UploadID names the staged segments; Segments is how many there are.
	UploadID string
	Segments int
	Partial  bool
	// Categories are the personal data categories the rows carry.
	Categories []string
	// Summary is JSON without personal data: files, counts, problems.
	Summary json.RawMessage
	// Indicators is the establishment's indicator CSV, sealed at rest.
	Indicators []byte
	Outputs    []NewReportOutput
}

// ReportVersion is one stored version of a report.
type ReportVersion struct {
	ReportID     string          `json:"report_id"`
	Version      int             `json:"version"`
	SubmissionID string          `json:"submission_id"`
	Partial      bool            `json:"partial"`
	CreatedAt    time.Time       `json:"created_at"`
	Summary      json.RawMessage `json:"summary"`
	Outputs      []ReportOutput  `json:"outputs"`
}

// ReportOutput is one output of a version and its delivery.
type ReportOutput struct {
	Destination string   `json:"destination"`
	Kind        string   `json:"kind"`
	Chunk       int      `json:"chunk"`
	Chunks      int      `json:"chunks"`
	Delivery    Delivery `json:"delivery"`
}

// Report is an establishment's report over a period, with its versions,
// newest first.
type Report struct {
	ID          string          `json:"id"`
	FINESS      string          `json:"finess"`
	PeriodStart string          `json:"period_start"`
	PeriodEnd   string          `json:"period_end"`
	CreatedAt   time.Time       `json:"created_at"`
	Versions    []ReportVersion `json:"versions"`
}

// ReportDeliveryIdempotencyKey is the key a destination deduplicates a
// report output on: one per report, version, destination, output and
// chunk, whatever the attempt or replay.
func ReportDeliveryIdempotencyKey(reportID string, version int, destination, kind string, chunk int) string {
	return fmt.Sprintf("relais-%s-v%d-%s-%s-%d", reportID, version, destination, kind, chunk)
}

func reportPayloadAAD(submissionID string) []byte { return payloadAAD(submissionID) }

// CreateReportVersion persists an accepted upload as the next version of
// its report (created on the first upload), with one delivery per output
// and their River jobs, in one transaction: when it returns, every output
// will be delivered. A retry with the same idempotency key and request
// hash returns the version it created (replayed = true); with another
// request, ErrIdempotencyConflict.
func (s *Store) CreateReportVersion(ctx context.Context, n NewReportVersion) (v ReportVersion, replayed bool, err error) {
	now := s.now().UTC().Truncate(time.Microsecond)
	var reportID string
	err = s.b.inTx(ctx, func(tx txn) error {
		var (
			existingSub string
			hash        []byte
		)
		err := tx.queryRow(ctx, `SELECT id, request_hash FROM relais_submissions WHERE tenant_id = $1 AND idempotency_key = $2`,
			n.TenantID, n.IdempotencyKey).Scan(&existingSub, &hash)
		switch {
		case err == nil && !bytes.Equal(hash, n.RequestHash):
			return ErrIdempotencyConflict
		case err == nil:
			replayed = true
			return tx.queryRow(ctx, `SELECT report_id, version FROM relais_report_versions WHERE submission_id = $1`, existingSub).
				Scan(&reportID, &v.Version)
		case !errors.Is(err, errNoRows):
			return fmt.Errorf("reading idempotency key: %w", err)
		}
		var segments int
		if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM relais_report_segments WHERE upload_id = $1`, n.UploadID).Scan(&segments); err != nil {
			return fmt.Errorf("counting report segments: %w", err)
		}
		if segments != n.Segments {
			return fmt.Errorf("%w: %d of %d", ErrSegmentsMissing, segments, n.Segments)
		}
		if _, err := tx.exec(ctx, `INSERT INTO relais_reports (id, tenant_id, finess, period_start, period_end, versions, created_at)
VALUES ($1, $2, $3, $4, $5, 0, $6) ON CONFLICT (tenant_id, finess, period_start, period_end) DO NOTHING`,
			newID("rep"), n.TenantID, n.FINESS, n.PeriodStart, n.PeriodEnd, micros(now)); err != nil {
			return fmt.Errorf("inserting report: %w", err)
		}
		// The update takes the report's row lock: concurrent uploads of
		// one report get consecutive versions.
		if err := tx.queryRow(ctx, `UPDATE relais_reports SET versions = versions + 1
WHERE tenant_id = $1 AND finess = $2 AND period_start = $3 AND period_end = $4 RETURNING id, versions`,
			n.TenantID, n.FINESS, n.PeriodStart, n.PeriodEnd).Scan(&reportID, &v.Version); err != nil {
			return fmt.Errorf("numbering report version: %w", err)
		}
		return s.insertReportVersion(ctx, tx, n, reportID, v.Version, now)
	})
	if err != nil {
		return ReportVersion{}, false, err
	}
	v, err = s.reportVersion(ctx, n.TenantID, reportID, v.Version)
	return v, replayed, err
}

func (s *Store) insertReportVersion(ctx context.Context, tx txn, n NewReportVersion, reportID string, version int, now time.Time) error {
	subID := newID("sub")
	payload, _ := json.Marshal(map[string]any{
		"report_id": reportID, "version": version, "finess": n.FINESS,
		"period": map[string]string{"start": n.PeriodStart, "end": n.PeriodEnd},
	})
	keyID, sealed := s.keys.Seal(payload, reportPayloadAAD(subID))
	categories := strings.Join(n.Categories, ",")
	if err := insertRows(ctx, tx, "relais_submissions", submissionInsertColumns, [][]any{{
		subID, n.TenantID, n.APIKeyID, n.IdempotencyKey, n.RequestHash, KindActivityReport, categories, keyID, sealed, nil, int32(0), micros(now),
	}}); err != nil {
		return fmt.Errorf("inserting report submission: %w", err)
	}
	var indKey, indSealed any
	if n.Indicators != nil {
		indKey, indSealed = s.keys.Seal(n.Indicators, indicatorsAAD(reportID, version))
	}
	if _, err := tx.exec(ctx, `INSERT INTO relais_report_versions (report_id, version, submission_id, upload_id, segments, partial, summary, indicators_key_id, indicators, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		reportID, version, subID, n.UploadID, n.Segments, boolInt(n.Partial), string(n.Summary), indKey, indSealed, micros(now)); err != nil {
		return fmt.Errorf("inserting report version: %w", err)
	}
	if len(n.Outputs) == 0 {
		return appendJournal(ctx, tx, JournalEntry{At: now, TenantID: n.TenantID, APIKeyID: n.APIKeyID, Operation: "report.accept",
			SubmissionID: subID, Categories: n.Categories, Outcome: "accepted", Detail: reportDetail(reportID, version)})
	}
	jobs := make([]river.InsertManyParams, len(n.Outputs))
	ids := make([]string, len(n.Outputs))
	for i := range n.Outputs {
		ids[i] = newID("dlv")
		jobs[i] = river.InsertManyParams{Args: DeliverArgs{DeliveryID: ids[i]}}
	}
	jobIDs, err := tx.insertJobs(ctx, jobs)
	if err != nil {
		return fmt.Errorf("inserting delivery jobs: %w", err)
	}
	deliveries := make([][]any, len(n.Outputs))
	outputs := make([][]any, len(n.Outputs))
	destinations := map[string]bool{}
	var names []string
	for i, o := range n.Outputs {
		key := ReportDeliveryIdempotencyKey(reportID, version, o.Destination, o.Kind, o.Chunk)
		deliveries[i] = []any{ids[i], subID, n.TenantID, o.Destination, key, string(StatusQueued), jobIDs[i], micros(now)}
		var bodyKey, body any
		if o.Body != nil {
			bodyKey, body = s.keys.Seal(o.Body, outputAAD(ids[i]))
		}
		outputs[i] = []any{ids[i], reportID, version, o.Destination, o.Kind, o.Chunk, o.Chunks, boolInt(o.Refs), o.ContentType, bodyKey, body}
		if !destinations[o.Destination] {
			destinations[o.Destination] = true
			names = append(names, o.Destination)
		}
	}
	if err := insertRows(ctx, tx, "relais_deliveries", deliveryInsertColumns, deliveries); err != nil {
		return fmt.Errorf("inserting report deliveries: %w", err)
	}
	if err := insertRows(ctx, tx, "relais_report_outputs", reportOutputColumns, outputs); err != nil {
		return fmt.Errorf("inserting report outputs: %w", err)
	}
	return appendJournal(ctx, tx, JournalEntry{At: now, TenantID: n.TenantID, APIKeyID: n.APIKeyID, Operation: "report.accept",
		SubmissionID: subID, Destination: strings.Join(names, ","), Categories: n.Categories, Outcome: "accepted",
		Detail: reportDetail(reportID, version)})
}

func reportDetail(reportID string, version int) string {
	return "report=" + reportID + " version=" + strconv.Itoa(version)
}

var reportOutputColumns = []string{"delivery_id", "report_id", "version", "destination", "kind", "chunk", "chunks", "refs", "content_type", "key_id", "body"}

// FindReport returns the tenant's report of an establishment over a period,
// with its versions, or ErrNotFound.
func (s *Store) FindReport(ctx context.Context, tenantID, finess, periodStart, periodEnd string) (Report, error) {
	return s.scanReport(ctx, tenantID, s.b.queryRow(ctx, `SELECT id, finess, period_start, period_end, created_at FROM relais_reports
WHERE tenant_id = $1 AND finess = $2 AND period_start = $3 AND period_end = $4`, tenantID, finess, periodStart, periodEnd))
}

// GetReport returns a tenant's report with its versions, or ErrNotFound.
func (s *Store) GetReport(ctx context.Context, tenantID, id string) (Report, error) {
	return s.scanReport(ctx, tenantID, s.b.queryRow(ctx, `SELECT id, finess, period_start, period_end, created_at FROM relais_reports
WHERE tenant_id = $1 AND id = $2`, tenantID, id))
}

// ListReports returns a tenant's reports of an establishment, with their
// versions, oldest period first.
func (s *Store) ListReports(ctx context.Context, tenantID, finess string) ([]Report, error) {
	r, err := s.b.query(ctx, `SELECT id FROM relais_reports WHERE tenant_id = $1 AND finess = $2 ORDER BY period_start, period_end`, tenantID, finess)
	if err != nil {
		return nil, fmt.Errorf("listing reports: %w", err)
	}
	var ids []string
	for r.Next() {
		var id string
		if err := r.Scan(&id); err != nil {
			r.Close()
			return nil, fmt.Errorf("reading report: %w", err)
		}
		ids = append(ids, id)
	}
	r.Close()
	if err := r.Err(); err != nil {
		return nil, err
	}
	out := make([]Report, 0, len(ids))
	for _, id := range ids {
		rep, err := s.GetReport(ctx, tenantID, id)
		if err != nil {
			return nil, err
		}
		out = append(out, rep)
	}
	return out, nil
}

func (s *Store) scanReport(ctx context.Context, tenantID string, r row) (Report, error) {
	var (
		rep     Report
		created int64
	)
	err := r.Scan(&rep.ID, &rep.FINESS, &rep.PeriodStart, &rep.PeriodEnd, &created)
	if errors.Is(err, errNoRows) {
		return Report{}, ErrNotFound
	} else if err != nil {
		return Report{}, fmt.Errorf("reading report: %w", err)
	}
	rep.CreatedAt = fromMicros(created)
	rows, err := s.b.query(ctx, `SELECT version FROM relais_report_versions WHERE report_id = $1 ORDER BY version DESC`, rep.ID)
	if err != nil {
		return Report{}, fmt.Errorf("listing report versions: %w", err)
	}
	var versions []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return Report{}, fmt.Errorf("reading report version: %w", err)
		}
		versions = append(versions, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Report{}, err
	}
	rep.Versions = make([]ReportVersion, 0, len(versions))
	for _, v := range versions {
		rv, err := s.reportVersion(ctx, tenantID, rep.ID, v)
		if err != nil {
			return Report{}, err
		}
		rep.Versions = append(rep.Versions, rv)
	}
	return rep, nil
}

// reportVersion reads a version with its outputs and their deliveries.
func (s *Store) reportVersion(ctx context.Context, tenantID, reportID string, version int) (ReportVersion, error) {
	v := ReportVersion{ReportID: reportID, Version: version}
	var (
		partial int
		created int64
		summary string
	)
	err := s.b.queryRow(ctx, `SELECT v.submission_id, v.partial, v.summary, v.created_at FROM relais_report_versions v
JOIN relais_reports r ON r.id = v.report_id WHERE v.report_id = $1 AND v.version = $2 AND r.tenant_id = $3`,
		reportID, version, tenantID).Scan(&v.SubmissionID, &partial, &summary, &created)
	if errors.Is(err, errNoRows) {
		return ReportVersion{}, ErrNotFound
	} else if err != nil {
		return ReportVersion{}, fmt.Errorf("reading report version: %w", err)
	}
	v.Partial, v.CreatedAt, v.Summary = partial != 0, fromMicros(created), json.RawMessage(summary)
	r, err := s.b.query(ctx, `SELECT `+deliveryColumns+`, o.kind, o.chunk, o.chunks`+deliveryFrom+`
JOIN relais_report_outputs o ON o.delivery_id = d.id WHERE o.report_id = $1 AND o.version = $2
ORDER BY o.destination, o.kind, o.chunk`, reportID, version)
	if err != nil {
		return ReportVersion{}, fmt.Errorf("listing report outputs: %w", err)
	}
	defer r.Close()
	v.Outputs = []ReportOutput{}
	for r.Next() {
		var o ReportOutput
		d, err := s.scanDelivery(r, &o.Kind, &o.Chunk, &o.Chunks)
		if err != nil {
			return ReportVersion{}, fmt.Errorf("reading report output: %w", err)
		}
		o.Destination, o.Delivery = d.Destination, d
		v.Outputs = append(v.Outputs, o)
	}
	return v, r.Err()
}

// ReportIndicators returns the indicator CSV of a version of a tenant's
// report; version 0 is the latest. ErrNotFound when there is none.
func (s *Store) ReportIndicators(ctx context.Context, tenantID, reportID string, version int) ([]byte, int, error) {
	var (
		keyID  *string
		sealed []byte
	)
	err := s.b.queryRow(ctx, `SELECT v.version, v.indicators_key_id, v.indicators FROM relais_report_versions v
JOIN relais_reports r ON r.id = v.report_id
WHERE v.report_id = $1 AND r.tenant_id = $2 AND ($3 = 0 OR v.version = $4) ORDER BY v.version DESC LIMIT 1`,
		reportID, tenantID, version, version).Scan(&version, &keyID, &sealed)
	if errors.Is(err, errNoRows) {
		return nil, 0, ErrNotFound
	} else if err != nil {
		return nil, 0, fmt.Errorf("reading report indicators: %w", err)
	}
	if keyID == nil {
		return nil, version, ErrNotFound
	}
	plain, err := s.keys.Open(*keyID, sealed, indicatorsAAD(reportID, version))
	return plain, version, err
}

// ReportWork is what a report output's delivery needs, beyond Work.
type ReportWork struct {
	ReportID string
	Version  int
	FINESS   string
	// PeriodStart and PeriodEnd are ISO dates.
	PeriodStart, PeriodEnd string
	Kind                   string
	Chunk, Chunks          int
	ContentType            string
	// Body is the output's payload; nil for a chunk built from Rows.
	Body []byte
	// Rows is the chunk's segment of canonical rows, as the report
	// service wrote it, for an output built at delivery time.
	Rows []byte
	// Replaces is the receipt's remote id of the same output of the
	// latest earlier version delivered to the destination.
	Replaces string
	// WaitFor is set when the output must not be sent yet: an earlier
	// version of it, or an earlier chunk it refers to, is not delivered
	// yet. The worker puts the job back without an attempt.
	WaitFor string
	// Blocked is set when it can never be sent: an earlier chunk it
	// refers to failed.
	Blocked string
}

// loadReportWork completes w for an output of an activity report.
func (s *Store) loadReportWork(ctx context.Context, w *Work) error {
	d := w.Delivery
	rw := &ReportWork{}
	var (
		uploadID string
		keyID    *string
		sealed   []byte
	)
	err := s.b.queryRow(ctx, `SELECT o.report_id, o.version, o.kind, o.chunk, o.chunks, o.content_type, o.key_id, o.body,
r.finess, r.period_start, r.period_end, v.upload_id
FROM relais_report_outputs o JOIN relais_reports r ON r.id = o.report_id
JOIN relais_report_versions v ON v.report_id = o.report_id AND v.version = o.version
WHERE o.delivery_id = $1`, d.ID).Scan(&rw.ReportID, &rw.Version, &rw.Kind, &rw.Chunk, &rw.Chunks, &rw.ContentType, &keyID, &sealed,
		&rw.FINESS, &rw.PeriodStart, &rw.PeriodEnd, &uploadID)
	if err != nil {
		return fmt.Errorf("reading report output: %w", err)
	}
	w.Report = rw
	// Earlier chunks this one refers to must be delivered first.
	var (
		blockChunk  int
		blockStatus string
	)
	err = s.b.queryRow(ctx, `SELECT o.chunk, d.status FROM relais_report_outputs o JOIN relais_deliveries d ON d.id = o.delivery_id
WHERE o.report_id = $1 AND o.version = $2 AND o.destination = $3 AND o.kind = $4 AND o.chunk < $5 AND o.refs = 1 AND d.status <> 'delivered'
ORDER BY o.chunk LIMIT 1`, rw.ReportID, rw.Version, d.Destination, rw.Kind, rw.Chunk).Scan(&blockChunk, &blockStatus)
	switch {
	case err == nil && DeliveryStatus(blockStatus).Terminal():
		rw.Blocked = fmt.Sprintf("chunk %d, which this one refers to, was not delivered (%s)", blockChunk, blockStatus)
		return nil
	case err == nil:
		rw.WaitFor = fmt.Sprintf("chunk %d is not delivered yet", blockChunk)
		return nil
	case !errors.Is(err, errNoRows):
		return fmt.Errorf("reading earlier chunks: %w", err)
	}
	// The same output of earlier versions: wait for the latest one to end,
	// replace the latest one delivered.
	r, err := s.b.query(ctx, `SELECT o.version, d.status, COALESCE(d.receipt_remote_id, '') FROM relais_report_outputs o
JOIN relais_deliveries d ON d.id = o.delivery_id
WHERE o.report_id = $1 AND o.destination = $2 AND o.kind = $3 AND o.chunk = $4 AND o.version < $5 ORDER BY o.version DESC`,
		rw.ReportID, d.Destination, rw.Kind, rw.Chunk, rw.Version)
	if err != nil {
		return fmt.Errorf("reading earlier versions: %w", err)
	}
	for r.Next() {
		var (
			version        int
			status, remote string
		)
		if err := r.Scan(&version, &status, &remote); err != nil {
			r.Close()
			return fmt.Errorf("reading earlier version: %w", err)
		}
		if !DeliveryStatus(status).Terminal() {
			rw.WaitFor = fmt.Sprintf("version %d of this output is not delivered yet", version)
			break
		}
		if DeliveryStatus(status) == StatusDelivered {
			rw.Replaces = remote
			break
		}
	}
	r.Close()
	if err := r.Err(); err != nil {
		return err
	}
	if rw.WaitFor != "" {
		return nil
	}
	if keyID != nil {
		rw.Body, err = s.keys.Open(*keyID, sealed, outputAAD(d.ID))
		return err
	}
	var segKey string
	err = s.b.queryRow(ctx, `SELECT key_id, data FROM relais_report_segments WHERE upload_id = $1 AND seq = $2`, uploadID, rw.Chunk-1).Scan(&segKey, &sealed)
	if errors.Is(err, errNoRows) {
		return fmt.Errorf("%w: segment %d", ErrSegmentsMissing, rw.Chunk-1)
	} else if err != nil {
		return fmt.Errorf("reading report segment: %w", err)
	}
	rw.Rows, err = s.keys.Open(segKey, sealed, segmentAAD(uploadID, rw.Chunk-1))
	return err
}

// ReportStatus is the latest state of one output kind of a report at one
// destination, for the calendar.
type ReportStatus struct {
	ReportID    string
	Version     int
	PeriodStart string
	PeriodEnd   string
	CreatedAt   time.Time
	Destination string
	Kind        string
	// Deliveries are those of every chunk of the output, in chunk order.
	Deliveries []Delivery
}

// ReportStatuses returns, for each report of a tenant's establishment and
// each output kind and destination, the deliveries of its latest version.
func (s *Store) ReportStatuses(ctx context.Context, tenantID, finess string) ([]ReportStatus, error) {
	r, err := s.b.query(ctx, `SELECT `+deliveryColumns+`, o.report_id, o.version, o.kind, rp.period_start, rp.period_end, v.created_at`+deliveryFrom+`
JOIN relais_report_outputs o ON o.delivery_id = d.id
JOIN relais_reports rp ON rp.id = o.report_id
JOIN relais_report_versions v ON v.report_id = o.report_id AND v.version = o.version
WHERE rp.tenant_id = $1 AND rp.finess = $2 AND o.version = rp.versions
ORDER BY rp.period_start, rp.period_end, o.destination, o.kind, o.chunk`, tenantID, finess)
	if err != nil {
		return nil, fmt.Errorf("listing report statuses: %w", err)
	}
	defer r.Close()
	var out []ReportStatus
	for r.Next() {
		var (
			st      ReportStatus
			created int64
		)
		d, err := s.scanDelivery(r, &st.ReportID, &st.Version, &st.Kind, &st.PeriodStart, &st.PeriodEnd, &created)
		if err != nil {
			return nil, fmt.Errorf("reading report status: %w", err)
		}
		st.CreatedAt, st.Destination = fromMicros(created), d.Destination
		if n := len(out); n > 0 && out[n-1].ReportID == st.ReportID && out[n-1].Destination == st.Destination && out[n-1].Kind == st.Kind {
			out[n-1].Deliveries = append(out[n-1].Deliveries, d)
			continue
		}
		st.Deliveries = []Delivery{d}
		out = append(out, st)
	}
	return out, r.Err()
}

// ReportVersionByKey returns the version a tenant's upload with this
// idempotency key created: ErrNotFound when there is none,
// ErrIdempotencyConflict when the key was used for another request.
func (s *Store) ReportVersionByKey(ctx context.Context, tenantID, key string, requestHash []byte) (ReportVersion, error) {
	var (
		reportID string
		version  int
		hash     []byte
	)
	err := s.b.queryRow(ctx, `SELECT v.report_id, v.version, s.request_hash FROM relais_submissions s
JOIN relais_report_versions v ON v.submission_id = s.id WHERE s.tenant_id = $1 AND s.idempotency_key = $2`,
		tenantID, key).Scan(&reportID, &version, &hash)
	switch {
	case errors.Is(err, errNoRows):
		return ReportVersion{}, ErrNotFound
	case err != nil:
		return ReportVersion{}, fmt.Errorf("reading report version by key: %w", err)
	case !bytes.Equal(hash, requestHash):
		return ReportVersion{}, ErrIdempotencyConflict
	}
	return s.reportVersion(ctx, tenantID, reportID, version)
}
