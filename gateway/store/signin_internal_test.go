package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"testing"
	"time"
)

// TestSignInAtRest reads the sign-in tables as someone holding a copy of
// the database would: no state, session id, access token or content is
// there in clear, and a sealed column copied to another row does not open.
func TestSignInAtRest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTestStore(t, nil)
	now := time.Now()
	secrets := [][]byte{[]byte("STATE-a-0123456789abcdefghijklmnop"), []byte("NONCE-a"), []byte("SESSION-a-0123456789abcdefghijklmn"),
		[]byte("SESSION-b-0123456789abcdefghijklmn"), []byte("TOKEN-a"), []byte("Zoé Lefèvre")}
	if err := s.PutSignInPending(ctx, SignInPending{State: string(secrets[0]), Data: []byte(`{"nonce":"NONCE-a"}`),
		Created: now, Expires: now.Add(time.Hour)}, 0); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{string(secrets[2]), string(secrets[3])} {
		if err := s.CreateSignInSession(ctx, SignInSession{ID: id, Data: []byte(`{"name":"Zoé Lefèvre","of":"` + id + `"}`),
			AccessToken: "TOKEN-a", AccessTokenExpiry: now.Add(time.Hour), Created: now, Expires: now.Add(time.Hour)}, 0); err != nil {
			t.Fatal(err)
		}
	}

	dump := func(query string) [][]byte {
		r, err := s.b.query(ctx, query)
		if err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		defer r.Close()
		var out [][]byte
		for r.Next() {
			var key, keyID, payload []byte
			if err := r.Scan(&key, &keyID, &payload); err != nil {
				t.Fatal(err)
			}
			out = append(out, key, keyID, payload)
		}
		return out
	}
	cells := append(dump(`SELECT state_hash, key_id, payload FROM relais_signin_pending`),
		dump(`SELECT id_hash, key_id, payload FROM relais_signin_sessions`)...)
	cells = append(cells, dump(`SELECT id_hash, token_key_id, access_token FROM relais_signin_sessions`)...)
	for _, cell := range cells {
		for _, secret := range secrets {
			if bytes.Contains(cell, secret) {
				t.Fatalf("%q is stored in clear", secret)
			}
		}
	}
	sum := sha256.Sum256(secrets[0])
	if !bytes.Equal(cells[0], sum[:]) {
		t.Fatalf("the pending login is keyed by %x, want the state's SHA-256", cells[0])
	}

	// Copy session a's sealed content over session b's, then b's sealed
	// token over a's.
	hashA, hashB := hashSecret(string(secrets[2])), hashSecret(string(secrets[3]))
	if _, err := s.b.exec(ctx, `UPDATE relais_signin_sessions SET payload = (SELECT payload FROM relais_signin_sessions WHERE id_hash = $1)
WHERE id_hash = $2`, hashA, hashB); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SignInSession(ctx, string(secrets[3])); err == nil || errors.Is(err, ErrNotFound) {
		t.Fatalf("session b opened with session a's content: %v", err)
	}
	if _, err := s.b.exec(ctx, `UPDATE relais_signin_sessions SET access_token = (SELECT access_token FROM relais_signin_sessions WHERE id_hash = $1)
WHERE id_hash = $2`, hashB, hashA); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SignInSession(ctx, string(secrets[2])); err == nil || errors.Is(err, ErrNotFound) {
		t.Fatalf("session a opened with session b's access token: %v", err)
	}
}

// TestPurgeWorkerDrainsTheBacklog: the periodic job purges in batches
// until no expired entry is left, and leaves live ones.
func TestPurgeWorkerDrainsTheBacklog(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	s := openTestStore(t, func() time.Time { return now })
	const expired = 2*purgeBatch + 17
	err := s.b.inTx(ctx, func(tx txn) error {
		for i := range expired + 1 {
			exp := now.Add(-time.Second)
			if i == expired {
				exp = now.Add(time.Minute) // the live one
			}
			if _, err := tx.exec(ctx, `INSERT INTO relais_signin_pending (state_hash, key_id, payload, created_at, expires_at) VALUES ($1, 'k', x'00', $2, $3)`,
				hashSecret(fmt.Sprint("state-", i)), micros(now.Add(-time.Hour)), micros(exp)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	_, worker := s.PeriodicSignInPurgeJob(time.Minute)
	if err := worker.Work(ctx, nil); err != nil {
		t.Fatalf("purging: %v", err)
	}
	var left int
	if err := s.b.queryRow(ctx, `SELECT COUNT(*) FROM relais_signin_pending`).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 1 {
		t.Fatalf("%d pending logins left, want the live one", left)
	}
}
