package delivery_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/gateway/store"
)

func TestWorkDelivered(t *testing.T) {
	t.Parallel()
	for _, previous := range []int{0, 2} {
		t.Run(fmt.Sprintf("after %d attempts", previous), func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.setAttempts(previous)
			paris := time.FixedZone("CET", 3600)
			var streamed []byte
			b.conn.deliver = func(ctx context.Context, d *connectors.Delivery) (connectors.Receipt, error) {
				for range 2 { // each Open starts from the beginning
					r, err := d.Document.Open(ctx)
					if err != nil {
						return connectors.Receipt{}, err
					}
					streamed, err = io.ReadAll(r)
					r.Close()
					if err != nil {
						return connectors.Receipt{}, err
					}
				}
				return connectors.Receipt{RemoteID: "doc-991", At: time.Date(2026, 3, 2, 10, 14, 59, 0, paris)}, nil
			}

			if err := b.worker.Work(t.Context(), newJob()); err != nil {
				t.Fatalf("Work = %v, want nil", err)
			}

			a := b.onlyAttempt(t, store.StatusDelivered, previous+1)
			if !a.NextAttemptAt.IsZero() || a.Error != nil || a.Journal.Detail != "" {
				t.Errorf("delivered attempt has next %v, error %s, detail %q; want none", a.NextAttemptAt, a.Error, a.Journal.Detail)
			}
			wantReceipt := store.Receipt{RemoteID: "doc-991", At: time.Date(2026, 3, 2, 9, 14, 59, 0, time.UTC)}
			if a.Receipt == nil || *a.Receipt != wantReceipt {
				t.Errorf("receipt = %+v, want %+v (in UTC)", a.Receipt, wantReceipt)
			}
			calls := b.conn.called()
			if len(calls) != 1 {
				t.Fatalf("connector called %d times, want 1", len(calls))
			}
			d := calls[0]
			if d.ID != deliveryID || d.Attempt != previous+1 || d.IdempotencyKey != "relais-"+deliveryID {
				t.Errorf("connector saw id %q attempt %d key %q, want %q %d %q", d.ID, d.Attempt, d.IdempotencyKey, deliveryID, previous+1, "relais-"+deliveryID)
			}
			if d.Document == nil {
				t.Fatal("connector saw no document")
			}
			if got := d.Document.DocumentDeposit; got.Beneficiary != deposit.Beneficiary || got.Document.Title != deposit.Document.Title ||
				got.Document.Size != int64(len(b.content)) {
				t.Errorf("connector saw deposit %+v, want the work's payload", got)
			}
			if !bytes.Equal(streamed, b.content) {
				t.Errorf("Open streamed %d bytes, want the store's %d", len(streamed), len(b.content))
			}
			if b.store.opens != 2 {
				t.Errorf("store opened content %d times, want 2", b.store.opens)
			}
			if got := outcomes(t, b.reg, "delivered"); got != 1 {
				t.Errorf("outcomes{delivered} = %v, want 1", got)
			}
			labels := map[string]string{"destination": destination}
			if got := counterValue(t, b.reg, "relais_delivery_attempts_total", labels); got != 1 {
				t.Errorf("attempts_total = %v, want 1", got)
			}
			wantRetries := 0.0
			if previous > 0 {
				wantRetries = 1
			}
			if got := counterValue(t, b.reg, "relais_delivery_retries_total", labels); got != wantRetries {
				t.Errorf("retries_total = %v, want %v", got, wantRetries)
			}
			problems, err := testutil.GatherAndLint(b.reg)
			if err != nil {
				t.Fatalf("linting metrics: %v", err)
			}
			for _, p := range problems {
				t.Errorf("lint: %s: %s", p.Metric, p.Text)
			}
		})
	}
}

func TestWorkPermanentFailure(t *testing.T) {
	t.Parallel()
	problemBody := `{"type": "https://coffrefort.example/errors/invalid", "title": "Invalid beneficiary",
 "status": 422, "errors": [{"field": "birth_date", "code": "too_old"}]}`
	tests := []struct {
		name       string
		err        error
		code       string
		status     int
		upstream   int    // upstream.status, 0 for no upstream
		body       string // upstream.body, compacted
		text       string // upstream.text
		wantDetail string
	}{
		{
			name: "422 with a JSON problem",
			err: &connectors.Error{
				Class: connectors.Permanent, Op: "uploading document", Status: 422,
				ContentType: "application/problem+json", Body: []byte(problemBody),
			},
			code: "upstream_rejected", status: 422, upstream: 422, body: problemBody, wantDetail: "permanent HTTP 422",
		},
		{
			name: "400 with a text body",
			err: &connectors.Error{
				Class: connectors.Permanent, Op: "uploading document", Status: 400,
				ContentType: "text/plain", Body: []byte("bad request: \xff field missing\n"),
			},
			code: "upstream_rejected", status: 422, upstream: 400, text: "bad request: \uFFFD field missing\n", wantDetail: "permanent HTTP 400",
		},
		{
			name: "404",
			err: fmt.Errorf("finding beneficiary: %w", &connectors.Error{
				Class: connectors.NotFound, Op: "finding beneficiary", Status: 404,
				ContentType: "application/json", Body: []byte(`{"error":"no such beneficiary"}`),
			}),
			code: "upstream_not_found", status: 422, upstream: 404, body: `{"error":"no such beneficiary"}`, wantDetail: "not_found HTTP 404",
		},
		{
			name: "integrity mismatch",
			err: &connectors.Error{
				Class: connectors.Permanent, Op: "checking document: integrity_mismatch (the safe stored 10 bytes, the document has 4000)",
			},
			code: "integrity_mismatch", status: 422, wantDetail: "permanent",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.conn.answer(connectors.Receipt{}, tt.err)

			err := b.worker.Work(t.Context(), newJob())
			wantCancel(t, err)
			if !errors.Is(err, tt.err) {
				t.Errorf("Work = %v, want the cancellation to wrap the connector's error", err)
			}

			a := b.onlyAttempt(t, store.StatusFailed, 3)
			if !a.NextAttemptAt.IsZero() || a.Receipt != nil {
				t.Errorf("failed attempt has next %v, receipt %+v; want none", a.NextAttemptAt, a.Receipt)
			}
			if a.Journal.Detail != tt.wantDetail {
				t.Errorf("journal detail = %q, want %q", a.Journal.Detail, tt.wantDetail)
			}
			p := decodeProblem(t, a.Error)
			if p.Code != tt.code || p.Status != tt.status {
				t.Errorf("problem code %q status %d, want %q %d", p.Code, p.Status, tt.code, tt.status)
			}
			checkUpstream(t, p, tt.upstream, tt.body, tt.text)
			if got := outcomes(t, b.reg, "failed"); got != 1 {
				t.Errorf("outcomes{failed} = %v, want 1", got)
			}
		})
	}
}

func checkUpstream(t *testing.T, p problem, status int, body, text string) {
	t.Helper()
	if status == 0 {
		if p.Upstream != nil {
			t.Errorf("problem upstream = %+v, want none", p.Upstream)
		}
		return
	}
	if p.Upstream == nil {
		t.Fatal("problem has no upstream")
	}
	if p.Upstream.Status != status {
		t.Errorf("upstream.status = %d, want %d", p.Upstream.Status, status)
	}
	if body != "" {
		var want bytes.Buffer
		if err := json.Compact(&want, []byte(body)); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(p.Upstream.Body, want.Bytes()) {
			t.Errorf("upstream.body = %s, want the platform's JSON kept as is: %s", p.Upstream.Body, want.Bytes())
		}
		if p.Upstream.Text != "" {
			t.Errorf("upstream.text = %q, want none beside a JSON body", p.Upstream.Text)
		}
	}
	if text != "" {
		if p.Upstream.Text != text || p.Upstream.Body != nil {
			t.Errorf("upstream text %q body %s, want text %q and no body", p.Upstream.Text, p.Upstream.Body, text)
		}
	}
}

func TestWorkRetryableFailure(t *testing.T) {
	t.Parallel()
	netErr := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	tests := []struct {
		name       string
		err        error
		code       string
		status     int
		upstream   int
		retryAfter time.Duration // what the platform asked for, capped
		wantDetail string
	}{
		{
			name: "503 with Retry-After",
			err: &connectors.Error{
				Class: connectors.Retryable, Op: "uploading document", Status: 503, RetryAfter: 2 * time.Second,
				ContentType: "application/json", Body: []byte(`{"error":"maintenance"}`),
			},
			code: "upstream_unavailable", status: 502, upstream: 503, retryAfter: 2 * time.Second, wantDetail: "retryable HTTP 503",
		},
		{
			name: "429",
			err: &connectors.Error{
				Class: connectors.Retryable, Op: "uploading document", Status: 429, RetryAfter: 30 * time.Second,
			},
			code: "upstream_rate_limited", status: 503, upstream: 429, retryAfter: 30 * time.Second, wantDetail: "retryable HTTP 429",
		},
		{
			name: "network error",
			err:  fmt.Errorf("posting document: %w", netErr),
			code: "upstream_unreachable", status: 504, wantDetail: "retryable",
		},
		{
			name: "Retry-After above MaxRetryAfter",
			err: &connectors.Error{
				Class: connectors.Retryable, Op: "uploading document", Status: 503, RetryAfter: 3 * time.Hour,
			},
			code: "upstream_unavailable", status: 502, upstream: 503, retryAfter: 10 * time.Minute, wantDetail: "retryable HTTP 503",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.conn.answer(connectors.Receipt{}, tt.err)

			delay := wantSnooze(t, b.worker.Work(t.Context(), newJob()))

			attempt := 3
			exp := expBackoff(b.cfg, attempt)
			lo, hi := max(exp/2, tt.retryAfter), max(exp, tt.retryAfter)
			if delay < lo || delay > hi {
				t.Errorf("snoozed %v, want within [%v, %v]", delay, lo, hi)
			}
			if tt.retryAfter > 0 && delay < tt.retryAfter {
				t.Errorf("snoozed %v, want at least the Retry-After %v", delay, tt.retryAfter)
			}
			if delay > b.cfg.MaxRetryAfter && delay > b.cfg.BackoffMax {
				t.Errorf("snoozed %v, above both MaxRetryAfter and BackoffMax", delay)
			}
			a := b.onlyAttempt(t, store.StatusRetrying, attempt)
			if want := now.Add(delay); !a.NextAttemptAt.Equal(want) {
				t.Errorf("next attempt at %v, want now + snooze = %v", a.NextAttemptAt, want)
			}
			if a.Receipt != nil {
				t.Errorf("retrying attempt has receipt %+v", a.Receipt)
			}
			if a.Journal.Detail != tt.wantDetail {
				t.Errorf("journal detail = %q, want %q", a.Journal.Detail, tt.wantDetail)
			}
			p := decodeProblem(t, a.Error)
			if p.Code != tt.code || p.Status != tt.status {
				t.Errorf("problem code %q status %d, want %q %d", p.Code, p.Status, tt.code, tt.status)
			}
			checkUpstream(t, p, tt.upstream, "", "")
			if ce, ok := errors.AsType[*connectors.Error](tt.err); ok && ce.RetryAfter > 0 && p.Upstream.RetryAfter != ce.RetryAfter.String() {
				t.Errorf("upstream.retry_after = %q, want the platform's own %q", p.Upstream.RetryAfter, ce.RetryAfter)
			}
			if got := outcomes(t, b.reg, "retrying"); got != 1 {
				t.Errorf("outcomes{retrying} = %v, want 1", got)
			}
		})
	}
}

func TestWorkRetryAfterCappedExactly(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.setAttempts(0) // a first attempt: the backoff (1-2s) is far below the cap
	b.conn.answer(connectors.Receipt{}, &connectors.Error{Class: connectors.Retryable, Op: "uploading document", Status: 429, RetryAfter: 48 * time.Hour})

	delay := wantSnooze(t, b.worker.Work(t.Context(), newJob()))

	if delay != b.cfg.MaxRetryAfter {
		t.Errorf("snoozed %v, want MaxRetryAfter %v", delay, b.cfg.MaxRetryAfter)
	}
	if a := b.onlyAttempt(t, store.StatusRetrying, 1); !a.NextAttemptAt.Equal(now.Add(b.cfg.MaxRetryAfter)) {
		t.Errorf("next attempt at %v, want %v", a.NextAttemptAt, now.Add(b.cfg.MaxRetryAfter))
	}
}

// A job that runs out of time still records its attempt: the store is
// called with a live context.
func TestWorkJobTimeoutIsRetryable(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx, cancel := context.WithCancel(t.Context())
	b.conn.deliver = func(ctx context.Context, _ *connectors.Delivery) (connectors.Receipt, error) {
		cancel()
		return connectors.Receipt{}, fmt.Errorf("uploading document: %w", ctx.Err())
	}

	wantSnooze(t, b.worker.Work(ctx, newJob()))

	a := b.onlyAttempt(t, store.StatusRetrying, 3)
	if p := decodeProblem(t, a.Error); p.Code != "upstream_unreachable" {
		t.Errorf("problem code = %q, want upstream_unreachable", p.Code)
	}
}

func TestWorkLastAttemptDies(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.setAttempts(b.cfg.MaxAttempts - 1)
	b.conn.answer(connectors.Receipt{}, &connectors.Error{Class: connectors.Retryable, Op: "uploading document", Status: 503, RetryAfter: time.Second})

	wantCancel(t, b.worker.Work(t.Context(), newJob()))

	a := b.onlyAttempt(t, store.StatusDead, b.cfg.MaxAttempts)
	if !a.NextAttemptAt.IsZero() {
		t.Errorf("dead attempt has next attempt at %v, want none", a.NextAttemptAt)
	}
	if p := decodeProblem(t, a.Error); p.Code != "upstream_unavailable" || p.Upstream == nil || p.Upstream.Status != 503 {
		t.Errorf("problem = %+v, want upstream_unavailable with upstream status 503", p)
	}
	if got := outcomes(t, b.reg, "dead"); got != 1 {
		t.Errorf("outcomes{dead} = %v, want 1", got)
	}
	if got := outcomes(t, b.reg, "retrying"); got != 0 {
		t.Errorf("outcomes{retrying} = %v, want 0", got)
	}
}

// The last attempt timing out must still be recorded as dead.
func TestWorkLastAttemptTimesOut(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.setAttempts(b.cfg.MaxAttempts - 1)
	ctx, cancel := context.WithCancel(t.Context())
	b.conn.deliver = func(ctx context.Context, _ *connectors.Delivery) (connectors.Receipt, error) {
		cancel()
		return connectors.Receipt{}, ctx.Err()
	}

	wantCancel(t, b.worker.Work(ctx, newJob()))

	b.onlyAttempt(t, store.StatusDead, b.cfg.MaxAttempts)
}

func TestWorkBreakerOpen(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want time.Duration
	}{
		{"with a hint", &connectors.BreakerOpenError{Destination: destination, RetryIn: 3 * time.Second}, 3 * time.Second},
		{"wrapped", fmt.Errorf("uploading document: %w", &connectors.BreakerOpenError{Destination: destination, RetryIn: 3 * time.Second}), 3 * time.Second},
		{"hint above MaxRetryAfter", &connectors.BreakerOpenError{Destination: destination, RetryIn: time.Hour}, 10 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.conn.answer(connectors.Receipt{}, tt.err)

			if got := wantSnooze(t, b.worker.Work(t.Context(), newJob())); got != tt.want {
				t.Errorf("snoozed %v, want %v", got, tt.want)
			}

			b.noAttempt(t)
			if got := outcomes(t, b.reg, "breaker_open"); got != 1 {
				t.Errorf("outcomes{breaker_open} = %v, want 1", got)
			}
			if n, err := testutil.GatherAndCount(b.reg, "relais_delivery_attempts_total", "relais_delivery_retries_total"); err != nil || n != 0 {
				t.Errorf("attempts and retries series = %d (%v), want none: no attempt was used", n, err)
			}
		})
	}
}

func TestWorkBreakerOpenWithoutHint(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.conn.answer(connectors.Receipt{}, &connectors.BreakerOpenError{Destination: destination})

	if got := wantSnooze(t, b.worker.Work(t.Context(), newJob())); got != b.cfg.BreakerRequeue {
		t.Errorf("snoozed %v, want BreakerRequeue %v", got, b.cfg.BreakerRequeue)
	}
	b.noAttempt(t)
}

func TestWorkLoadWorkError(t *testing.T) {
	t.Parallel()
	for _, err := range []error{store.ErrStaleJob, store.ErrNotFound, fmt.Errorf("reading: %w", store.ErrStaleJob)} {
		t.Run(err.Error(), func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.store.loadErr = err

			if got := b.worker.Work(t.Context(), newJob()); got != nil {
				t.Fatalf("Work = %v, want nil: nothing to do", got)
			}
			b.notCalled(t)
			b.noAttempt(t)
		})
	}
	t.Run("job of another delivery", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		job := newJob()
		job.ID = jobID + 1 // the fake store answers ErrStaleJob

		if got := b.worker.Work(t.Context(), job); got != nil {
			t.Fatalf("Work = %v, want nil", got)
		}
		b.notCalled(t)
	})
	t.Run("database down", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		down := errors.New("connection reset by peer")
		b.store.loadErr = down

		wantPlainError(t, b.worker.Work(t.Context(), newJob()), down)
		b.notCalled(t)
		b.noAttempt(t)
	})
}

// A delivery the worker cannot even attempt is recorded as failed without
// using an attempt; the job is cancelled and the failure counted, with no
// attempt counted.
func TestWorkCannotAttempt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		tweak  func(*store.Work)
		code   string
		detail string
	}{
		{"unknown destination", func(w *store.Work) { w.Delivery.Destination = "nowhere" }, "unknown_destination", "no connector configured"},
		{"undecodable payload", func(w *store.Work) { w.Payload = []byte(`{"beneficiary": "Jeanne`) }, "invalid_payload", "undecodable payload"},
		{"unknown kind", func(w *store.Work) { w.Kind = "care_plan_update" }, "invalid_payload", "undecodable payload"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			tt.tweak(&b.store.work)
			wantDest := b.store.work.Delivery.Destination

			wantCancel(t, b.worker.Work(t.Context(), newJob()))

			b.notCalled(t)
			got := b.store.recorded()
			if len(got) != 1 {
				t.Fatalf("recorded %d attempts, want 1", len(got))
			}
			a := got[0]
			if a.Status != store.StatusFailed || a.Attempts != 2 || !a.NextAttemptAt.IsZero() || a.Receipt != nil {
				t.Errorf("attempt = %+v, want failed with the 2 previous attempts, no next attempt, no receipt", a)
			}
			if a.Journal.Operation != "delivery.attempt" || a.Journal.Outcome != "failed" || a.Journal.Detail != tt.detail {
				t.Errorf("journal = %+v, want delivery.attempt failed %q", a.Journal, tt.detail)
			}
			for _, v := range personalValues {
				if strings.Contains(string(a.Error), v) {
					t.Errorf("problem %s quotes payload value %q", a.Error, v)
				}
			}
			var p problem
			if err := json.Unmarshal(a.Error, &p); err != nil {
				t.Fatalf("decoding problem: %v", err)
			}
			if p.Code != tt.code || p.Status != 422 || p.Destination != wantDest || p.Upstream != nil {
				t.Errorf("problem = %+v, want %s, 422, destination %q, no upstream", p, tt.code, wantDest)
			}
			if n, err := testutil.GatherAndCount(b.reg, "relais_delivery_attempts_total"); err != nil || n != 0 {
				t.Errorf("attempt series = %d (%v), want none: the platform was not called", n, err)
			}
			if n, err := testutil.GatherAndCount(b.reg, "relais_delivery_outcomes_total"); err != nil || n != 1 {
				t.Errorf("outcome series = %d (%v), want the one failure", n, err)
			}
		})
	}
}

// When the delivery moved on to another job while this one ran,
// RecordAttempt answers ErrStaleJob and the worker drops the outcome.
func TestWorkRecordStale(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		err   error
		check func(t *testing.T, err error)
	}{
		{"delivered", nil, func(t *testing.T, err error) {
			if err != nil {
				t.Fatalf("Work = %v, want nil", err)
			}
		}},
		// The stale job ends at once: it is not cancelled nor snoozed, the
		// delivery's current job carries on.
		{"failed", &connectors.Error{Class: connectors.Permanent, Op: "uploading document", Status: 422}, func(t *testing.T, err error) {
			if err != nil {
				t.Fatalf("Work = %v, want nil", err)
			}
		}},
		{"retrying", &connectors.Error{Class: connectors.Retryable, Op: "uploading document", Status: 503}, func(t *testing.T, err error) {
			if err != nil {
				t.Fatalf("Work = %v, want nil", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.store.recordErr = store.ErrStaleJob
			b.conn.answer(connectors.Receipt{RemoteID: "doc-1", At: now}, tt.err)

			tt.check(t, b.worker.Work(t.Context(), newJob()))
			if got := len(b.store.recorded()); got != 1 {
				t.Errorf("RecordAttempt called %d times, want 1", got)
			}
		})
	}
}

func TestWorkRecordError(t *testing.T) {
	t.Parallel()
	for _, connErr := range []error{
		nil,
		&connectors.Error{Class: connectors.Permanent, Op: "uploading document", Status: 422},
		&connectors.Error{Class: connectors.Retryable, Op: "uploading document", Status: 503},
	} {
		t.Run(fmt.Sprint(connErr), func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			down := errors.New("disk full")
			b.store.recordErr = down
			b.conn.answer(connectors.Receipt{RemoteID: "doc-1", At: now}, connErr)

			wantPlainError(t, b.worker.Work(t.Context(), newJob()), down)
		})
	}
}
