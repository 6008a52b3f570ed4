package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/gateway/store"
	"github.com/relais-dev/relais/mapping"
)

// Config tunes retries. Zero values take the documented defaults.
type Config struct {
	// MaxAttempts is the number of calls to a platform before a delivery is
	// dead. Default 10.
	MaxAttempts int `yaml:"max_attempts"`
	// BackoffBase is the delay before the second attempt; it doubles each
	// attempt, with jitter. Default 2s.
	BackoffBase time.Duration `yaml:"backoff_base"`
	// BackoffMax caps the backoff. Default 1h.
	BackoffMax time.Duration `yaml:"backoff_max"`
	// MaxRetryAfter caps a platform's Retry-After. Default 10m.
	MaxRetryAfter time.Duration `yaml:"max_retry_after"`
	// BreakerRequeue is how long a job waits when a breaker is open and
	// gives no hint. Default 1s.
	BreakerRequeue time.Duration `yaml:"breaker_requeue"`
	// DependencyWait is how long a report output waits, without using an
	// attempt, for what must be delivered before it (an earlier version of
	// it, an earlier chunk it refers to). Default 1s.
	DependencyWait time.Duration `yaml:"dependency_wait"`
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 10
	}
	if c.BackoffBase <= 0 {
		c.BackoffBase = 2 * time.Second
	}
	if c.BackoffMax <= 0 {
		c.BackoffMax = time.Hour
	}
	if c.MaxRetryAfter <= 0 {
		c.MaxRetryAfter = 10 * time.Minute
	}
	if c.BreakerRequeue <= 0 {
		c.BreakerRequeue = time.Second
	}
	if c.DependencyWait <= 0 {
		c.DependencyWait = time.Second
	}
	return c
}

// Validate names the first faulty field.
func (c Config) Validate() error {
	switch {
	case c.MaxAttempts > 1000:
		return errors.New("delivery.max_attempts: must be at most 1000")
	case c.BackoffMax < c.BackoffBase:
		return errors.New("delivery.backoff_max: must be at least delivery.backoff_base")
	}
	return nil
}

// Store is what the worker needs of the store.
type Store interface {
	LoadWork(ctx context.Context, deliveryID string, jobID int64) (store.Work, error)
	OpenContent(ctx context.Context, w store.Work) io.ReadCloser
	RecordAttempt(ctx context.Context, a store.Attempt) error
}

var _ Store = (*store.Store)(nil)

// Destinations finds the connector of a destination.
type Destinations interface {
	Get(name string) (connectors.Connector, bool)
}

// Reports builds what a connector delivers for an output of an activity
// report (gateway/report.Service).
type Reports interface {
	Delivery(rw *store.ReportWork) (*connectors.ReportDelivery, error)
}

// Worker is the River worker of store.DeliverArgs jobs.
type Worker struct {
	river.WorkerDefaults[store.DeliverArgs]
	store   Store
	dests   Destinations
	reports Reports
	cfg     Config
	metrics *Metrics
	logger  *slog.Logger
	now     func() time.Time
}

var _ river.Worker[store.DeliverArgs] = (*Worker)(nil)

// NewWorker builds the delivery worker. now may be nil (time.Now).
func NewWorker(s Store, dests Destinations, cfg Config, metrics *Metrics, logger *slog.Logger, now func() time.Time) *Worker {
	if now == nil {
		now = time.Now
	}
	return &Worker{store: s, dests: dests, cfg: cfg.WithDefaults(), metrics: metrics, logger: logger, now: now}
}

// WithReports lets the worker deliver the outputs of activity reports; it
// returns w. Without it, they fail as undeliverable.
func (w *Worker) WithReports(r Reports) *Worker {
	w.reports = r
	return w
}

// Work makes one delivery attempt.
func (w *Worker) Work(ctx context.Context, job *river.Job[store.DeliverArgs]) error {
	work, err := w.store.LoadWork(ctx, job.Args.DeliveryID, job.ID)
	if errors.Is(err, store.ErrStaleJob) || errors.Is(err, store.ErrNotFound) {
		return nil // replayed, already done, or gone: nothing to do
	} else if err != nil {
		return fmt.Errorf("loading delivery work: %w", err)
	}
	d := work.Delivery
	conn, ok := w.dests.Get(d.Destination)
	if !ok {
		return w.cannotAttempt(ctx, work, job.ID, &connectors.Error{Class: connectors.Permanent, Op: "finding connector"},
			"unknown_destination", "no connector configured")
	}
	if rw := work.Report; rw != nil && rw.WaitFor != "" {
		// Not an attempt: what it depends on is on its way.
		w.metrics.deliveries.WithLabelValues(d.Destination, "waiting").Inc()
		return river.JobSnooze(w.cfg.DependencyWait)
	} else if rw != nil && rw.Blocked != "" {
		return w.cannotAttempt(ctx, work, job.ID, &connectors.Error{Class: connectors.Permanent, Op: "waiting for an earlier chunk"},
			"dependency_failed", rw.Blocked)
	}
	delivery, err := w.buildDelivery(work)
	if err != nil {
		return w.cannotAttempt(ctx, work, job.ID, &connectors.Error{Class: connectors.Permanent, Op: "decoding payload", Err: err},
			"invalid_payload", "undecodable payload")
	}
	attempt := d.Attempts + 1
	delivery.Attempt = attempt

	start := w.now()
	receipt, err := conn.Deliver(ctx, delivery)

	var open *connectors.BreakerOpenError
	if errors.As(err, &open) {
		// The platform was not called: no attempt is used up.
		w.metrics.deliveries.WithLabelValues(d.Destination, "breaker_open").Inc()
		wait := open.RetryIn
		if wait <= 0 {
			wait = w.cfg.BreakerRequeue
		}
		return river.JobSnooze(min(max(wait, 50*time.Millisecond), w.cfg.MaxRetryAfter))
	}
	w.metrics.duration.WithLabelValues(d.Destination).Observe(w.now().Sub(start).Seconds())
	// The job's context may be done (job timeout, shutdown) while the
	// outcome is known: record it with a context of its own, or the attempt
	// would be lost and made again.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()

	if err == nil {
		return w.finish(rctx, work, job.ID, attempt, "delivered", nil, store.Attempt{
			Status: store.StatusDelivered, Receipt: &store.Receipt{RemoteID: receipt.RemoteID, At: receipt.At.UTC()},
		})
	}
	var ce *connectors.Error
	if !errors.As(err, &ce) {
		// A transport error, or the job's own deadline.
		ce = &connectors.Error{Class: connectors.Retryable, Op: "delivering", Err: err}
	}
	problem := problemFor(d.Destination, ce, "")
	detail := ce.Class.String()
	if ce.Status != 0 {
		detail = fmt.Sprintf("%s HTTP %d", detail, ce.Status)
	}
	switch {
	case ce.Class != connectors.Retryable:
		return w.finish(rctx, work, job.ID, attempt, "failed", river.JobCancel(err), store.Attempt{Status: store.StatusFailed, Error: problem, Journal: store.JournalEntry{Detail: detail}})
	case attempt >= w.cfg.MaxAttempts:
		return w.finish(rctx, work, job.ID, attempt, "dead", river.JobCancel(err), store.Attempt{Status: store.StatusDead, Error: problem, Journal: store.JournalEntry{Detail: detail}})
	default:
		delay := w.Backoff(attempt, ce.RetryAfter)
		return w.finish(rctx, work, job.ID, attempt, "retrying", river.JobSnooze(delay), store.Attempt{
			Status: store.StatusRetrying, NextAttemptAt: w.now().Add(delay), Error: problem, Journal: store.JournalEntry{Detail: detail},
		})
	}
}

// finish records the outcome of a call to the platform, counts it, and
// returns what River must do next. A stale job (the delivery moved on
// meanwhile) ends quietly.
func (w *Worker) finish(ctx context.Context, work store.Work, jobID int64, attempt int, outcome string, next error, a store.Attempt) error {
	a.Attempts = attempt
	stale, err := w.record(ctx, work, jobID, a)
	if err != nil {
		return err
	}
	w.metrics.count(work.Delivery.Destination, outcome, attempt > 1)
	if stale {
		return nil
	}
	return next
}

// cannotAttempt fails a delivery that cannot even be tried; no attempt is
// used and the job is cancelled.
func (w *Worker) cannotAttempt(ctx context.Context, work store.Work, jobID int64, ce *connectors.Error, code, detail string) error {
	stale, err := w.record(ctx, work, jobID, store.Attempt{
		Status: store.StatusFailed, Attempts: work.Delivery.Attempts, Error: problemFor(work.Delivery.Destination, ce, code),
		Journal: store.JournalEntry{Detail: detail},
	})
	if err != nil || stale {
		return err
	}
	w.metrics.deliveries.WithLabelValues(work.Delivery.Destination, "failed").Inc()
	return river.JobCancel(ce)
}

// Backoff is the delay after failed attempt number attempt: exponential
// with equal jitter, and never less than the platform's Retry-After, itself
// capped by MaxRetryAfter.
func (w *Worker) Backoff(attempt int, retryAfter time.Duration) time.Duration {
	exp := w.cfg.BackoffBase << max(min(attempt-1, 32), 0)
	if exp <= 0 || exp > w.cfg.BackoffMax {
		exp = w.cfg.BackoffMax
	}
	delay := exp/2 + rand.N(exp/2+1) //nolint:gosec // jitter needs no cryptographic randomness
	return max(delay, min(retryAfter, w.cfg.MaxRetryAfter))
}

// record stores an attempt with its journal entry. It reports stale = true
// when the delivery no longer waits for this job.
func (w *Worker) record(ctx context.Context, work store.Work, jobID int64, a store.Attempt) (stale bool, err error) {
	d := work.Delivery
	a.DeliveryID, a.JobID = d.ID, jobID
	a.Journal = store.JournalEntry{
		TenantID: d.TenantID, APIKeyID: work.APIKeyID, Operation: "delivery.attempt", SubmissionID: d.SubmissionID,
		DeliveryID: d.ID, Destination: d.Destination, Categories: work.Categories, Outcome: string(a.Status), Detail: a.Journal.Detail,
	}
	err = w.store.RecordAttempt(ctx, a)
	if errors.Is(err, store.ErrStaleJob) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("recording delivery attempt: %w", err)
	}
	w.logger.LogAttrs(ctx, slog.LevelDebug, "delivery attempt",
		slog.String("delivery_id", d.ID), slog.String("destination", d.Destination),
		slog.String("status", string(a.Status)), slog.Int("attempt", a.Attempts), slog.String("detail", a.Journal.Detail))
	return false, nil
}

func (w *Worker) buildDelivery(work store.Work) (*connectors.Delivery, error) {
	d := &connectors.Delivery{ID: work.Delivery.ID, IdempotencyKey: work.Delivery.IdempotencyKey}
	switch work.Kind {
	case KindDocumentDeposit:
		var dep mapping.DocumentDeposit
		if err := json.Unmarshal(work.Payload, &dep); err != nil {
			return nil, fmt.Errorf("decoding document deposit: %w", err)
		}
		d.Document = &connectors.DocumentDelivery{
			DocumentDeposit: dep,
			Open: func(ctx context.Context) (io.ReadCloser, error) {
				return w.store.OpenContent(ctx, work), nil
			},
		}
	case store.KindActivityReport:
		if w.reports == nil || work.Report == nil {
			return nil, errors.New("activity reports are not configured")
		}
		rep, err := w.reports.Delivery(work.Report)
		if err != nil {
			return nil, fmt.Errorf("building report output: %w", err)
		}
		d.Report = rep
	default:
		return nil, fmt.Errorf("unknown payload kind %q", work.Kind)
	}
	return d, nil
}

// KindDocumentDeposit is the payload kind of a document for a beneficiary.
const KindDocumentDeposit = "document_deposit"

// Problem is how a delivery's last error is shown: an RFC 9457 problem
// with the platform's own error response inside.
type Problem struct {
	Type        string    `json:"type"`
	Title       string    `json:"title"`
	Status      int       `json:"status"`
	Code        string    `json:"code"`
	Detail      string    `json:"detail,omitempty"`
	Destination string    `json:"destination"`
	Upstream    *Upstream `json:"upstream,omitempty"`
}

// Upstream is the platform's own answer to a failed call.
type Upstream struct {
	Status      int             `json:"status,omitempty"`
	ContentType string          `json:"content_type,omitempty"`
	RetryAfter  string          `json:"retry_after,omitempty"`
	Body        json.RawMessage `json:"body,omitempty"`
	Text        string          `json:"text,omitempty"`
}

// problemFor translates a classified error into a stored problem. code,
// when set, overrides the derived one.
func problemFor(destination string, ce *connectors.Error, code string) []byte {
	p := Problem{Destination: destination, Detail: ce.Op}
	switch {
	case code != "":
		p.Code, p.Status, p.Title = code, 422, "The delivery cannot be made"
	case ce.Status == 429:
		p.Code, p.Status, p.Title = "upstream_rate_limited", 503, "The platform is rate-limiting us"
	case ce.Class == connectors.Retryable && ce.Status == 0:
		p.Code, p.Status, p.Title = "upstream_unreachable", 504, "The platform did not answer"
	case ce.Class == connectors.Retryable:
		p.Code, p.Status, p.Title = "upstream_unavailable", 502, "The platform failed"
	case ce.Class == connectors.NotFound:
		p.Code, p.Status, p.Title = "upstream_not_found", 422, "The platform does not know what we referred to"
	case strings.Contains(ce.Op, "integrity"):
		p.Code, p.Status, p.Title = "integrity_mismatch", 422, "The platform received other content than we sent"
	default:
		p.Code, p.Status, p.Title = "upstream_rejected", 422, "The platform rejected the delivery"
	}
	p.Type = "https://relais.dev/problems/" + strings.ReplaceAll(p.Code, "_", "-")
	if ce.Status != 0 || len(ce.Body) > 0 {
		u := &Upstream{Status: ce.Status, ContentType: ce.ContentType}
		if ce.RetryAfter > 0 {
			u.RetryAfter = ce.RetryAfter.String()
		}
		if json.Valid(ce.Body) {
			u.Body = ce.Body
		} else if len(ce.Body) > 0 {
			u.Text = strings.ToValidUTF8(string(ce.Body), "\uFFFD")
		}
		p.Upstream = u
	}
	out, _ := json.Marshal(p) // a Problem always marshals
	return out
}
