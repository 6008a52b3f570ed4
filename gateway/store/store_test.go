package store_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relais-dev/relais/gateway/store"
	"github.com/relais-dev/relais/gateway/store/storetest"
)

// TestConformance runs the storage suite against every backend.
func TestConformance(t *testing.T) {
	t.Parallel()
	for _, driver := range storetest.Drivers {
		t.Run(storetest.Name(driver), func(t *testing.T) {
			t.Parallel()
			s := storetest.Open(t, driver, nil)
			t.Run("Ready", func(t *testing.T) { testReady(t, s) })
			t.Run("APIKeys", func(t *testing.T) { testAPIKeys(t, s) })
			t.Run("Submissions", func(t *testing.T) { testSubmissions(t, s) })
			t.Run("IdempotencyRace", func(t *testing.T) { testIdempotencyRace(t, s) })
			t.Run("AttemptsAndReplay", func(t *testing.T) { testAttemptsAndReplay(t, s) })
			t.Run("Journal", func(t *testing.T) { testJournal(t, s) })
		})
	}
}

func testReady(t *testing.T, s *store.Store) {
	ctx := context.Background()
	if err := s.Ready(ctx); err != nil {
		t.Fatalf("Ready after Migrate: %v", err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate twice: %v", err)
	}
}

func testAPIKeys(t *testing.T, s *store.Store) {
	ctx := context.Background()
	ten, err := s.EnsureTenant(ctx, "ehpad-les-tilleuls")
	if err != nil {
		t.Fatalf("EnsureTenant: %v", err)
	}
	again, err := s.EnsureTenant(ctx, "ehpad-les-tilleuls")
	if err != nil || again.ID != ten.ID {
		t.Fatalf("EnsureTenant twice: %v, %q != %q", err, again.ID, ten.ID)
	}
	k, secret, err := s.CreateAPIKey(ctx, ten.ID, "dui", "")
	if err != nil {
		t.Fatalf("CreateAPIKey: %v", err)
	}
	if !strings.HasPrefix(secret, store.APIKeyPrefix) {
		t.Fatalf("secret %q lacks the prefix", secret)
	}
	got, err := s.Authenticate(ctx, secret)
	if err != nil || got.ID != k.ID || got.TenantID != ten.ID {
		t.Fatalf("Authenticate: %+v, %v", got, err)
	}
	if _, err := s.Authenticate(ctx, secret+"x"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Authenticate with a wrong secret: %v", err)
	}
	other, _ := s.EnsureTenant(ctx, "other")
	if err := s.RevokeAPIKey(ctx, other.ID, k.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another tenant revoked the key: %v", err)
	}
	if err := s.RevokeAPIKey(ctx, ten.ID, k.ID); err != nil {
		t.Fatalf("RevokeAPIKey: %v", err)
	}
	if _, err := s.Authenticate(ctx, secret); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a revoked key authenticated: %v", err)
	}
	keys, err := s.ListAPIKeys(ctx, ten.ID)
	if err != nil || len(keys) != 1 || keys[0].RevokedAt == nil {
		t.Fatalf("ListAPIKeys: %+v, %v", keys, err)
	}
	fixed := "sandbox-key-0123456789abcdef"
	k1, err := s.EnsureAPIKey(ctx, ten.ID, "sandbox", fixed)
	if err != nil {
		t.Fatalf("EnsureAPIKey: %v", err)
	}
	k2, err := s.EnsureAPIKey(ctx, ten.ID, "sandbox", fixed)
	if err != nil || k2.ID != k1.ID {
		t.Fatalf("EnsureAPIKey twice: %v, %q != %q", err, k2.ID, k1.ID)
	}
	if _, err := s.EnsureAPIKey(ctx, other.ID, "sandbox", fixed); err == nil {
		t.Fatal("EnsureAPIKey gave one tenant's key to another")
	}
}

func newSubmission(tenantID, key string, content []byte) store.NewSubmission {
	var chunks [][]byte
	for len(content) > 0 {
		n := min(len(content), store.ChunkSize)
		chunks = append(chunks, content[:n])
		content = content[n:]
	}
	return store.NewSubmission{
		TenantID: tenantID, APIKeyID: "key_test", IdempotencyKey: key, RequestHash: []byte(key),
		Kind: "document_deposit", Categories: []string{"identity", "document"},
		Payload: []byte(`{"beneficiary":{"last_name":"Dupont"}}`), Content: chunks,
		Destinations: []string{"coffrefort", "other"},
	}
}

func testSubmissions(t *testing.T, s *store.Store) {
	ctx := context.Background()
	ten, _ := s.EnsureTenant(ctx, "sub-tenant")
	content := bytes.Repeat([]byte("0123456789abcdef"), store.ChunkSize/16*2+100) // three chunks
	sub, replayed, err := s.CreateSubmission(ctx, newSubmission(ten.ID, "k-1", content))
	if err != nil || replayed {
		t.Fatalf("CreateSubmission: %v (replayed %v)", err, replayed)
	}
	if len(sub.Deliveries) != 2 || sub.Deliveries[0].Status != store.StatusQueued {
		t.Fatalf("deliveries: %+v", sub.Deliveries)
	}
	again, replayed, err := s.CreateSubmission(ctx, newSubmission(ten.ID, "k-1", content))
	if err != nil || !replayed || again.ID != sub.ID || len(again.Deliveries) != 2 {
		t.Fatalf("same key, same body: %+v, replayed %v, %v", again, replayed, err)
	}
	conflict := newSubmission(ten.ID, "k-1", content)
	conflict.RequestHash = []byte("another body")
	if _, _, err := s.CreateSubmission(ctx, conflict); !errors.Is(err, store.ErrIdempotencyConflict) {
		t.Fatalf("same key, other body: %v", err)
	}
	other, _ := s.EnsureTenant(ctx, "sub-other")
	if _, err := s.GetSubmission(ctx, other.ID, sub.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another tenant read the submission: %v", err)
	}
	if _, err := s.GetDelivery(ctx, other.ID, sub.Deliveries[0].ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another tenant read the delivery: %v", err)
	}
	got, err := s.GetSubmission(ctx, ten.ID, sub.ID)
	if err != nil || got.IdempotencyKey != "k-1" || strings.Join(got.Categories, ",") != "identity,document" {
		t.Fatalf("GetSubmission: %+v, %v", got, err)
	}

	d := sub.Deliveries[0]
	w, err := s.LoadWork(ctx, d.ID, d.JobID)
	if err != nil {
		t.Fatalf("LoadWork: %v", err)
	}
	if string(w.Payload) != `{"beneficiary":{"last_name":"Dupont"}}` || w.BlobID == "" {
		t.Fatalf("LoadWork payload %q blob %q", w.Payload, w.BlobID)
	}
	// Twice: a connector reopens the content when it retries in-call.
	for range 2 {
		r := s.OpenContent(ctx, w)
		back, err := io.ReadAll(r)
		_ = r.Close()
		if err != nil || !bytes.Equal(back, content) {
			t.Fatalf("content round trip: %d bytes, want %d, %v", len(back), len(content), err)
		}
	}
	if _, err := s.LoadWork(ctx, d.ID, d.JobID+1000); !errors.Is(err, store.ErrStaleJob) {
		t.Fatalf("LoadWork with another job: %v", err)
	}
}

func testIdempotencyRace(t *testing.T, s *store.Store) {
	ctx := context.Background()
	ten, _ := s.EnsureTenant(ctx, "race-tenant")
	const n = 8
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			sub, _, err := s.CreateSubmission(ctx, newSubmission(ten.ID, "same-key", []byte("x")))
			if err != nil {
				t.Errorf("CreateSubmission %d: %v", i, err)
				return
			}
			ids[i] = sub.ID
		})
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("concurrent submissions with one key got different ids: %v", ids)
		}
	}
}

func testAttemptsAndReplay(t *testing.T, s *store.Store) {
	ctx := context.Background()
	ten, _ := s.EnsureTenant(ctx, "attempt-tenant")
	sub, _, err := s.CreateSubmission(ctx, newSubmission(ten.ID, "k-attempt", nil))
	if err != nil {
		t.Fatalf("CreateSubmission: %v", err)
	}
	d := sub.Deliveries[0]
	next := time.Now().Add(time.Minute).UTC().Truncate(time.Microsecond)
	problem := []byte(`{"code":"upstream_unavailable","status":503}`)
	if err := s.RecordAttempt(ctx, store.Attempt{
		DeliveryID: d.ID, JobID: d.JobID, Status: store.StatusRetrying, Attempts: 1, NextAttemptAt: next, Error: problem,
		Journal: store.JournalEntry{TenantID: ten.ID, Operation: "delivery.attempt", DeliveryID: d.ID, Outcome: "retryable"},
	}); err != nil {
		t.Fatalf("RecordAttempt retrying: %v", err)
	}
	got, _ := s.GetDelivery(ctx, ten.ID, d.ID)
	if got.Status != store.StatusRetrying || got.Attempts != 1 || got.NextAttemptAt == nil || !got.NextAttemptAt.Equal(next) || string(got.LastError) != string(problem) {
		t.Fatalf("after a retryable attempt: %+v", got)
	}
	if _, err := s.ReplayDelivery(ctx, ten.ID, "key", d.ID); !errors.Is(err, store.ErrNotReplayable) {
		t.Fatalf("replaying a retrying delivery: %v", err)
	}
	if err := s.RecordAttempt(ctx, store.Attempt{DeliveryID: d.ID, JobID: d.JobID + 99, Status: store.StatusDead}); !errors.Is(err, store.ErrStaleJob) {
		t.Fatalf("recording a stale job: %v", err)
	}
	if err := s.RecordAttempt(ctx, store.Attempt{
		DeliveryID: d.ID, JobID: d.JobID, Status: store.StatusDead, Attempts: 2,
		Journal: store.JournalEntry{TenantID: ten.ID, Operation: "delivery.attempt", DeliveryID: d.ID, Outcome: "dead"},
	}); err != nil {
		t.Fatalf("RecordAttempt dead: %v", err)
	}
	other, _ := s.EnsureTenant(ctx, "attempt-other")
	if _, err := s.ReplayDelivery(ctx, other.ID, "key", d.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another tenant replayed: %v", err)
	}
	replayed, err := s.ReplayDelivery(ctx, ten.ID, "key", d.ID)
	if err != nil || replayed.Status != store.StatusQueued || replayed.Attempts != 0 || replayed.JobID == d.JobID || replayed.IdempotencyKey != d.IdempotencyKey {
		t.Fatalf("ReplayDelivery: %+v, %v", replayed, err)
	}
	if _, err := s.LoadWork(ctx, d.ID, d.JobID); !errors.Is(err, store.ErrStaleJob) {
		t.Fatalf("the old job still works the replayed delivery: %v", err)
	}
	if err := s.RecordAttempt(ctx, store.Attempt{
		DeliveryID: d.ID, JobID: replayed.JobID, Status: store.StatusDelivered, Attempts: 1,
		Receipt: &store.Receipt{RemoteID: "42", At: next},
		Journal: store.JournalEntry{TenantID: ten.ID, Operation: "delivery.attempt", DeliveryID: d.ID, Outcome: "delivered"},
	}); err != nil {
		t.Fatalf("RecordAttempt delivered: %v", err)
	}
	got, _ = s.GetDelivery(ctx, ten.ID, d.ID)
	if got.Status != store.StatusDelivered || got.Receipt == nil || got.Receipt.RemoteID != "42" || got.NextAttemptAt != nil {
		t.Fatalf("after delivery: %+v", got)
	}
	depth, err := s.QueueDepth(ctx)
	if err != nil || depth["available"] < 1 {
		t.Fatalf("QueueDepth: %v, %v", depth, err)
	}
}

func testJournal(t *testing.T, s *store.Store) {
	ctx := context.Background()
	if err := s.AppendJournal(ctx, store.JournalEntry{TenantID: "t", Operation: "apikey.revoke", Outcome: "ok"}); err != nil {
		t.Fatalf("AppendJournal: %v", err)
	}
	if _, err := s.SealJournal(ctx, 3); err != nil {
		t.Fatalf("SealJournal: %v", err)
	}
	for {
		n, err := s.SealJournal(ctx, 1000)
		if err != nil {
			t.Fatalf("SealJournal: %v", err)
		}
		if n == 0 {
			break
		}
	}
	n, err := s.VerifyJournal(ctx)
	if err != nil || n == 0 {
		t.Fatalf("VerifyJournal: %d, %v", n, err)
	}
	entries, err := s.Journal(ctx, "", 0, 1000)
	if err != nil || len(entries) != n {
		t.Fatalf("Journal: %d entries, %v; sealed %d", len(entries), err, n)
	}
	// The earlier subtests stored payloads naming "Dupont": no entry may
	// carry any of it.
	if len(entries) < 3 {
		t.Fatalf("journal has %d entries; the earlier subtests should have added more", len(entries))
	}
	for _, e := range entries {
		raw, _ := json.Marshal(e)
		if strings.Contains(string(raw), "Dupont") {
			t.Fatalf("journal entry %d holds payload: %s", e.Seq, raw)
		}
	}
}
