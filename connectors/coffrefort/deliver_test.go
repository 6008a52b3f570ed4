package coffrefort_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/connectors/coffrefort"
	"github.com/relais-dev/relais/mapping"
	mockcoffrefort "github.com/relais-dev/relais/mocks/coffrefort"
	"github.com/relais-dev/relais/mocks/platform"
)

func TestDeliverHappyPath(t *testing.T) {
	t.Parallel()
	b := setup(t, nil, nil)
	ctx := context.Background()

	first := delivery("key-1", "ESMS-000123", pdf(3000), mapping.VisibilityShared)
	second := delivery("key-2", "ESMS-000123", pdf(5000), mapping.VisibilityPrivate)
	var receipts []connectors.Receipt
	for _, d := range []*connectors.Delivery{first, second} {
		rec, err := b.client.Deliver(ctx, d)
		if err != nil {
			t.Fatalf("Deliver(%s): %v", d.IdempotencyKey, err)
		}
		receipts = append(receipts, rec)
	}

	bens := b.mock.Beneficiaries()
	if len(bens) != 1 || bens[0].DistantID != "ESMS-000123" || bens[0].FirstName != "Zoé" || bens[0].BirthDate != "1987-11-23" {
		t.Fatalf("beneficiaries = %+v, want one, created from the deposit", bens)
	}
	st := b.mock.Stats()
	if st.ByRoute["beneficiaries.search"] != 1 || st.ByRoute["beneficiaries.create"] != 1 {
		t.Errorf("search %d, create %d: want 1 each (the second deposit uses the cache)",
			st.ByRoute["beneficiaries.search"], st.ByRoute["beneficiaries.create"])
	}
	docs := b.mock.Documents()
	if len(docs) != 2 {
		t.Fatalf("documents = %d, want 2", len(docs))
	}
	for i, d := range []*connectors.Delivery{first, second} {
		doc := docs[i]
		want := d.Document.Document
		if receipts[i].RemoteID != strconv.FormatInt(doc.ID, 10) || !receipts[i].At.Equal(b.clock.Now()) {
			t.Errorf("receipt %d = %+v, want document %d at %s", i, receipts[i], doc.ID, b.clock.Now())
		}
		if doc.BeneficiaryID != bens[0].ID || doc.Name != want.Title || doc.DistantID != d.ID ||
			doc.IssueDate != want.IssueDate || doc.MimeType != want.MediaType || doc.Extension != "pdf" ||
			doc.SHA256 != want.SHA256 || doc.Size != want.Size || doc.IdempotencyKey != d.IdempotencyKey {
			t.Errorf("document %d = %+v, want %+v", i, doc, want)
		}
		if doc.Private != (want.Visibility == mapping.VisibilityPrivate) {
			t.Errorf("document %d private = %v, want visibility %s", i, doc.Private, want.Visibility)
		}
	}
	if n := b.mock.Stats().ByRoute["documents.toggle_visibility"]; n != 1 {
		t.Errorf("toggled %d times, want 1", n)
	}
	if s := b.client.Status(); s.LastSuccess == nil || s.LastFailure != nil || s.Breaker != "closed" || s.Name != "coffrefort" {
		t.Errorf("status = %+v", s)
	}
}

func TestReplayCreatesNoDuplicateAndKeepsVisibility(t *testing.T) {
	t.Parallel()
	b := setup(t, nil, nil)
	d := delivery("key-replay", "ESMS-7", pdf(2048), mapping.VisibilityShared)
	var ids []string
	for range 3 {
		rec, err := b.client.Deliver(context.Background(), d)
		if err != nil {
			t.Fatalf("Deliver: %v", err)
		}
		ids = append(ids, rec.RemoteID)
	}
	if ids[0] != ids[1] || ids[1] != ids[2] {
		t.Errorf("receipts %v, want the same document every time", ids)
	}
	if got := b.mock.CreatedPerKey(); len(got) != 1 || got["key-replay"] != 1 {
		t.Errorf("CreatedPerKey = %v, want key-replay: 1", got)
	}
	docs := b.mock.Documents()
	if len(docs) != 1 || docs[0].Private {
		t.Fatalf("documents = %+v, want one, shared", docs)
	}
	// The replayed answers still say private: true (they are the original
	// answer); the connector read the current state instead of toggling
	// the document back.
	st := b.mock.Stats()
	if st.ByRoute["documents.toggle_visibility"] != 1 || st.ByRoute["documents.get"] != 2 || st.DuplicateRequests != 2 {
		t.Errorf("toggles %d, reads %d, replays %d: want 1, 2, 2",
			st.ByRoute["documents.toggle_visibility"], st.ByRoute["documents.get"], st.DuplicateRequests)
	}
}

func TestToggleFailureIsFinishedByTheNextAttempt(t *testing.T) {
	t.Parallel()
	b := setup(t, nil, nil)
	d := delivery("key-toggle", "ESMS-8", pdf(1024), mapping.VisibilityShared)
	b.setFaults(t, platform.Rule{Operations: []string{"documents.toggle_visibility"}, Status: 502})
	_, err := b.client.Deliver(context.Background(), d)
	var ce *connectors.Error
	if !errors.As(err, &ce) || ce.Class != connectors.Retryable || ce.Status != 502 || ce.Op != "sharing document" {
		t.Fatalf("error = %v, want a Retryable 502 while sharing", err)
	}
	if docs := b.mock.Documents(); len(docs) != 1 || !docs[0].Private {
		t.Fatalf("documents = %+v, want one, still private", docs)
	}
	b.setFaults(t)
	if _, err := b.client.Deliver(context.Background(), d); err != nil {
		t.Fatalf("second attempt: %v", err)
	}
	if docs := b.mock.Documents(); len(docs) != 1 || docs[0].Private {
		t.Fatalf("documents = %+v, want one, shared", docs)
	}
}

func TestConflictUsesExistingBeneficiary(t *testing.T) {
	t.Parallel()
	// A search that finds nothing, as when two deposits race: the
	// creation then answers 409 with existing_id.
	blindSearch := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && r.URL.Path == "/api/v3/beneficiaries" && r.Header.Get("X-Test-Blind") == "" {
				next.ServeHTTP(httptest.NewRecorder(), r) // authenticate and count, then hide the answer
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, "[]")
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	b := setup(t, nil, blindSearch)
	if _, err := b.client.Deliver(context.Background(), delivery("key-a", "ESMS-9", pdf(100), mapping.VisibilityPrivate)); err != nil {
		t.Fatalf("first deposit: %v", err)
	}
	// Another connector (another Relais instance, empty cache).
	other := newClient(t, b, nil)
	if _, err := other.Deliver(context.Background(), delivery("key-b", "ESMS-9", pdf(200), mapping.VisibilityPrivate)); err != nil {
		t.Fatalf("second deposit: %v", err)
	}
	bens, docs := b.mock.Beneficiaries(), b.mock.Documents()
	if len(bens) != 1 || len(docs) != 2 || docs[1].BeneficiaryID != bens[0].ID {
		t.Fatalf("beneficiaries %+v, documents %+v: want both documents for the one beneficiary", bens, docs)
	}
	if log := b.mock.Log(); !hasStatus(log, "beneficiaries.create", http.StatusConflict) {
		t.Errorf("no 409 in the mock's log: %+v", log)
	}
}

func TestConcurrentDepositsForOneNewBeneficiary(t *testing.T) {
	t.Parallel()
	b := setup(t, nil, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Go(func() {
			_, err := b.client.Deliver(context.Background(), delivery(fmt.Sprintf("key-%d", i), "ESMS-10", pdf(512+i), mapping.VisibilityShared))
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	bens, docs := b.mock.Beneficiaries(), b.mock.Documents()
	if len(bens) != 1 || len(docs) != 8 {
		t.Fatalf("%d beneficiaries, %d documents: want 1 and 8", len(bens), len(docs))
	}
	for _, d := range docs {
		if d.BeneficiaryID != bens[0].ID || d.Private {
			t.Errorf("document %+v", d)
		}
	}
}

func TestClientErrorIsPermanentWithBody(t *testing.T) {
	t.Parallel()
	b := setup(t, nil, nil)
	d := delivery("key-bad", "ESMS-11", pdf(100), mapping.VisibilityPrivate)
	d.Document.Beneficiary.Email = "not an address"
	_, err := b.client.Deliver(context.Background(), d)
	var ce *connectors.Error
	if !errors.As(err, &ce) {
		t.Fatalf("error = %v, want a *connectors.Error", err)
	}
	if ce.Class != connectors.Permanent || ce.Status != http.StatusUnprocessableEntity || ce.Op != "creating beneficiary" ||
		ce.ContentType != "application/problem+json" || !strings.Contains(string(ce.Body), `"propertyPath":"email"`) {
		t.Errorf("error = %+v (body %s), want Permanent 422 with the violations", ce, ce.Body)
	}
	s := b.client.Status()
	if s.LastFailure == nil || s.LastError != "permanent (HTTP 422)" || s.LastSuccess != nil {
		t.Errorf("status = %+v", s)
	}
	if strings.Contains(s.LastError, "email") {
		t.Error("status carries the platform's body")
	}
}

func TestRetryableStatusesCarryRetryAfter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status     int
		retryAfter func(now time.Time) string
		want       time.Duration
	}{
		{503, func(time.Time) string { return "7" }, 7 * time.Second},
		{429, func(now time.Time) string { return now.Add(90 * time.Second).Format(http.TimeFormat) }, 90 * time.Second},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.status), func(t *testing.T) {
			t.Parallel()
			b := setup(t, nil, nil)
			b.setFaults(t, platform.Rule{Operations: []string{"documents.create"}, Status: tt.status, RetryAfter: tt.retryAfter(b.clock.Now())})
			_, err := b.client.Deliver(context.Background(), delivery("key-busy", "ESMS-12", pdf(100), mapping.VisibilityPrivate))
			var ce *connectors.Error
			if !errors.As(err, &ce) || ce.Class != connectors.Retryable || ce.Status != tt.status || ce.RetryAfter != tt.want {
				t.Fatalf("error = %#v, want Retryable %d with Retry-After %s", err, tt.status, tt.want)
			}
			if n := b.mock.Stats().ByRoute["documents.create"]; n != 1 {
				t.Errorf("upload sent %d times, want 1: a POST is not retried in-call", n)
			}
			if len(b.mock.Documents()) != 0 {
				t.Error("a document was created")
			}
		})
	}
}

func TestSearchIsRetriedInCall(t *testing.T) {
	t.Parallel()
	// Two 503s on the search, then the real answer.
	var mu sync.Mutex
	fails := 2
	b := setup(t, nil, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			fail := r.URL.Path == "/api/v3/beneficiaries" && r.Method == http.MethodGet && fails > 0
			if fail {
				fails--
			}
			mu.Unlock()
			if fail {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	if _, err := b.client.Deliver(context.Background(), delivery("key-s", "ESMS-13", pdf(100), mapping.VisibilityPrivate)); err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	if len(b.mock.Documents()) != 1 {
		t.Error("no document after two retried 503s")
	}
}

func TestExpiredTokenIsRefreshed(t *testing.T) {
	t.Parallel()
	b := setup(t, nil, nil)
	ctx := context.Background()
	if _, err := b.client.Deliver(ctx, delivery("key-t1", "ESMS-14", pdf(100), mapping.VisibilityPrivate)); err != nil {
		t.Fatalf("first deposit: %v", err)
	}
	// The safe's clock passes the token's hour: the next upload (the
	// beneficiary is cached) gets 401 "Expired JWT Token", the token is
	// dropped and the upload sent again with a fresh one.
	b.clock.Advance(2 * time.Hour)
	if _, err := b.client.Deliver(ctx, delivery("key-t2", "ESMS-14", pdf(70_000), mapping.VisibilityPrivate)); err != nil {
		t.Fatalf("deposit after expiry: %v", err)
	}
	if n := b.mock.Stats().TokensIssued; n != 2 {
		t.Errorf("tokens issued = %d, want 2", n)
	}
	if !hasStatus(b.mock.Log(), "documents.create", http.StatusUnauthorized) {
		t.Error("the expired token was never refused")
	}
	if got := b.mock.CreatedPerKey(); got["key-t2"] != 1 || len(b.mock.Documents()) != 2 {
		t.Errorf("CreatedPerKey = %v, want key-t2 once", got)
	}
}

func TestIntegrityMismatchIsPermanent(t *testing.T) {
	t.Parallel()
	// A safe that stores other bytes than it received: it answers another
	// hash.
	tamper := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPost || r.URL.Path != "/api/v3/documents" {
				next.ServeHTTP(w, r)
				return
			}
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			var doc map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &doc); err == nil && rec.Code == http.StatusCreated {
				doc["hash"] = strings.Repeat("0", 64)
				body, _ := json.Marshal(doc)
				rec.Body = bytes.NewBuffer(body)
			}
			w.Header().Set("Content-Type", rec.Header().Get("Content-Type"))
			w.WriteHeader(rec.Code)
			_, _ = w.Write(rec.Body.Bytes())
		})
	}
	b := setup(t, nil, tamper)
	_, err := b.client.Deliver(context.Background(), delivery("key-i", "ESMS-15", pdf(4096), mapping.VisibilityShared))
	var ce *connectors.Error
	if !errors.As(err, &ce) || ce.Class != connectors.Permanent || !strings.Contains(ce.Op, "integrity") {
		t.Fatalf("error = %v, want a Permanent integrity mismatch", err)
	}
	if n := b.mock.Stats().ByRoute["documents.toggle_visibility"]; n != 0 {
		t.Error("a mismatching document was shared")
	}
}

func TestContentChangedSinceAcceptanceIsNeverStored(t *testing.T) {
	t.Parallel()
	b := setup(t, nil, nil)
	for name, content := range map[string][]byte{
		"same size":   pdf(2000),
		"longer":      pdf(2500),
		"shorter":     pdf(1500),
		"other bytes": bytes.Repeat([]byte("x"), 2000),
	} {
		d := delivery("key-"+name, "ESMS-16", pdf(2000), mapping.VisibilityPrivate)
		if name == "same size" {
			content = append([]byte("!"), content[1:]...)
		}
		d.Document.Open = func(context.Context) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(content)), nil }
		_, err := b.client.Deliver(context.Background(), d)
		var ce *connectors.Error
		if !errors.As(err, &ce) || ce.Class != connectors.Permanent || !strings.Contains(ce.Op, "integrity_mismatch") {
			t.Errorf("%s: error = %v, want a Permanent integrity mismatch", name, err)
		}
	}
	if docs := b.mock.Documents(); len(docs) != 0 {
		t.Errorf("%d documents stored from changed content", len(docs))
	}
}

func TestOversizedDocumentIsRefusedBeforeAnyCall(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *coffrefort.Config) { c.MaxDocumentSize = 1000 }, nil)
	_, err := b.client.Deliver(context.Background(), delivery("key-big", "ESMS-17", pdf(1001), mapping.VisibilityPrivate))
	var ce *connectors.Error
	if !errors.As(err, &ce) || ce.Class != connectors.Permanent || !strings.Contains(ce.Op, "document_too_large") {
		t.Fatalf("error = %v, want Permanent document_too_large", err)
	}
	if n := b.mock.Stats().Requests; n != 0 {
		t.Errorf("the safe got %d requests", n)
	}
}

func TestUnsupportedDeliveriesArePermanent(t *testing.T) {
	t.Parallel()
	b := setup(t, nil, nil)
	noKey := delivery("", "ESMS-18", pdf(10), mapping.VisibilityPrivate)
	for name, d := range map[string]*connectors.Delivery{
		"nil":         nil,
		"no document": {ID: "x", IdempotencyKey: "k"},
		"no key":      noKey,
	} {
		if _, err := b.client.Deliver(context.Background(), d); connectors.ClassOf(err) != connectors.Permanent {
			t.Errorf("%s: error = %v, want Permanent", name, err)
		}
	}
	if n := b.mock.Stats().Requests; n != 0 {
		t.Errorf("the safe got %d requests", n)
	}
}

func TestStaleCachedBeneficiaryIsLookedUpAgain(t *testing.T) {
	t.Parallel()
	b := setup(t, nil, nil)
	if _, err := b.client.Deliver(context.Background(), delivery("key-1", "ESMS-19", pdf(100), mapping.VisibilityPrivate)); err != nil {
		t.Fatal(err)
	}
	b.mock.Reset() // the safe forgot everything: tokens, beneficiaries, documents
	if _, err := b.client.Deliver(context.Background(), delivery("key-2", "ESMS-19", pdf(100), mapping.VisibilityPrivate)); err != nil {
		t.Fatalf("deposit after the reset: %v", err)
	}
	if bens, docs := b.mock.Beneficiaries(), b.mock.Documents(); len(bens) != 1 || len(docs) != 1 || docs[0].BeneficiaryID != bens[0].ID {
		t.Errorf("beneficiaries %+v, documents %+v", bens, docs)
	}
}

func TestBreakerOpensDuringOutage(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *coffrefort.Config) {
		c.Stack.Breaker = connectors.BreakerConfig{ConsecutiveFailures: 3, OpenTimeout: time.Minute}
	}, nil)
	ctx := context.Background()
	if _, err := b.client.Deliver(ctx, delivery("key-0", "ESMS-20", pdf(100), mapping.VisibilityPrivate)); err != nil {
		t.Fatal(err)
	}
	now := b.clock.Now()
	// Retry-After: 0, or the outage would announce its end (an hour) and
	// the connector rightly would not retry in-call.
	b.setFaults(t, platform.Rule{Outage: &platform.Window{Start: now.Add(-time.Minute), End: now.Add(time.Hour)}, RetryAfter: "0"})

	// New beneficiaries, so each deposit starts with a search, tried three
	// times in-call: three failures in a row open the breaker.
	_, err := b.client.Deliver(ctx, delivery("key-1", "ESMS-21", pdf(100), mapping.VisibilityPrivate))
	if connectors.ClassOf(err) != connectors.Retryable {
		t.Fatalf("during the outage: %v, want Retryable", err)
	}
	if got := b.client.Status().Breaker; got != "open" {
		t.Fatalf("breaker = %s, want open", got)
	}
	before := b.mock.Stats().Requests
	_, err = b.client.Deliver(ctx, delivery("key-2", "ESMS-22", pdf(100), mapping.VisibilityPrivate))
	var boe *connectors.BreakerOpenError
	if !errors.As(err, &boe) || boe.Destination != "coffrefort" || boe.RetryIn <= 0 {
		t.Fatalf("error = %v, want a *BreakerOpenError", err)
	}
	if after := b.mock.Stats().Requests; after != before {
		t.Errorf("the open breaker let %d requests through", after-before)
	}
	if s := b.client.Status(); s.LastError != "retryable: breaker open" {
		t.Errorf("status = %+v", s)
	}

	// The outage ends: the breaker keeps refusing until its OpenTimeout
	// (a minute here) has passed; connectors' own tests cover the probe.
	b.setFaults(t)
	if _, err := b.client.Deliver(ctx, delivery("key-3", "ESMS-23", pdf(100), mapping.VisibilityPrivate)); !errors.As(err, &boe) || boe.RetryIn < 50*time.Second {
		t.Errorf("error = %v, want the breaker still open for most of a minute", err)
	}
}

func TestConfig(t *testing.T) {
	t.Parallel()
	c := coffrefort.Config{BaseURL: "https://safe.example/", ClientID: "id", ClientSecret: "secret"}.WithDefaults()
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if c.BaseURL != "https://safe.example" || c.Scope != coffrefort.DefaultScope || c.MaxDocumentSize != 20<<20 ||
		c.Stack.Auth.Kind != connectors.AuthOAuth2ClientCredentialsJSON || c.Stack.Auth.TokenURL != "https://safe.example/api/token" ||
		len(c.Stack.Auth.Scopes) != 5 || c.Stack.Timeout != 30*time.Second {
		t.Errorf("defaults = %+v", c)
	}
	for field, cfg := range map[string]coffrefort.Config{
		"base_url":          {ClientID: "id", ClientSecret: "s"},
		"client_id":         {BaseURL: "https://safe.example", ClientSecret: "s"},
		"client_secret":     {BaseURL: "https://safe.example", ClientID: "id"},
		"max_document_size": {BaseURL: "https://safe.example", ClientID: "id", ClientSecret: "s", MaxDocumentSize: -1},
		"stack.auth": {BaseURL: "https://safe.example", ClientID: "id", ClientSecret: "s",
			Stack: connectors.StackConfig{Auth: connectors.AuthConfig{Kind: connectors.AuthBearer, Token: "t"}}},
		"stack.breaker.failure_ratio": {BaseURL: "https://safe.example", ClientID: "id", ClientSecret: "s",
			Stack: connectors.StackConfig{Breaker: connectors.BreakerConfig{FailureRatio: 2}}},
	} {
		_, err := coffrefort.New("x", cfg, connectors.Deps{})
		var ce *connectors.ConfigError
		if !errors.As(err, &ce) || ce.Field != field {
			t.Errorf("New with a bad %s: %v", field, err)
		}
	}
}

func hasStatus(log []mockcoffrefort.LogEntry, route string, status int) bool {
	for _, e := range log {
		if e.Route == route && e.Status == status {
			return true
		}
	}
	return false
}
