package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/relais-dev/relais/gateway/identity/oidc"
	"github.com/relais-dev/relais/gateway/identity/web"
	"github.com/relais-dev/relais/gateway/store"
)

// Sign-in state lives in the store, so that every replica behind a load
// balancer shares it: a login started on one replica may come back on
// another, and a session made by one is accepted by all. gateway/store keeps
// sealed bytes under the hash of a key and knows nothing of OpenID Connect;
// the two adapters below turn gateway/identity's Pending and Session into
// those bytes. They live here, where both sides are imported, so that
// neither store nor identity imports the other.

var (
	_ oidc.PendingStore = (*StorePending)(nil)
	_ web.SessionStore  = (*StoreSessions)(nil)
)

// StorePending is an oidc.PendingStore on the store: pending logins keyed
// by the hash of their state, their content sealed, taken once across
// every replica.
type StorePending struct {
	store *store.Store
	ttl   time.Duration
	max   int
}

// NewStorePending returns the store's pending logins. A login lives ttl
// (<= 0: oidc.DefaultPendingTTL); at most maxLive may be live at once
// (<= 0: oidc.DefaultPendingMax).
func NewStorePending(st *store.Store, ttl time.Duration, maxLive int) *StorePending {
	if ttl <= 0 {
		ttl = oidc.DefaultPendingTTL
	}
	if maxLive <= 0 {
		maxLive = oidc.DefaultPendingMax
	}
	return &StorePending{store: st, ttl: ttl, max: maxLive}
}

// Put implements oidc.PendingStore: p lives until p.Created plus the TTL.
func (s *StorePending) Put(ctx context.Context, p oidc.Pending) error {
	state := p.State
	p.State = "" // the key: stored as its hash only
	data, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encoding pending login: %w", err)
	}
	err = s.store.PutSignInPending(ctx, store.SignInPending{State: state, Data: data, Created: p.Created, Expires: p.Created.Add(s.ttl)}, s.max)
	if errors.Is(err, store.ErrSignInFull) {
		return oidc.ErrPendingFull
	}
	return err
}

// Take implements oidc.PendingStore.
func (s *StorePending) Take(ctx context.Context, state string) (oidc.Pending, error) {
	sp, err := s.store.TakeSignInPending(ctx, state)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return oidc.Pending{}, oidc.ErrPendingNotFound
	case errors.Is(err, store.ErrExpired):
		return oidc.Pending{}, oidc.ErrPendingExpired
	case err != nil:
		return oidc.Pending{}, err
	}
	var p oidc.Pending
	if err := json.Unmarshal(sp.Data, &p); err != nil {
		return oidc.Pending{}, fmt.Errorf("decoding pending login: %w", err)
	}
	p.State = state
	return p, nil
}

// StoreSessions is a web.SessionStore on the store: sessions keyed by the
// hash of their id, their content sealed, the provider's access token
// sealed apart and erased once expired.
type StoreSessions struct {
	store *store.Store
	max   int
}

// DefaultMaxSessions bounds the live sessions of StoreSessions.
const DefaultMaxSessions = 100000

// NewStoreSessions returns the store's sessions; at most maxLive may be
// live at once (<= 0: DefaultMaxSessions).
func NewStoreSessions(st *store.Store, maxLive int) *StoreSessions {
	if maxLive <= 0 {
		maxLive = DefaultMaxSessions
	}
	return &StoreSessions{store: st, max: maxLive}
}

// Create implements web.SessionStore.
func (s *StoreSessions) Create(ctx context.Context, sess web.Session) error {
	content := sess
	// The id is the key, stored as its hash only; the access token is
	// stored apart, so that it can be erased on its own.
	content.ID, content.AccessToken, content.AccessTokenExpiry = "", "", time.Time{}
	data, err := json.Marshal(content)
	if err != nil {
		return fmt.Errorf("encoding session: %w", err)
	}
	err = s.store.CreateSignInSession(ctx, store.SignInSession{
		ID: sess.ID, Data: data, AccessToken: sess.AccessToken, AccessTokenExpiry: sess.AccessTokenExpiry,
		Created: sess.Created, Expires: sess.Expires,
	}, s.max)
	if errors.Is(err, store.ErrSignInFull) {
		return web.ErrSessionsFull
	}
	return err
}

// Get implements web.SessionStore.
func (s *StoreSessions) Get(ctx context.Context, id string) (web.Session, error) {
	rec, err := s.store.SignInSession(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return web.Session{}, web.ErrSessionNotFound
	} else if err != nil {
		return web.Session{}, err
	}
	var sess web.Session
	if err := json.Unmarshal(rec.Data, &sess); err != nil {
		return web.Session{}, fmt.Errorf("decoding session: %w", err)
	}
	sess.ID, sess.AccessToken, sess.AccessTokenExpiry = id, rec.AccessToken, rec.AccessTokenExpiry
	return sess, nil
}

// Delete implements web.SessionStore.
func (s *StoreSessions) Delete(ctx context.Context, id string) error {
	return s.store.DeleteSignInSession(ctx, id)
}
