package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
)

// ---- Browser sign-in: pending logins and sessions -----------------------
//
// The store keeps sign-in state so that every replica sees it: a login
// started on one replica may come back on another, and a session made by
// one is accepted by all. The store knows nothing of OpenID Connect: it
// keeps sealed bytes under the hash of a secret key (the state, the session
// id), with a lifetime. gateway/ adapts these to gateway/identity's
// PendingStore and SessionStore.

// ErrExpired: the entry outlived its lifetime. TakeSignInPending deletes it
// all the same.
var ErrExpired = errors.New("store: expired")

// ErrSignInFull: the store already holds its maximum of live pending logins
// or sessions (a bound against floods, as the in-memory stores have).
var ErrSignInFull = errors.New("store: too many live sign-in entries")

// SignInPending is a login that left for an OpenID Provider and has not
// come back yet.
type SignInPending struct {
	// State is the login's state and its key. Only its SHA-256 is stored.
	State string
	// Data is what the callback needs (nonce, PKCE verifier, browser
	// binding...). It is sealed at rest, bound to the state's hash.
	Data []byte
	// Created is when the login started; Expires when it can no longer be
	// taken.
	Created, Expires time.Time
}

// SignInSession is one signed-in browser.
type SignInSession struct {
	// ID is the session id, the session cookie's value. Only its SHA-256
	// is stored.
	ID string
	// Data is the session's content, sealed at rest.
	Data []byte
	// AccessToken is the provider's access token, sealed apart from Data.
	// Reads return it only before AccessTokenExpiry, and the periodic purge
	// erases it after: it is never kept beyond its lifetime.
	AccessToken       string
	AccessTokenExpiry time.Time
	// Created is when the session was made; Expires when it ends.
	Created, Expires time.Time
}

func signInAAD(kind string, hash []byte) []byte {
	return append([]byte("signin-"+kind+":"), hash...)
}

// liveBelow is the condition of a capped insert into table: fewer than
// $max live rows (expires_at > $now). The inner LIMIT bounds the count.
func liveBelow(table, nowArg, maxArg string) string {
	return `(SELECT COUNT(*) FROM (SELECT 1 FROM ` + table + ` WHERE expires_at > ` + nowArg + ` LIMIT ` + maxArg + `) live) < ` + maxArg
}

// PutSignInPending stores a pending login under the hash of p.State. With
// maxLive > 0 it returns ErrSignInFull when that many unexpired logins are
// stored already.
func (s *Store) PutSignInPending(ctx context.Context, p SignInPending, maxLive int) error {
	if p.State == "" {
		return errors.New("store: a pending login needs a state")
	}
	hash := hashSecret(p.State)
	keyID, sealed := s.keys.Seal(p.Data, signInAAD("pending", hash))
	args := []any{hash, keyID, sealed, micros(p.Created), micros(p.Expires)}
	query := `INSERT INTO relais_signin_pending (state_hash, key_id, payload, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`
	if maxLive > 0 {
		query = `INSERT INTO relais_signin_pending (state_hash, key_id, payload, created_at, expires_at)
SELECT $1, $2, $3, $4, $5 WHERE ` + liveBelow("relais_signin_pending", "$6", "$7")
		args = append(args, micros(s.now()), maxLive)
	}
	n, err := s.b.exec(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("inserting pending login: %w", err)
	}
	if n == 0 {
		return ErrSignInFull
	}
	return nil
}

// TakeSignInPending deletes the pending login of state and returns it, in
// one statement (DELETE ... RETURNING): of two callbacks racing with the
// same state, on one replica or two, one gets it and the other
// ErrNotFound. A login past its Expires is deleted and reported as
// ErrExpired.
func (s *Store) TakeSignInPending(ctx context.Context, state string) (SignInPending, error) {
	hash := hashSecret(state)
	var (
		keyID            string
		sealed           []byte
		created, expires int64
	)
	err := s.b.inTx(ctx, func(tx txn) error {
		return tx.queryRow(ctx, `DELETE FROM relais_signin_pending WHERE state_hash = $1
RETURNING key_id, payload, created_at, expires_at`, hash).Scan(&keyID, &sealed, &created, &expires)
	})
	if errors.Is(err, errNoRows) {
		return SignInPending{}, ErrNotFound
	} else if err != nil {
		return SignInPending{}, fmt.Errorf("taking pending login: %w", err)
	}
	if !s.now().Before(fromMicros(expires)) {
		return SignInPending{}, ErrExpired
	}
	data, err := s.keys.Open(keyID, sealed, signInAAD("pending", hash))
	if err != nil {
		return SignInPending{}, fmt.Errorf("opening pending login: %w", err)
	}
	return SignInPending{State: state, Data: data, Created: fromMicros(created), Expires: fromMicros(expires)}, nil
}

// CreateSignInSession stores a session under the hash of sess.ID. With
// maxLive > 0 it returns ErrSignInFull when that many unexpired sessions
// are stored already. An AccessToken already expired is not stored.
func (s *Store) CreateSignInSession(ctx context.Context, sess SignInSession, maxLive int) error {
	if sess.ID == "" {
		return errors.New("store: a session needs an id")
	}
	now := s.now()
	hash := hashSecret(sess.ID)
	keyID, sealed := s.keys.Seal(sess.Data, signInAAD("session", hash))
	var (
		tokenKeyID     *string
		token          []byte
		tokenExpiresAt *int64
	)
	if sess.AccessToken != "" && now.Before(sess.AccessTokenExpiry) {
		k, t := s.keys.Seal([]byte(sess.AccessToken), signInAAD("token", hash))
		exp := micros(sess.AccessTokenExpiry)
		tokenKeyID, token, tokenExpiresAt = &k, t, &exp
	}
	args := []any{hash, keyID, sealed, tokenKeyID, token, tokenExpiresAt, micros(sess.Created), micros(sess.Expires)}
	query := `INSERT INTO relais_signin_sessions (id_hash, key_id, payload, token_key_id, access_token, token_expires_at, created_at, expires_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`
	if maxLive > 0 {
		query = `INSERT INTO relais_signin_sessions (id_hash, key_id, payload, token_key_id, access_token, token_expires_at, created_at, expires_at)
SELECT $1, $2, $3, $4, $5, $6, $7, $8 WHERE ` + liveBelow("relais_signin_sessions", "$9", "$10")
		args = append(args, micros(now), maxLive)
	}
	n, err := s.b.exec(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("inserting session: %w", err)
	}
	if n == 0 {
		return ErrSignInFull
	}
	return nil
}

// SignInSession returns the live session id, or ErrNotFound for an
// unknown, deleted or expired one. Its AccessToken is empty once expired;
// the first read that finds it expired erases it.
func (s *Store) SignInSession(ctx context.Context, id string) (SignInSession, error) {
	hash := hashSecret(id)
	var (
		keyID            string
		sealed, token    []byte
		tokenKeyID       *string
		tokenExpires     *int64
		created, expires int64
	)
	err := s.b.queryRow(ctx, `SELECT key_id, payload, token_key_id, access_token, token_expires_at, created_at, expires_at
FROM relais_signin_sessions WHERE id_hash = $1`, hash).Scan(&keyID, &sealed, &tokenKeyID, &token, &tokenExpires, &created, &expires)
	if errors.Is(err, errNoRows) {
		return SignInSession{}, ErrNotFound
	} else if err != nil {
		return SignInSession{}, fmt.Errorf("reading session: %w", err)
	}
	now := s.now()
	if !now.Before(fromMicros(expires)) {
		return SignInSession{}, ErrNotFound
	}
	data, err := s.keys.Open(keyID, sealed, signInAAD("session", hash))
	if err != nil {
		return SignInSession{}, fmt.Errorf("opening session: %w", err)
	}
	out := SignInSession{ID: id, Data: data, Created: fromMicros(created), Expires: fromMicros(expires)}
	if tokenKeyID == nil || tokenExpires == nil {
		return out, nil
	}
	if !now.Before(fromMicros(*tokenExpires)) {
		if _, err := s.b.exec(ctx, `UPDATE relais_signin_sessions SET token_key_id = NULL, access_token = NULL, token_expires_at = NULL
WHERE id_hash = $1`, hash); err != nil {
			return SignInSession{}, fmt.Errorf("erasing an expired access token: %w", err)
		}
		return out, nil
	}
	plain, err := s.keys.Open(*tokenKeyID, token, signInAAD("token", hash))
	if err != nil {
		return SignInSession{}, fmt.Errorf("opening access token: %w", err)
	}
	out.AccessToken, out.AccessTokenExpiry = string(plain), fromMicros(*tokenExpires)
	return out, nil
}

// DeleteSignInSession deletes the session id (at logout, or when a new
// login replaces it). Deleting an unknown session is not an error.
func (s *Store) DeleteSignInSession(ctx context.Context, id string) error {
	if _, err := s.b.exec(ctx, `DELETE FROM relais_signin_sessions WHERE id_hash = $1`, hashSecret(id)); err != nil {
		return fmt.Errorf("deleting session: %w", err)
	}
	return nil
}

// SignInPurged counts what one PurgeSignIn removed.
type SignInPurged struct {
	// Pending and Sessions are the expired rows deleted.
	Pending, Sessions int
	// AccessTokens are the expired access tokens erased from live sessions.
	AccessTokens int
}

// most is the largest of the counts: a purge that hit its limit on any
// step has more to do.
func (p SignInPurged) most() int { return max(p.Pending, p.Sessions, p.AccessTokens) }

// PurgeSignIn deletes up to limit expired pending logins and sessions, and
// erases up to limit expired access tokens. Reads never return expired
// entries anyway; this frees the space and makes sure no token outlives
// its lifetime on disk.
func (s *Store) PurgeSignIn(ctx context.Context, limit int) (SignInPurged, error) {
	now := micros(s.now())
	var out SignInPurged
	for _, step := range []struct {
		what  string
		n     *int
		query string
	}{
		{"expired pending logins", &out.Pending, `DELETE FROM relais_signin_pending WHERE state_hash IN
(SELECT state_hash FROM relais_signin_pending WHERE expires_at <= $1 LIMIT $2)`},
		{"expired sessions", &out.Sessions, `DELETE FROM relais_signin_sessions WHERE id_hash IN
(SELECT id_hash FROM relais_signin_sessions WHERE expires_at <= $1 LIMIT $2)`},
		{"expired access tokens", &out.AccessTokens, `UPDATE relais_signin_sessions SET token_key_id = NULL, access_token = NULL, token_expires_at = NULL
WHERE id_hash IN (SELECT id_hash FROM relais_signin_sessions WHERE access_token IS NOT NULL AND token_expires_at <= $1 LIMIT $2)`},
	} {
		n, err := s.b.exec(ctx, step.query, now, limit)
		if err != nil {
			return out, fmt.Errorf("purging %s: %w", step.what, err)
		}
		*step.n = int(n)
	}
	return out, nil
}

// PurgeSignInArgs is the periodic job that purges expired sign-in state.
type PurgeSignInArgs struct{}

// Kind implements river.JobArgs.
func (PurgeSignInArgs) Kind() string { return "relais.purge_signin" }

// PeriodicSignInPurgeJob returns the River periodic job that runs
// PurgeSignIn every interval, on the leader only, and its worker.
func (s *Store) PeriodicSignInPurgeJob(interval time.Duration) (*river.PeriodicJob, river.Worker[PurgeSignInArgs]) {
	job := river.NewPeriodicJob(river.PeriodicInterval(interval), func() (river.JobArgs, *river.InsertOpts) {
		return PurgeSignInArgs{}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: interval}}
	}, &river.PeriodicJobOpts{RunOnStart: true})
	return job, &purgeSignInWorker{s: s}
}

// purgeBatch bounds one purge statement, so that a backlog never holds
// SQLite's single writer long enough to be felt by sign-ins.
const purgeBatch = 1000

type purgeSignInWorker struct {
	river.WorkerDefaults[PurgeSignInArgs]
	s *Store
}

func (w *purgeSignInWorker) Work(ctx context.Context, _ *river.Job[PurgeSignInArgs]) error {
	for {
		n, err := w.s.PurgeSignIn(ctx, purgeBatch)
		if err != nil || n.most() < purgeBatch {
			return err
		}
	}
}
