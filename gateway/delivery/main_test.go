package delivery_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/gateway/delivery"
	"github.com/relais-dev/relais/gateway/store"
	"github.com/relais-dev/relais/mapping"
)

// ---- Fakes ---------------------------------------------------------------

// fakeStore serves one Work and records every Attempt it is given.
type fakeStore struct {
	mu sync.Mutex
	// work is what LoadWork returns for its delivery and job.
	work store.Work
	// content is what OpenContent streams.
	content []byte
	// loadErr, when set, is what LoadWork returns.
	loadErr error
	// recordErr, when set, is what RecordAttempt returns after recording.
	recordErr error
	// discard drops attempts instead of keeping them (benchmarks).
	discard bool

	loads    int
	opens    int
	attempts []store.Attempt
}

var _ delivery.Store = (*fakeStore)(nil)

func (s *fakeStore) LoadWork(ctx context.Context, deliveryID string, jobID int64) (store.Work, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loads++
	switch {
	case s.loadErr != nil:
		return store.Work{}, s.loadErr
	case deliveryID != s.work.Delivery.ID:
		return store.Work{}, store.ErrNotFound
	case jobID != s.work.Delivery.JobID:
		return store.Work{}, store.ErrStaleJob
	}
	return s.work, ctx.Err()
}

func (s *fakeStore) OpenContent(_ context.Context, w store.Work) io.ReadCloser {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opens++
	if w.BlobID != s.work.BlobID {
		return io.NopCloser(strings.NewReader("wrong blob"))
	}
	return io.NopCloser(bytes.NewReader(s.content))
}

// RecordAttempt fails like a database would when ctx is done: the worker
// must record with a live context.
func (s *fakeStore) RecordAttempt(ctx context.Context, a store.Attempt) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	if !s.discard {
		s.attempts = append(s.attempts, a)
	}
	return s.recordErr
}

func (s *fakeStore) recorded() []store.Attempt {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]store.Attempt(nil), s.attempts...)
}

// fakeConnector answers Deliver as the test scripts it.
type fakeConnector struct {
	name string

	mu sync.Mutex
	// deliver, when set, answers; otherwise receipt and err do.
	deliver func(ctx context.Context, d *connectors.Delivery) (connectors.Receipt, error)
	receipt connectors.Receipt
	err     error
	calls   []connectors.Delivery
}

var _ connectors.Connector = (*fakeConnector)(nil)

func (c *fakeConnector) Name() string { return c.name }

func (c *fakeConnector) Status() connectors.Status { return connectors.Status{Name: c.name} }

func (c *fakeConnector) Deliver(ctx context.Context, d *connectors.Delivery) (connectors.Receipt, error) {
	c.mu.Lock()
	c.calls = append(c.calls, *d)
	deliver, receipt, err := c.deliver, c.receipt, c.err
	c.mu.Unlock()
	if deliver != nil {
		return deliver(ctx, d)
	}
	return receipt, err
}

func (c *fakeConnector) called() []connectors.Delivery {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]connectors.Delivery(nil), c.calls...)
}

func (c *fakeConnector) answer(receipt connectors.Receipt, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.receipt, c.err = receipt, err
}

// ---- Bundle --------------------------------------------------------------

const (
	destination = "coffrefort"
	deliveryID  = "dlv_x"
	jobID       = 7
)

// now is the fixed time of every test's clock.
var now = time.Date(2026, 3, 2, 9, 15, 0, 0, time.UTC)

// deposit is the payload of every test's work. Its personal values must
// never reach a journal entry.
var deposit = mapping.DocumentDeposit{
	Beneficiary: mapping.Beneficiary{
		DistantID: "ESMS-23", FirstName: "Jeanne", LastName: "Martin-Duval", BirthDate: "1950-02-01",
		Email: "jeanne.martin@example.org", Phone: "+33600000000",
	},
	Document: mapping.Document{
		Kind: "care_plan", Title: "Plan d'accompagnement personnalisé", FileName: "plan-accompagnement.pdf",
		MediaType: "application/pdf", Visibility: mapping.VisibilityPrivate,
	},
}

var personalValues = []string{"ESMS-23", "Jeanne", "Martin-Duval", "1950-02-01", "jeanne.martin", "+33600000000", "Plan d'accompagnement", "plan-accompagnement.pdf"}

type bundle struct {
	store   *fakeStore
	conn    *fakeConnector
	dests   *connectors.Registry
	reg     *prometheus.Registry
	cfg     delivery.Config
	worker  *delivery.Worker
	content []byte
}

// setup builds a worker with default config over a fake store holding one
// document deposit, already tried twice, bound for a fake connector that
// succeeds.
func setup(tb testing.TB) *bundle {
	tb.Helper()
	content := []byte("%PDF-1.7\n" + strings.Repeat("relais test content\n", 200))
	sum := sha256.Sum256(content)
	dep := deposit
	dep.Document.Size, dep.Document.SHA256 = int64(len(content)), hex.EncodeToString(sum[:])
	payload, err := json.Marshal(dep)
	if err != nil {
		tb.Fatalf("encoding payload: %v", err)
	}
	st := &fakeStore{
		work: store.Work{
			Delivery: store.Delivery{
				ID: deliveryID, SubmissionID: "sub_1", TenantID: "ten_1", Destination: destination,
				IdempotencyKey: store.DeliveryIdempotencyKey(deliveryID), Status: store.StatusRetrying,
				Attempts: 2, JobID: jobID,
			},
			APIKeyID: "key_1", Kind: delivery.KindDocumentDeposit, Categories: []string{"identity", "health"},
			Payload: payload, BlobID: "blob_1",
		},
		content: content,
	}
	conn := &fakeConnector{name: destination}
	conn.answer(connectors.Receipt{RemoteID: "doc-991", At: now.Add(-time.Second)}, nil)
	dests := connectors.NewRegistry()
	dests.Register(conn)
	reg := prometheus.NewRegistry()
	cfg := delivery.Config{}.WithDefaults()
	w := delivery.NewWorker(st, dests, delivery.Config{}, delivery.NewMetrics(reg), slog.New(slog.DiscardHandler), func() time.Time { return now })
	return &bundle{store: st, conn: conn, dests: dests, reg: reg, cfg: cfg, worker: w, content: content}
}

// setAttempts sets the number of attempts already made.
func (b *bundle) setAttempts(n int) {
	b.store.mu.Lock()
	defer b.store.mu.Unlock()
	b.store.work.Delivery.Attempts = n
}

func newJob() *river.Job[store.DeliverArgs] {
	return &river.Job[store.DeliverArgs]{JobRow: &rivertype.JobRow{ID: jobID}, Args: store.DeliverArgs{DeliveryID: deliveryID}}
}

// ---- Checks --------------------------------------------------------------

// problem is a stored problem document as its JSON reads.
type problem struct {
	Type        string `json:"type"`
	Title       string `json:"title"`
	Status      int    `json:"status"`
	Code        string `json:"code"`
	Detail      string `json:"detail"`
	Destination string `json:"destination"`
	Upstream    *struct {
		Status      int             `json:"status"`
		ContentType string          `json:"content_type"`
		RetryAfter  string          `json:"retry_after"`
		Body        json.RawMessage `json:"body"`
		Text        string          `json:"text"`
	} `json:"upstream"`
}

func decodeProblem(t *testing.T, raw []byte) problem {
	t.Helper()
	if len(raw) == 0 {
		t.Fatal("attempt has no error, want a problem document")
	}
	var p problem
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("decoding problem %s: %v", raw, err)
	}
	wantType := "https://relais.dev/problems/" + strings.ReplaceAll(p.Code, "_", "-")
	if p.Type != wantType || p.Title == "" || p.Destination != destination {
		t.Errorf("problem type %q title %q destination %q, want %q, a title, %q", p.Type, p.Title, p.Destination, wantType, destination)
	}
	return p
}

// onlyAttempt returns the single attempt recorded and checks what every
// attempt shares: ids, journal entry, and no personal value in its detail.
func (b *bundle) onlyAttempt(t *testing.T, status store.DeliveryStatus, attempts int) store.Attempt {
	t.Helper()
	got := b.store.recorded()
	if len(got) != 1 {
		t.Fatalf("recorded %d attempts, want 1: %+v", len(got), got)
	}
	a := got[0]
	if a.DeliveryID != deliveryID || a.JobID != jobID {
		t.Errorf("attempt for delivery %q job %d, want %q job %d", a.DeliveryID, a.JobID, deliveryID, jobID)
	}
	if a.Status != status || a.Attempts != attempts {
		t.Errorf("attempt status %q attempts %d, want %q %d", a.Status, a.Attempts, status, attempts)
	}
	j := a.Journal
	if j.Operation != "delivery.attempt" || j.Outcome != string(status) {
		t.Errorf("journal operation %q outcome %q, want delivery.attempt %q", j.Operation, j.Outcome, status)
	}
	if j.TenantID != "ten_1" || j.APIKeyID != "key_1" || j.SubmissionID != "sub_1" || j.DeliveryID != deliveryID ||
		j.Destination != destination || strings.Join(j.Categories, ",") != "identity,health" {
		t.Errorf("journal entry = %+v, want the work's tenant, key, submission, delivery, destination and categories", j)
	}
	for _, v := range personalValues {
		if strings.Contains(j.Detail, v) {
			t.Errorf("journal detail %q quotes payload value %q", j.Detail, v)
		}
		if len(a.Error) > 0 && strings.Contains(decodeProblem(t, a.Error).Detail, v) {
			t.Errorf("problem detail quotes payload value %q", v)
		}
	}
	return a
}

func (b *bundle) noAttempt(t *testing.T) {
	t.Helper()
	if got := b.store.recorded(); len(got) != 0 {
		t.Fatalf("recorded %d attempts, want none: %+v", len(got), got)
	}
}

func (b *bundle) notCalled(t *testing.T) {
	t.Helper()
	if got := b.conn.called(); len(got) != 0 {
		t.Fatalf("connector called %d times, want never", len(got))
	}
}

func wantSnooze(t *testing.T, err error) time.Duration {
	t.Helper()
	se, ok := errors.AsType[*rivertype.JobSnoozeError](err)
	if !ok {
		t.Fatalf("Work = %v (%T), want a *rivertype.JobSnoozeError", err, err)
	}
	return se.Duration
}

func wantCancel(t *testing.T, err error) {
	t.Helper()
	if _, ok := errors.AsType[*rivertype.JobCancelError](err); !ok {
		t.Fatalf("Work = %v (%T), want a *rivertype.JobCancelError", err, err)
	}
}

// wantPlainError checks err is an error River retries on its own: neither
// a snooze nor a cancellation.
func wantPlainError(t *testing.T, err, wrapped error) {
	t.Helper()
	if err == nil {
		t.Fatal("Work = nil, want an error")
	}
	if _, ok := errors.AsType[*rivertype.JobSnoozeError](err); ok {
		t.Fatalf("Work = %v, want a plain error, not a snooze", err)
	}
	if _, ok := errors.AsType[*rivertype.JobCancelError](err); ok {
		t.Fatalf("Work = %v, want a plain error, not a cancellation", err)
	}
	if !errors.Is(err, wrapped) {
		t.Fatalf("Work = %v, want it to wrap %v", err, wrapped)
	}
}

// counterValue is the value of the series of name with labels, 0 when the
// series does not exist.
func counterValue(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("gathering metrics: %v", err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	next:
		for _, m := range f.GetMetric() {
			got := map[string]string{}
			for _, l := range m.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if got[k] != v {
					continue next
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

func outcomes(t *testing.T, reg *prometheus.Registry, outcome string) float64 {
	t.Helper()
	return counterValue(t, reg, "relais_delivery_outcomes_total", map[string]string{"destination": destination, "outcome": outcome})
}
