package web

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"sync"
	"time"

	"github.com/relais-dev/relais/gateway/identity/oidc"
)

// Defaults of the in-memory session store.
const (
	DefaultSessionMax = 10000
)

// ErrSessionNotFound is returned by SessionStore.Get for an unknown, deleted
// or expired session.
var ErrSessionNotFound = errors.New("session not found")

// ErrSessionsFull is returned by SessionStore.Create when the store holds
// its maximum of live sessions.
var ErrSessionsFull = errors.New("too many sessions")

// Session is one signed-in browser. It lives server-side only: the browser
// holds its ID and nothing else. It is a plain struct of strings and
// times, so that a store may keep it as (sealed) JSON.
type Session struct {
	// ID is the random 256-bit identifier (base64url) in the cookie.
	ID string
	// CSRF is the synchronizer token the session's forms carry.
	CSRF string
	// Provider is the oidc.Config.Name the person signed in with.
	Provider string
	// Profile is the provider's profile: the professional space is for
	// oidc.ProfileProConnect sessions only.
	Profile oidc.Profile
	// Subject is the provider's sub.
	Subject string
	// GivenName and FamilyName are shown on /compte (a ProConnect
	// professional's FamilyName is their usual_name).
	GivenName, FamilyName string
	// Email is the e-mail the provider released, if any.
	Email string
	// SIRET is a ProConnect professional's establishment.
	SIRET string
	// Organisation is the name of a ProConnect professional's
	// organisation: the tenant their SIRET is registered for.
	Organisation string
	// PersonRef is the person reference of a citizen (FranceConnect).
	PersonRef string
	// TenantID is the tenant the session acts for: the tenant of the
	// consent recorded at a FranceConnect login, or the organisation a
	// ProConnect professional's SIRET binds them to.
	TenantID string
	// ConsentID is the consent recorded at a FranceConnect login; empty
	// once the person withdrew it.
	ConsentID string
	// IDToken is the id_token, for id_token_hint at logout.
	IDToken string
	// AccessToken is the provider's access token (FranceConnect: for the
	// API Particulier calls under the consent). It is kept in memory only
	// and dropped once AccessTokenExpiry has passed.
	AccessToken       string
	AccessTokenExpiry time.Time
	// Created and Expires bound the session.
	Created, Expires time.Time
}

// LiveAccessToken returns the access token while it is valid at now, or ""
// once it has expired.
func (s Session) LiveAccessToken(now time.Time) string {
	if s.AccessToken == "" || !now.Before(s.AccessTokenExpiry) {
		return ""
	}
	return s.AccessToken
}

// SessionStore keeps sessions server-side. Get must not return an expired
// session.
type SessionStore interface {
	Create(ctx context.Context, s Session) error
	// Get returns the live session id, or ErrSessionNotFound.
	Get(ctx context.Context, id string) (Session, error)
	// Delete removes a session; deleting an unknown one is not an error.
	Delete(ctx context.Context, id string) error
}

var _ SessionStore = (*MemorySessions)(nil)

// MemorySessions is a SessionStore in memory, bounded by each session's
// Expires and by a maximum count. It suits a single replica and tests; it
// starts no goroutine: expired sessions are swept on Create, and expired
// access tokens are dropped on Get.
type MemorySessions struct {
	mu  sync.Mutex
	m   map[string]Session
	max int
	now func() time.Time
}

// NewMemorySessions returns a store; maxEntries <= 0 means
// DefaultSessionMax, now nil means time.Now.
func NewMemorySessions(maxEntries int, now func() time.Time) *MemorySessions {
	if maxEntries <= 0 {
		maxEntries = DefaultSessionMax
	}
	if now == nil {
		now = time.Now
	}
	return &MemorySessions{m: map[string]Session{}, max: maxEntries, now: now}
}

// Create stores s under s.ID, sweeping expired sessions first.
func (m *MemorySessions) Create(_ context.Context, s Session) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if len(m.m) >= m.max {
		for id, old := range m.m {
			if !now.Before(old.Expires) {
				delete(m.m, id)
			}
		}
	}
	if len(m.m) >= m.max {
		return ErrSessionsFull
	}
	m.m[s.ID] = s
	return nil
}

// Get returns the live session id; an expired one is deleted. An expired
// access token is erased from the stored session.
func (m *MemorySessions) Get(_ context.Context, id string) (Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.m[id]
	if !ok {
		return Session{}, ErrSessionNotFound
	}
	now := m.now()
	if !now.Before(s.Expires) {
		delete(m.m, id)
		return Session{}, ErrSessionNotFound
	}
	if s.AccessToken != "" && !now.Before(s.AccessTokenExpiry) {
		s.AccessToken, s.AccessTokenExpiry = "", time.Time{}
		m.m[id] = s
	}
	return s, nil
}

// Delete removes the session id.
func (m *MemorySessions) Delete(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.m, id)
	return nil
}

// Len returns the number of stored sessions, expired ones included.
func (m *MemorySessions) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.m)
}

// randomToken returns 256 random bits, base64url without padding.
func randomToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b[:])
}
