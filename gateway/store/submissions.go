package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/riverqueue/river"
)

// NewSubmission is what the API accepted, ready to be persisted.
type NewSubmission struct {
	TenantID       string
	APIKeyID       string
	IdempotencyKey string
	// RequestHash identifies the request body, to tell a retry of the same
	// request from a reuse of its key.
	RequestHash []byte
	// Kind is the payload kind, e.g. "document_deposit".
	Kind string
	// Categories are the personal data categories the payload carries.
	Categories []string
	// Payload is the canonical payload, JSON; it is sealed before storage.
	Payload []byte
	// Content is the document content, if any, in chunks of at most
	// ChunkSize; each chunk is sealed before storage. CreateSubmission takes
	// ownership: it drops each plain chunk once sealed.
	Content      [][]byte
	Destinations []string
}

// Submission is a stored submission with its deliveries.
type Submission struct {
	ID             string     `json:"id"`
	TenantID       string     `json:"-"`
	APIKeyID       string     `json:"-"`
	IdempotencyKey string     `json:"idempotency_key"`
	Kind           string     `json:"kind"`
	Categories     []string   `json:"categories"`
	CreatedAt      time.Time  `json:"created_at"`
	Deliveries     []Delivery `json:"deliveries"`
	blobID         string
	requestHash    []byte
}

// Receipt is a platform's acknowledgement of a delivery.
type Receipt struct {
	RemoteID string    `json:"remote_id"`
	At       time.Time `json:"at"`
}

// Delivery is one submission's journey to one destination.
type Delivery struct {
	ID             string         `json:"id"`
	SubmissionID   string         `json:"submission_id"`
	TenantID       string         `json:"-"`
	Destination    string         `json:"destination"`
	IdempotencyKey string         `json:"idempotency_key"`
	Status         DeliveryStatus `json:"status"`
	Attempts       int            `json:"attempts"`
	NextAttemptAt  *time.Time     `json:"next_attempt_at,omitempty"`
	// LastError is the last failure as a problem document (JSON), with the
	// platform's own error body inside.
	LastError json.RawMessage `json:"last_error,omitempty"`
	Receipt   *Receipt        `json:"receipt,omitempty"`
	UpdatedAt time.Time       `json:"updated_at"`
	JobID     int64           `json:"-"`
}

func payloadAAD(submissionID string) []byte { return []byte("payload:" + submissionID) }

func errorAAD(deliveryID string) []byte { return []byte("error:" + deliveryID) }

// DeliveryIdempotencyKey is the stable key a destination deduplicates a
// delivery on. It never changes across attempts and replays.
func DeliveryIdempotencyKey(deliveryID string) string { return "relais-" + deliveryID }

// CreateSubmission persists a submission, its sealed payload and content,
// one delivery per destination and their River jobs, in one transaction,
// and returns once that transaction has committed. Concurrent calls are
// committed together (group commit): one transaction for all that arrive
// while the previous one commits. When the tenant already used the
// idempotency key with the same request, it returns the stored submission
// and replayed = true; with another request, ErrIdempotencyConflict.
func (s *Store) CreateSubmission(ctx context.Context, n NewSubmission) (sub Submission, replayed bool, err error) {
	p := s.prepareSubmission(n)
	err = s.submissions.submit(ctx, p)
	if err == nil {
		return p.sub, false, nil
	}
	if !errors.Is(err, errKeyTaken) {
		return Submission{}, false, err
	}
	existing, err := s.FindSubmission(ctx, n.TenantID, n.IdempotencyKey, n.RequestHash)
	if err != nil {
		return Submission{}, false, err
	}
	return existing, true, nil
}

// pendingSubmission is a submission sealed and ready to insert.
type pendingSubmission struct {
	n             NewSubmission
	sub           Submission
	keyID         string
	sealedPayload []byte
	chunkKeys     []string
	sealedChunks  [][]byte
}

// errKeyTaken: the submission was not inserted, its idempotency key being
// taken already.
var errKeyTaken = errors.New("store: idempotency key taken")

func (p *pendingSubmission) size() int {
	n := len(p.sealedPayload)
	for _, c := range p.sealedChunks {
		n += len(c)
	}
	return n
}

// prepareSubmission does the work that needs no database: ids and sealing.
func (s *Store) prepareSubmission(n NewSubmission) *pendingSubmission {
	now := s.now().UTC().Truncate(time.Microsecond)
	p := &pendingSubmission{n: n}
	p.sub = Submission{
		ID: newID("sub"), TenantID: n.TenantID, APIKeyID: n.APIKeyID, IdempotencyKey: n.IdempotencyKey,
		Kind: n.Kind, Categories: n.Categories, CreatedAt: now,
	}
	p.keyID, p.sealedPayload = s.keys.Seal(n.Payload, payloadAAD(p.sub.ID))
	if len(n.Content) > 0 {
		p.sub.blobID = newID("blob")
		for i, chunk := range n.Content {
			k, sealed := s.keys.Seal(chunk, chunkAAD(p.sub.blobID, i))
			p.chunkKeys, p.sealedChunks = append(p.chunkKeys, k), append(p.sealedChunks, sealed)
			// Let the plain chunk go as soon as it is sealed, so the
			// content is not held twice.
			n.Content[i] = nil
		}
	}
	p.sub.Deliveries = make([]Delivery, len(n.Destinations))
	for i, dest := range n.Destinations {
		id := newID("dlv")
		p.sub.Deliveries[i] = Delivery{
			ID: id, SubmissionID: p.sub.ID, TenantID: p.sub.TenantID, Destination: dest,
			IdempotencyKey: DeliveryIdempotencyKey(id), Status: StatusQueued, UpdatedAt: now,
		}
	}
	return p
}

var (
	submissionInsertColumns = []string{"id", "tenant_id", "api_key_id", "idempotency_key", "request_hash", "kind", "categories", "payload_key_id", "payload", "blob_id", "blob_chunks", "created_at"}
	chunkColumns            = []string{"blob_id", "seq", "key_id", "data"}
	deliveryInsertColumns   = []string{"id", "submission_id", "tenant_id", "destination", "idempotency_key", "status", "job_id", "updated_at"}
	journalInsertColumns    = []string{"at", "tenant_id", "api_key_id", "operation", "submission_id", "delivery_id", "destination", "categories", "outcome", "detail"}
)

func journalRow(e JournalEntry) []any {
	return []any{micros(e.At), e.TenantID, e.APIKeyID, e.Operation, e.SubmissionID, e.DeliveryID, e.Destination,
		strings.Join(e.Categories, ","), e.Outcome, e.Detail}
}

// insertSubmissions writes a batch of submissions in tx; those whose
// idempotency key is taken get errKeyTaken.
func (s *Store) insertSubmissions(ctx context.Context, tx txn, batch []*pendingSubmission) ([]error, error) {
	rows := make([][]any, len(batch))
	for i, p := range batch {
		var blobID *string
		if p.sub.blobID != "" {
			blobID = &p.sub.blobID
		}
		rows[i] = []any{p.sub.ID, p.sub.TenantID, p.sub.APIKeyID, p.sub.IdempotencyKey, p.n.RequestHash, p.sub.Kind,
			strings.Join(p.sub.Categories, ","), p.keyID, p.sealedPayload, blobID, int32(len(p.sealedChunks)), micros(p.sub.CreatedAt)}
	}
	insertedIDs, err := insertIgnoringConflicts(ctx, tx, "relais_submissions", submissionInsertColumns, "tenant_id, idempotency_key", rows)
	if err != nil {
		return nil, fmt.Errorf("inserting submissions: %w", err)
	}
	inserted := make([]bool, len(batch))
	results := make([]error, len(batch))
	var (
		chunks, deliveries, journal [][]any
		jobs                        []river.InsertManyParams
	)
	for i, p := range batch {
		if !insertedIDs[p.sub.ID] {
			results[i] = errKeyTaken
			continue
		}
		inserted[i] = true
		for seq := range p.sealedChunks {
			chunks = append(chunks, []any{p.sub.blobID, int32(seq), p.chunkKeys[seq], p.sealedChunks[seq]})
		}
		for _, d := range p.sub.Deliveries {
			jobs = append(jobs, river.InsertManyParams{Args: DeliverArgs{DeliveryID: d.ID}})
		}
		journal = append(journal, journalRow(JournalEntry{
			At: p.sub.CreatedAt, TenantID: p.sub.TenantID, APIKeyID: p.sub.APIKeyID, Operation: "submission.accept",
			SubmissionID: p.sub.ID, Destination: strings.Join(p.n.Destinations, ","), Categories: p.sub.Categories, Outcome: "accepted",
		}))
	}
	if len(jobs) == 0 {
		return results, nil
	}
	jobIDs, err := tx.insertJobs(ctx, jobs)
	if err != nil {
		return nil, fmt.Errorf("inserting delivery jobs: %w", err)
	}
	j := 0
	for i, p := range batch {
		if !inserted[i] {
			continue
		}
		for k := range p.sub.Deliveries {
			d := &p.sub.Deliveries[k]
			d.JobID = jobIDs[j]
			j++
			deliveries = append(deliveries, []any{d.ID, d.SubmissionID, d.TenantID, d.Destination, d.IdempotencyKey, string(d.Status), d.JobID, micros(d.UpdatedAt)})
		}
	}
	for _, c := range []struct {
		table   string
		columns []string
		rows    [][]any
	}{
		{"relais_blob_chunks", chunkColumns, chunks},
		{"relais_deliveries", deliveryInsertColumns, deliveries},
		{"relais_journal", journalInsertColumns, journal},
	} {
		if len(c.rows) == 0 {
			continue
		}
		if err := insertRows(ctx, tx, c.table, c.columns, c.rows); err != nil {
			return nil, fmt.Errorf("inserting into %s: %w", c.table, err)
		}
	}
	return results, nil
}

const submissionColumns = `id, tenant_id, api_key_id, idempotency_key, request_hash, kind, categories, COALESCE(blob_id, ''), created_at`

func (s *Store) scanSubmission(ctx context.Context, r row) (Submission, error) {
	var (
		sub        Submission
		categories string
		created    int64
	)
	err := r.Scan(&sub.ID, &sub.TenantID, &sub.APIKeyID, &sub.IdempotencyKey, &sub.requestHash, &sub.Kind, &categories, &sub.blobID, &created)
	if errors.Is(err, errNoRows) {
		return Submission{}, ErrNotFound
	} else if err != nil {
		return Submission{}, fmt.Errorf("reading submission: %w", err)
	}
	sub.CreatedAt = fromMicros(created)
	if categories != "" {
		sub.Categories = strings.Split(categories, ",")
	}
	sub.Deliveries, err = s.listDeliveries(ctx, sub.ID)
	return sub, err
}

func (s *Store) submissionByKey(ctx context.Context, tenantID, key string) (Submission, error) {
	return s.scanSubmission(ctx, s.b.queryRow(ctx, `SELECT `+submissionColumns+` FROM relais_submissions WHERE tenant_id = $1 AND idempotency_key = $2`, tenantID, key))
}

// FindSubmission returns the tenant's submission made with idempotencyKey,
// ErrNotFound when there is none, ErrIdempotencyConflict when it was made
// with another request.
func (s *Store) FindSubmission(ctx context.Context, tenantID, idempotencyKey string, requestHash []byte) (Submission, error) {
	sub, err := s.submissionByKey(ctx, tenantID, idempotencyKey)
	if err != nil {
		return Submission{}, err
	}
	if !bytes.Equal(sub.requestHash, requestHash) {
		return Submission{}, ErrIdempotencyConflict
	}
	return sub, nil
}

// GetSubmission returns a tenant's submission with its deliveries. Another
// tenant's submission is ErrNotFound.
func (s *Store) GetSubmission(ctx context.Context, tenantID, id string) (Submission, error) {
	return s.scanSubmission(ctx, s.b.queryRow(ctx, `SELECT `+submissionColumns+` FROM relais_submissions WHERE id = $1 AND tenant_id = $2`, id, tenantID))
}

// The delivery's status is stored; "in_flight" is derived from River: the
// job is running right now.
const deliveryColumns = `d.id, d.submission_id, d.tenant_id, d.destination, d.idempotency_key,
CASE WHEN j.state = 'running' AND d.status IN ('queued', 'retrying') THEN 'in_flight' ELSE d.status END,
d.attempts, d.next_attempt_at, COALESCE(d.job_id, 0), COALESCE(d.error_key_id, ''), d.last_error, d.receipt_remote_id, d.receipt_at, d.updated_at`

const deliveryFrom = ` FROM relais_deliveries d LEFT JOIN river_job j ON j.id = d.job_id `

func (s *Store) scanDelivery(r row, extra ...any) (Delivery, error) {
	var (
		d               Delivery
		next, receiptAt *int64
		errKeyID        string
		sealedErr       []byte
		receiptID       *string
		updated         int64
		status          string
	)
	dest := append([]any{&d.ID, &d.SubmissionID, &d.TenantID, &d.Destination, &d.IdempotencyKey, &status,
		&d.Attempts, &next, &d.JobID, &errKeyID, &sealedErr, &receiptID, &receiptAt, &updated}, extra...)
	if err := r.Scan(dest...); err != nil {
		return Delivery{}, err
	}
	d.Status = DeliveryStatus(status)
	d.UpdatedAt = fromMicros(updated)
	if next != nil && !d.Status.Terminal() {
		t := fromMicros(*next)
		d.NextAttemptAt = &t
	}
	if len(sealedErr) > 0 {
		plain, err := s.keys.Open(errKeyID, sealedErr, errorAAD(d.ID))
		if err != nil {
			return Delivery{}, err
		}
		d.LastError = plain
	}
	if receiptID != nil && receiptAt != nil {
		d.Receipt = &Receipt{RemoteID: *receiptID, At: fromMicros(*receiptAt)}
	}
	return d, nil
}

func (s *Store) listDeliveries(ctx context.Context, submissionID string) ([]Delivery, error) {
	r, err := s.b.query(ctx, `SELECT `+deliveryColumns+deliveryFrom+`WHERE d.submission_id = $1 ORDER BY d.destination, d.id`, submissionID)
	if err != nil {
		return nil, fmt.Errorf("listing deliveries: %w", err)
	}
	defer r.Close()
	var out []Delivery
	for r.Next() {
		d, err := s.scanDelivery(r)
		if err != nil {
			return nil, fmt.Errorf("reading delivery: %w", err)
		}
		out = append(out, d)
	}
	return out, r.Err()
}

// GetDelivery returns a tenant's delivery.
func (s *Store) GetDelivery(ctx context.Context, tenantID, id string) (Delivery, error) {
	d, err := s.scanDelivery(s.b.queryRow(ctx, `SELECT `+deliveryColumns+deliveryFrom+`WHERE d.id = $1 AND d.tenant_id = $2`, id, tenantID))
	if errors.Is(err, errNoRows) {
		return Delivery{}, ErrNotFound
	} else if err != nil {
		return Delivery{}, fmt.Errorf("reading delivery: %w", err)
	}
	return d, nil
}

// Work is what a delivery job needs: the delivery, its submission's
// opened payload and a way to stream its content.
type Work struct {
	Delivery   Delivery
	APIKeyID   string
	Kind       string
	Categories []string
	Payload    []byte
	// BlobID names the content, empty when there is none; read it with
	// OpenContent.
	BlobID string
	// Report is set for an output of an activity report
	// (Kind KindActivityReport).
	Report *ReportWork
	// chunks is the number of content chunks; first is the first one,
	// sealed, read along with the delivery.
	chunks   int
	firstKey string
	first    []byte
}

// LoadWork reads, in one query, what delivery job jobID needs, the first
// content chunk included. It returns ErrStaleJob when the delivery no
// longer waits for that job (it was replayed, or is done).
func (s *Store) LoadWork(ctx context.Context, deliveryID string, jobID int64) (Work, error) {
	var (
		w          Work
		keyID      string
		sealed     []byte
		categories string
		firstKey   *string
	)
	d, err := s.scanDelivery(s.b.queryRow(ctx, `SELECT `+deliveryColumns+`,
s.api_key_id, s.kind, s.categories, s.payload_key_id, s.payload, COALESCE(s.blob_id, ''), s.blob_chunks, c.key_id, c.data`+deliveryFrom+`
JOIN relais_submissions s ON s.id = d.submission_id
LEFT JOIN relais_blob_chunks c ON c.blob_id = s.blob_id AND c.seq = 0
WHERE d.id = $1`, deliveryID), &w.APIKeyID, &w.Kind, &categories, &keyID, &sealed, &w.BlobID, &w.chunks, &firstKey, &w.first)
	if errors.Is(err, errNoRows) {
		return Work{}, ErrNotFound
	} else if err != nil {
		return Work{}, fmt.Errorf("reading delivery work: %w", err)
	}
	if d.JobID != jobID || d.Status.Terminal() {
		return Work{}, ErrStaleJob
	}
	w.Delivery = d
	if firstKey != nil {
		w.firstKey = *firstKey
	}
	if categories != "" {
		w.Categories = strings.Split(categories, ",")
	}
	w.Payload, err = s.keys.Open(keyID, sealed, payloadAAD(d.SubmissionID))
	if err != nil {
		return Work{}, err
	}
	if w.Kind == KindActivityReport {
		if err := s.loadReportWork(ctx, &w); err != nil {
			return Work{}, err
		}
	}
	return w, nil
}

// OpenContent streams the work's content, starting from the chunk read
// with it.
func (s *Store) OpenContent(ctx context.Context, w Work) io.ReadCloser {
	return &contentReader{s: s, ctx: ctx, blobID: w.BlobID, chunks: w.chunks, firstKey: w.firstKey, first: w.first}
}

// Attempt is the outcome of one delivery attempt, recorded with its
// journal entry in one transaction.
type Attempt struct {
	DeliveryID string
	JobID      int64
	Status     DeliveryStatus
	Attempts   int
	// NextAttemptAt is set when Status is retrying.
	NextAttemptAt time.Time
	// Error is the failure as a problem document (JSON); sealed at rest
	// because a platform's error body may quote personal data.
	Error   []byte
	Receipt *Receipt
	Journal JournalEntry
}

// RecordAttempt stores an attempt's outcome with its journal entry, unless
// the delivery has moved on to another job (ErrStaleJob). Concurrent calls
// are committed together.
func (s *Store) RecordAttempt(ctx context.Context, a Attempt) error {
	return s.attempts.submit(ctx, &a)
}

func (a *Attempt) size() int { return len(a.Error) }

// writeAttempts writes a batch of attempts in tx.
func (s *Store) writeAttempts(ctx context.Context, tx txn, batch []*Attempt) ([]error, error) {
	now := s.now().UTC()
	args := make([][]any, len(batch))
	for i, a := range batch {
		var next, errKeyID, sealedErr, receiptID, receiptMicros any
		if !a.NextAttemptAt.IsZero() {
			next = micros(a.NextAttemptAt)
		}
		if len(a.Error) > 0 {
			errKeyID, sealedErr = s.keys.Seal(a.Error, errorAAD(a.DeliveryID))
		}
		if a.Receipt != nil {
			receiptID, receiptMicros = a.Receipt.RemoteID, micros(a.Receipt.At)
		}
		e := a.Journal
		if e.At.IsZero() {
			e.At = now
		}
		args[i] = append([]any{a.Status, a.Attempts, next, errKeyID, sealedErr, receiptID, receiptMicros, micros(now), a.DeliveryID, a.JobID},
			journalRow(e)...)
	}
	results := make([]error, len(batch))
	if s.b.name() == "postgres" {
		// One statement per attempt, the update and its journal entry
		// together, all pipelined in one round trip.
		affected, err := tx.pipeline(ctx, `WITH updated AS (`+updateDeliverySQL+` RETURNING id)
INSERT INTO relais_journal (`+strings.Join(journalInsertColumns, ", ")+`)
SELECT $11, $12, $13, $14, $15, $16, $17, $18, $19, $20 FROM updated`, args)
		if err != nil {
			return nil, fmt.Errorf("recording delivery attempts: %w", err)
		}
		for i, n := range affected {
			if n == 0 {
				results[i] = ErrStaleJob
			}
		}
		return results, nil
	}
	for i := range batch {
		n, err := tx.exec(ctx, updateDeliverySQL, args[i][:10]...)
		if err != nil {
			return nil, fmt.Errorf("updating delivery: %w", err)
		}
		if n == 0 {
			results[i] = ErrStaleJob
			continue
		}
		if err := insertRows(ctx, tx, "relais_journal", journalInsertColumns, [][]any{args[i][10:]}); err != nil {
			return nil, fmt.Errorf("appending to journal: %w", err)
		}
	}
	return results, nil
}

const updateDeliverySQL = `UPDATE relais_deliveries SET status = $1, attempts = $2, next_attempt_at = $3,
error_key_id = COALESCE($4, error_key_id), last_error = COALESCE($5, last_error),
receipt_remote_id = COALESCE($6, receipt_remote_id), receipt_at = COALESCE($7, receipt_at), updated_at = $8
WHERE id = $9 AND job_id = $10`

// ReplayDelivery queues a failed or dead delivery again, with a fresh
// attempt budget and the same idempotency key, so the platform cannot see
// a duplicate.
func (s *Store) ReplayDelivery(ctx context.Context, tenantID, apiKeyID, deliveryID string) (Delivery, error) {
	now := s.now().UTC().Truncate(time.Microsecond)
	err := s.b.inTx(ctx, func(tx txn) error {
		var status, destination, submissionID string
		err := tx.queryRow(ctx, `SELECT status, destination, submission_id FROM relais_deliveries WHERE id = $1 AND tenant_id = $2`,
			deliveryID, tenantID).Scan(&status, &destination, &submissionID)
		if errors.Is(err, errNoRows) {
			return ErrNotFound
		} else if err != nil {
			return fmt.Errorf("reading delivery: %w", err)
		}
		if DeliveryStatus(status) != StatusFailed && DeliveryStatus(status) != StatusDead {
			return ErrNotReplayable
		}
		ids, err := tx.insertJobs(ctx, []river.InsertManyParams{{Args: DeliverArgs{DeliveryID: deliveryID}}})
		if err != nil {
			return fmt.Errorf("inserting delivery job: %w", err)
		}
		if _, err := tx.exec(ctx, `UPDATE relais_deliveries SET status = $1, attempts = 0, next_attempt_at = NULL, job_id = $2, updated_at = $3 WHERE id = $4`,
			StatusQueued, ids[0], micros(now), deliveryID); err != nil {
			return fmt.Errorf("updating delivery: %w", err)
		}
		return appendJournal(ctx, tx, JournalEntry{
			At: now, TenantID: tenantID, APIKeyID: apiKeyID, Operation: "delivery.replay",
			SubmissionID: submissionID, DeliveryID: deliveryID, Destination: destination, Outcome: "queued",
			Detail: "replayed from " + status,
		})
	})
	if err != nil {
		return Delivery{}, err
	}
	return s.GetDelivery(ctx, tenantID, deliveryID)
}
