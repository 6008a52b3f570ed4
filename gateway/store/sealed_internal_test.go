package store

import (
	"bytes"
	"context"
	"io"
	"testing"
)

// TestSealedRowsBoundToTheirRow copies sealed columns from one row to
// another, as someone with write access to the database could: a payload,
// a content chunk or a delivery's error opened anywhere but in its own row
// must fail, not read as another person's data.
func TestSealedRowsBoundToTheirRow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTestStore(t, nil)
	ten, _ := s.EnsureTenant(ctx, "t")
	var subs [2]Submission
	for i, key := range []string{"a", "b"} {
		content := bytes.Repeat([]byte(key), ChunkSize+1) // two chunks
		var err error
		subs[i], _, err = s.CreateSubmission(ctx, NewSubmission{
			TenantID: ten.ID, APIKeyID: "key_test", IdempotencyKey: key, RequestHash: []byte(key), Kind: "document_deposit",
			Payload: []byte(`{"beneficiary":"` + key + `"}`), Content: [][]byte{content[:ChunkSize], content[ChunkSize:]},
			Destinations: []string{"coffrefort", "other"},
		})
		if err != nil {
			t.Fatalf("CreateSubmission %s: %v", key, err)
		}
		d := subs[i].Deliveries[1] // the first stays pending, to load its work
		if err := s.RecordAttempt(ctx, Attempt{DeliveryID: d.ID, JobID: d.JobID, Status: StatusFailed, Attempts: 1,
			Error: []byte(`{"detail":"` + key + `"}`), Journal: JournalEntry{TenantID: ten.ID, Operation: "delivery.attempt"}}); err != nil {
			t.Fatalf("RecordAttempt %s: %v", key, err)
		}
	}
	a, b := subs[0], subs[1]
	readContent := func() error {
		w, err := s.LoadWork(ctx, b.Deliveries[0].ID, b.Deliveries[0].JobID)
		if err != nil {
			return err
		}
		r := s.OpenContent(ctx, w)
		defer r.Close()
		_, err = io.Copy(io.Discard, r)
		return err
	}
	if err := readContent(); err != nil {
		t.Fatalf("reading intact content: %v", err)
	}
	if _, err := s.GetDelivery(ctx, ten.ID, b.Deliveries[1].ID); err != nil {
		t.Fatalf("reading an intact delivery: %v", err)
	}

	for _, c := range []struct {
		name, save, copy, restore string
		args                      []any
		read                      func() error
	}{
		{"payload from another submission",
			`SELECT payload FROM relais_submissions WHERE id = $1`,
			`UPDATE relais_submissions SET payload = (SELECT payload FROM relais_submissions WHERE id = $1) WHERE id = $2`,
			`UPDATE relais_submissions SET payload = $1 WHERE id = $2`,
			[]any{a.ID, b.ID}, readContent},
		{"chunk from another blob",
			`SELECT data FROM relais_blob_chunks WHERE blob_id = $1 AND seq = 1`,
			`UPDATE relais_blob_chunks SET data = (SELECT data FROM relais_blob_chunks WHERE blob_id = $1 AND seq = 1) WHERE blob_id = $2 AND seq = 1`,
			`UPDATE relais_blob_chunks SET data = $1 WHERE blob_id = $2 AND seq = 1`,
			[]any{a.blobID, b.blobID}, readContent},
		{"chunk from another position",
			`SELECT data FROM relais_blob_chunks WHERE blob_id = $1 AND seq = 1`,
			`UPDATE relais_blob_chunks SET data = (SELECT data FROM relais_blob_chunks WHERE blob_id = $1 AND seq = 0) WHERE blob_id = $2 AND seq = 1`,
			`UPDATE relais_blob_chunks SET data = $1 WHERE blob_id = $2 AND seq = 1`,
			[]any{b.blobID, b.blobID}, readContent},
		{"error from another delivery",
			`SELECT last_error FROM relais_deliveries WHERE id = $1`,
			`UPDATE relais_deliveries SET last_error = (SELECT last_error FROM relais_deliveries WHERE id = $1) WHERE id = $2`,
			`UPDATE relais_deliveries SET last_error = $1 WHERE id = $2`,
			[]any{a.Deliveries[1].ID, b.Deliveries[1].ID}, func() error {
				_, err := s.GetDelivery(ctx, ten.ID, b.Deliveries[1].ID)
				return err
			}},
	} {
		var saved []byte
		target := c.args[1]
		err := s.b.queryRow(ctx, c.save, target).Scan(&saved)
		if err != nil {
			t.Fatalf("%s: saving: %v", c.name, err)
		}
		if _, err := s.b.exec(ctx, c.copy, c.args...); err != nil {
			t.Fatalf("%s: copying: %v", c.name, err)
		}
		if err := c.read(); err == nil {
			t.Errorf("%s: opened in the wrong row", c.name)
		}
		if _, err := s.b.exec(ctx, c.restore, saved, target); err != nil {
			t.Fatalf("%s: restoring: %v", c.name, err)
		}
		if err := c.read(); err != nil {
			t.Fatalf("%s: reading after restoring: %v", c.name, err)
		}
	}
}
