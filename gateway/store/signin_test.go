package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/relais-dev/relais/gateway/store"
	"github.com/relais-dev/relais/gateway/store/storetest"
	"github.com/relais-dev/relais/gateway/vault"
)

// clock is a settable clock shared by the stores of one test.
type clock struct{ us atomic.Int64 }

func newClock(t time.Time) *clock {
	c := &clock{}
	c.us.Store(t.UnixMicro())
	return c
}

func (c *clock) Now() time.Time               { return time.UnixMicro(c.us.Load()).UTC() }
func (c *clock) Advance(d time.Duration)      { c.us.Add(d.Microseconds()) }
func (c *clock) At(d time.Duration) time.Time { return c.Now().Add(d) }

// replicas opens n stores of driver on one fresh, migrated database, with
// one keyring and one clock: n replicas of the gateway.
func replicas(t *testing.T, driver string, n int, now *clock) []*store.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dsn, keys := storetest.DSN(t, driver), storetest.Keyring(t)
	out := make([]*store.Store, n)
	for i := range out {
		s, err := store.Open(ctx, store.Options{Driver: driver, DSN: dsn, Keyring: keys, Now: now.Now})
		if err != nil {
			t.Fatalf("opening %s replica %d: %v", driver, i, err)
		}
		t.Cleanup(s.Close)
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("migrating %s replica %d: %v", driver, i, err)
		}
		out[i] = s
	}
	return out
}

// TestSignInConformance runs the sign-in part of the storage suite against
// every backend, with two replicas on one database.
func TestSignInConformance(t *testing.T) {
	t.Parallel()
	for _, driver := range storetest.Drivers {
		t.Run(storetest.Name(driver), func(t *testing.T) {
			t.Parallel()
			now := newClock(time.Date(2026, 3, 2, 9, 15, 0, 0, time.UTC))
			rs := replicas(t, driver, 2, now)
			t.Run("PendingTakenOnceAnywhere", func(t *testing.T) { testPendingTakenOnce(t, rs, now) })
			t.Run("PendingExpires", func(t *testing.T) { testPendingExpires(t, rs[0], now) })
			t.Run("PendingRace", func(t *testing.T) { testPendingRace(t, rs) })
			t.Run("PendingBounded", func(t *testing.T) { testPendingBounded(t, rs[0], now) })
			t.Run("Sessions", func(t *testing.T) { testSessions(t, rs, now) })
			t.Run("SessionAccessTokenDropped", func(t *testing.T) { testSessionAccessToken(t, rs[0], now) })
			t.Run("SessionsBounded", func(t *testing.T) { testSessionsBounded(t, rs[0], now) })
			t.Run("Purge", func(t *testing.T) { testSignInPurge(t, rs[0], now) })
		})
	}
}

func testPendingTakenOnce(t *testing.T, rs []*store.Store, now *clock) {
	ctx := context.Background()
	p := store.SignInPending{State: "state-taken-once-0123456789abcdefghij", Data: []byte(`{"nonce":"n-1"}`),
		Created: now.Now(), Expires: now.At(10 * time.Minute)}
	if err := rs[0].PutSignInPending(ctx, p, 0); err != nil {
		t.Fatalf("PutSignInPending: %v", err)
	}
	if err := rs[0].PutSignInPending(ctx, p, 0); err == nil {
		t.Fatal("a second login with the same state was stored")
	}
	// Started on replica 0, taken on replica 1.
	got, err := rs[1].TakeSignInPending(ctx, p.State)
	if err != nil {
		t.Fatalf("TakeSignInPending on the other replica: %v", err)
	}
	if got.State != p.State || !bytes.Equal(got.Data, p.Data) || !got.Created.Equal(p.Created) || !got.Expires.Equal(p.Expires) {
		t.Fatalf("took %+v, want %+v", got, p)
	}
	for i, s := range rs {
		if _, err := s.TakeSignInPending(ctx, p.State); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("replica %d took a used state: %v", i, err)
		}
	}
	if _, err := rs[0].TakeSignInPending(ctx, "never-stored-state"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("an unknown state: %v", err)
	}
}

func testPendingExpires(t *testing.T, s *store.Store, now *clock) {
	ctx := context.Background()
	p := store.SignInPending{State: "state-that-expires-0123456789abcdef", Data: []byte("x"), Created: now.Now(), Expires: now.At(time.Minute)}
	if err := s.PutSignInPending(ctx, p, 0); err != nil {
		t.Fatalf("PutSignInPending: %v", err)
	}
	now.Advance(time.Minute)
	if _, err := s.TakeSignInPending(ctx, p.State); !errors.Is(err, store.ErrExpired) {
		t.Fatalf("taking an expired login: %v, want ErrExpired", err)
	}
	// Deleted all the same.
	if _, err := s.TakeSignInPending(ctx, p.State); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("an expired login was kept: %v", err)
	}
}

// testPendingRace has callbacks with one state race on both replicas: one
// wins, every other is told the state is unknown.
func testPendingRace(t *testing.T, rs []*store.Store) {
	ctx := context.Background()
	const racers = 8
	for round := range 5 {
		state := fmt.Sprintf("raced-state-%d-0123456789abcdefghijklmn", round)
		p := store.SignInPending{State: state, Data: []byte("d"), Created: time.Now(), Expires: time.Now().Add(time.Hour)}
		if err := rs[0].PutSignInPending(ctx, p, 0); err != nil {
			t.Fatalf("PutSignInPending: %v", err)
		}
		var (
			wg       sync.WaitGroup
			won      atomic.Int32
			start    = make(chan struct{})
			failures = make(chan error, racers)
		)
		for i := range racers {
			wg.Go(func() {
				<-start
				_, err := rs[i%len(rs)].TakeSignInPending(ctx, state)
				switch {
				case err == nil:
					won.Add(1)
				case !errors.Is(err, store.ErrNotFound):
					failures <- err
				}
			})
		}
		close(start)
		wg.Wait()
		close(failures)
		for err := range failures {
			t.Errorf("round %d: a racing take failed: %v", round, err)
		}
		if n := won.Load(); n != 1 {
			t.Fatalf("round %d: %d callbacks took the state, want exactly 1", round, n)
		}
	}
}

func testPendingBounded(t *testing.T, s *store.Store, now *clock) {
	ctx := context.Background()
	put := func(i int, ttl time.Duration) error {
		return s.PutSignInPending(ctx, store.SignInPending{State: fmt.Sprintf("bounded-%d-0123456789abcdefghijklmnopq", i),
			Data: []byte("d"), Created: now.Now(), Expires: now.At(ttl)}, 3)
	}
	// Start from a store with no live login left by other subtests.
	now.Advance(24 * time.Hour)
	if err := put(0, time.Second); err != nil {
		t.Fatal(err)
	}
	for i := 1; i < 3; i++ {
		if err := put(i, time.Hour); err != nil {
			t.Fatalf("login %d of 3: %v", i, err)
		}
	}
	if err := put(3, time.Hour); !errors.Is(err, store.ErrSignInFull) {
		t.Fatalf("a fourth live login: %v, want ErrSignInFull", err)
	}
	// An expired login does not count.
	now.Advance(time.Second)
	if err := put(4, time.Hour); err != nil {
		t.Fatalf("once one expired: %v", err)
	}
}

func testSessions(t *testing.T, rs []*store.Store, now *clock) {
	ctx := context.Background()
	sess := store.SignInSession{ID: "session-id-0123456789abcdefghijklmnopqrstu", Data: []byte(`{"csrf":"c-1","given_name":"Zoé"}`),
		AccessToken: "fc-access-token-1", AccessTokenExpiry: now.At(time.Minute), Created: now.Now(), Expires: now.At(30 * time.Minute)}
	if err := rs[0].CreateSignInSession(ctx, sess, 0); err != nil {
		t.Fatalf("CreateSignInSession: %v", err)
	}
	// Made on replica 0, read on replica 1.
	got, err := rs[1].SignInSession(ctx, sess.ID)
	if err != nil {
		t.Fatalf("SignInSession on the other replica: %v", err)
	}
	if got.ID != sess.ID || !bytes.Equal(got.Data, sess.Data) || got.AccessToken != sess.AccessToken ||
		!got.AccessTokenExpiry.Equal(sess.AccessTokenExpiry) || !got.Created.Equal(sess.Created) || !got.Expires.Equal(sess.Expires) {
		t.Fatalf("read %+v, want %+v", got, sess)
	}
	if _, err := rs[1].SignInSession(ctx, sess.ID+"x"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("an unknown session: %v", err)
	}
	// Logout on replica 1: gone everywhere. Deleting twice is fine.
	for range 2 {
		if err := rs[1].DeleteSignInSession(ctx, sess.ID); err != nil {
			t.Fatalf("DeleteSignInSession: %v", err)
		}
	}
	if _, err := rs[0].SignInSession(ctx, sess.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a deleted session: %v", err)
	}
	// A session past its Expires is not returned.
	short := store.SignInSession{ID: "short-session-0123456789abcdefghijklmnop", Data: []byte("d"), Created: now.Now(), Expires: now.At(time.Minute)}
	if err := rs[0].CreateSignInSession(ctx, short, 0); err != nil {
		t.Fatal(err)
	}
	now.Advance(time.Minute)
	if _, err := rs[0].SignInSession(ctx, short.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("an expired session: %v", err)
	}
}

func testSessionAccessToken(t *testing.T, s *store.Store, now *clock) {
	ctx := context.Background()
	sess := store.SignInSession{ID: "token-session-0123456789abcdefghijklmnop", Data: []byte("d"), AccessToken: "fc-token-2",
		AccessTokenExpiry: now.At(time.Minute), Created: now.Now(), Expires: now.At(30 * time.Minute)}
	if err := s.CreateSignInSession(ctx, sess, 0); err != nil {
		t.Fatal(err)
	}
	now.Advance(time.Minute)
	got, err := s.SignInSession(ctx, sess.ID)
	if err != nil || got.AccessToken != "" || !got.AccessTokenExpiry.IsZero() || !bytes.Equal(got.Data, sess.Data) {
		t.Fatalf("after the token's expiry: %+v, %v; want the session without its token", got, err)
	}
	// The read erased it: with the clock set back, it is still gone.
	now.Advance(-time.Minute)
	if got, err := s.SignInSession(ctx, sess.ID); err != nil || got.AccessToken != "" {
		t.Fatalf("the expired token was kept: %q, %v", got.AccessToken, err)
	}
	now.Advance(time.Minute)
	// A token already expired is not stored at all.
	late := store.SignInSession{ID: "late-token-0123456789abcdefghijklmnopqrs", Data: []byte("d"), AccessToken: "fc-token-3",
		AccessTokenExpiry: now.Now(), Created: now.Now(), Expires: now.At(time.Hour)}
	if err := s.CreateSignInSession(ctx, late, 0); err != nil {
		t.Fatal(err)
	}
	now.Advance(-time.Second)
	if got, err := s.SignInSession(ctx, late.ID); err != nil || got.AccessToken != "" {
		t.Fatalf("an expired token was stored: %q, %v", got.AccessToken, err)
	}
	now.Advance(time.Second)
}

func testSessionsBounded(t *testing.T, s *store.Store, now *clock) {
	ctx := context.Background()
	now.Advance(48 * time.Hour) // past every session of the other subtests
	create := func(i int) error {
		return s.CreateSignInSession(ctx, store.SignInSession{ID: fmt.Sprintf("bounded-session-%d-0123456789abcdefghij", i),
			Data: []byte("d"), Created: now.Now(), Expires: now.At(time.Duration(i+1) * time.Minute)}, 2)
	}
	for i := range 2 {
		if err := create(i); err != nil {
			t.Fatalf("session %d of 2: %v", i, err)
		}
	}
	if err := create(2); !errors.Is(err, store.ErrSignInFull) {
		t.Fatalf("a third live session: %v, want ErrSignInFull", err)
	}
	now.Advance(time.Minute)
	if err := create(3); err != nil {
		t.Fatalf("once one expired: %v", err)
	}
}

func testSignInPurge(t *testing.T, s *store.Store, now *clock) {
	ctx := context.Background()
	now.Advance(72 * time.Hour)
	// Whatever the other subtests left is expired now.
	for {
		n, err := s.PurgeSignIn(ctx, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if n == (store.SignInPurged{}) {
			break
		}
	}
	for i := range 3 {
		if err := s.PutSignInPending(ctx, store.SignInPending{State: fmt.Sprintf("purged-%d-0123456789abcdefghijklmnopqrs", i),
			Data: []byte("d"), Created: now.Now(), Expires: now.At(time.Duration(i+1) * time.Minute)}, 0); err != nil {
			t.Fatal(err)
		}
	}
	live := store.SignInSession{ID: "live-session-0123456789abcdefghijklmnopq", Data: []byte("d"), AccessToken: "tok",
		AccessTokenExpiry: now.At(time.Minute), Created: now.Now(), Expires: now.At(time.Hour)}
	dead := store.SignInSession{ID: "dead-session-0123456789abcdefghijklmnopq", Data: []byte("d"), Created: now.Now(), Expires: now.At(time.Minute)}
	for _, sess := range []store.SignInSession{live, dead} {
		if err := s.CreateSignInSession(ctx, sess, 0); err != nil {
			t.Fatal(err)
		}
	}
	now.Advance(2 * time.Minute)
	got, err := s.PurgeSignIn(ctx, 1)
	if err != nil || got != (store.SignInPurged{Pending: 1, Sessions: 1, AccessTokens: 1}) {
		t.Fatalf("first purge with limit 1: %+v, %v", got, err)
	}
	got, err = s.PurgeSignIn(ctx, 1000)
	if err != nil || got != (store.SignInPurged{Pending: 1}) {
		t.Fatalf("second purge: %+v, %v; want the other expired login", got, err)
	}
	// The live session stays, its token erased: visible with the clock
	// set back before the token's expiry.
	now.Advance(-2 * time.Minute)
	sess, err := s.SignInSession(ctx, live.ID)
	if err != nil || sess.AccessToken != "" {
		t.Fatalf("the live session after the purge: %+v, %v; want it without its token", sess, err)
	}
	if _, err := s.TakeSignInPending(ctx, "purged-2-0123456789abcdefghijklmnopqrs"); err != nil {
		t.Fatalf("the live login was purged: %v", err)
	}
	now.Advance(2 * time.Minute)
}

// BenchmarkSignIn measures the sign-in hot paths on each backend: one
// login (put then take), and the session read every signed-in page does.
func BenchmarkSignIn(b *testing.B) {
	for _, driver := range storetest.Drivers {
		b.Run(storetest.Name(driver), func(b *testing.B) {
			keys, err := vault.ParseKeys(vault.GenerateKeySpec("bench"), "")
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			s, err := store.Open(ctx, store.Options{Driver: driver, DSN: storetest.DSN(b, driver), Keyring: keys})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(s.Close)
			if err := s.Migrate(ctx); err != nil {
				b.Fatal(err)
			}
			data := bytes.Repeat([]byte("x"), 400) // a session's JSON
			b.Run("PutTakePending", func(b *testing.B) {
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					i++
					state := fmt.Sprintf("bench-state-%d-0123456789abcdefghijklmnopqrstuvwxyz", i)
					if err := s.PutSignInPending(ctx, store.SignInPending{State: state, Data: data[:200], Created: time.Now(),
						Expires: time.Now().Add(time.Hour)}, 10000); err != nil {
						b.Fatal(err)
					}
					if _, err := s.TakeSignInPending(ctx, state); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("GetSession", func(b *testing.B) {
				id := "bench-session-0123456789abcdefghijklmnopqrstuvwxyz"
				if err := s.CreateSignInSession(ctx, store.SignInSession{ID: id, Data: data, AccessToken: "token",
					AccessTokenExpiry: time.Now().Add(time.Hour), Created: time.Now(), Expires: time.Now().Add(time.Hour)}, 10000); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				for b.Loop() {
					if _, err := s.SignInSession(ctx, id); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
