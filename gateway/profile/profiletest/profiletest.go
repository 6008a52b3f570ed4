// Package profiletest gives tests a platform to look people up on: a
// fake platform served over HTTP (httptest) and a connectors.Puller that
// talks to it through the shared transport stack (breaker, rate limit,
// classification), so that lookups in tests cross a real network hop and
// real failure handling. It is for tests only.
package profiletest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/mapping"
)

// Answer is what the platform answers for one operation.
type Answer struct {
	// Status is the HTTP status; 0 or 200 answers Data.
	Status int
	// Code is the platform's error code, sent as {"code": ...} and read
	// back into connectors.Error.Code.
	Code string
	// Data is the operation's data.
	Data Data
	// Delay holds the answer back, unless the request is cancelled first.
	Delay time.Duration
}

// Data is one operation's data, as the fake platform sends it.
type Data struct {
	Identity   *mapping.Person                 `json:"identity,omitempty"`
	Household  *mapping.Household              `json:"household,omitempty"`
	Benefits   []mapping.Benefit               `json:"benefits,omitempty"`
	Employment *mapping.EmploymentRegistration `json:"employment,omitempty"`
	Payments   []mapping.Payment               `json:"payments,omitempty"`
	Provider   mapping.Provider                `json:"provider"`
	Cached     bool                            `json:"cached,omitempty"`
	FetchedAt  time.Time                       `json:"fetched_at,omitzero"`
}

// Call is one request the platform received.
type Call struct {
	Operation string
	// Person is the identity the puller sent, in the body.
	Person mapping.Person
	// Token is the citizen's access token the puller sent, if any.
	Token string
	// Recipient is the SIRET the puller sent.
	Recipient string
	// RawQuery is the request's query string: it must stay empty.
	RawQuery string
}

// Platform is a fake platform: POST /{operation} with the identity in the
// body answers the Answer set for that operation (404 when none is).
type Platform struct {
	URL string
	srv *httptest.Server

	mu      sync.Mutex
	answers map[string]Answer
	calls   []Call
}

// NewPlatform serves a platform for the test's duration.
func NewPlatform(tb testing.TB) *Platform {
	tb.Helper()
	p := &Platform{answers: map[string]Answer{}}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	p.URL = p.srv.URL
	tb.Cleanup(p.srv.Close)
	return p
}

// Set sets the answer of operation.
func (p *Platform) Set(operation string, a Answer) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.answers[operation] = a
}

// Answer returns the answer set for operation.
func (p *Platform) Answer(operation string) (Answer, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	a, ok := p.answers[operation]
	return a, ok
}

// Calls returns the requests received so far.
func (p *Platform) Calls() []Call {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Call(nil), p.calls...)
}

func (p *Platform) serve(w http.ResponseWriter, r *http.Request) {
	op := strings.TrimPrefix(r.URL.Path, "/")
	call := Call{Operation: op, Recipient: r.Header.Get("X-Recipient"), RawQuery: r.URL.RawQuery}
	call.Token, _ = strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if err := json.NewDecoder(r.Body).Decode(&call.Person); err != nil {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	p.mu.Lock()
	p.calls = append(p.calls, call)
	a, ok := p.answers[op]
	p.mu.Unlock()
	if !ok {
		a = Answer{Status: http.StatusNotFound, Code: "not_found"}
	}
	if a.Delay > 0 {
		t := time.NewTimer(a.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	if a.Status != 0 && a.Status != http.StatusOK {
		w.WriteHeader(a.Status)
		_ = json.NewEncoder(w).Encode(map[string]string{"code": a.Code})
		return
	}
	_ = json.NewEncoder(w).Encode(a.Data)
}

// PullerOptions configure a Puller.
type PullerOptions struct {
	// Stack configures the transport stack. Default: no retries, a breaker
	// that opens after 2 failures in a row and stays open a minute.
	Stack *connectors.StackConfig
	// Now is the clock of fetched_at when the platform does not say.
	// Default time.Now.
	Now func() time.Time
}

// Puller pulls from a Platform through a connectors.Stack.
type Puller struct {
	name  string
	ops   []connectors.PullOperation
	base  string
	stack *connectors.Stack
	now   func() time.Time
}

var _ connectors.Puller = (*Puller)(nil)

// NewPuller returns a puller named name offering ops, at the platform at
// baseURL.
func NewPuller(tb testing.TB, name, baseURL string, ops []connectors.PullOperation, opts PullerOptions) *Puller {
	tb.Helper()
	cfg := connectors.StackConfig{
		Timeout: 30 * time.Second,
		Retry:   connectors.RetryConfig{Max: -1},
		Breaker: connectors.BreakerConfig{ConsecutiveFailures: 2, OpenTimeout: time.Minute},
		// Benchmarks send thousands of lookups: the limit is not what
		// they measure.
		RateLimit: connectors.RateLimitConfig{RequestsPerSecond: 1e6, Burst: 1e6},
	}
	if opts.Stack != nil {
		cfg = *opts.Stack
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	st, err := connectors.NewStack(name, cfg, connectors.Deps{Now: opts.Now})
	if err != nil {
		tb.Fatalf("building stack of %s: %v", name, err)
	}
	tb.Cleanup(st.CloseIdleConnections)
	return &Puller{name: name, ops: ops, base: baseURL, stack: st, now: opts.Now}
}

// Name implements connectors.Puller.
func (p *Puller) Name() string { return p.name }

// Operations implements connectors.Puller.
func (p *Puller) Operations() []connectors.PullOperation { return p.ops }

// Status implements connectors.Puller.
func (p *Puller) Status() connectors.Status { return p.stack.Status() }

// Pull implements connectors.Puller: one request per operation, in
// parallel, the identity in the body.
func (p *Puller) Pull(ctx context.Context, q *connectors.PullQuery) ([]connectors.PullItem, error) {
	names := q.Operations
	if len(names) == 0 {
		for _, op := range p.ops {
			names = append(names, op.Name)
		}
	}
	body, err := json.Marshal(q.Person)
	if err != nil {
		return nil, fmt.Errorf("encoding person: %w", errors.Join(connectors.ErrInvalidQuery, err))
	}
	items := make([]connectors.PullItem, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() { items[i] = p.pullOne(ctx, name, body, q) })
	}
	wg.Wait()
	return items, nil
}

func (p *Puller) pullOne(ctx context.Context, op string, body []byte, q *connectors.PullQuery) connectors.PullItem {
	item := connectors.PullItem{Operation: op}
	resp, err := p.stack.Do(ctx, op, func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.base+"/"+op, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Recipient", q.Recipient)
		if q.AccessToken != "" {
			req.Header.Set("Authorization", "Bearer "+q.AccessToken.Reveal())
		}
		return req, nil
	})
	if err != nil {
		item.Err = err
		return item
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		ce := connectors.Classify(resp, op, p.now())
		var code struct{ Code string }
		if json.Unmarshal(ce.Body, &code) == nil {
			ce.Code = code.Code
		}
		item.Err = ce
		return item
	}
	var d Data
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
		item.Err = &connectors.Error{Class: connectors.Permanent, Op: op, Status: resp.StatusCode, Err: err}
		return item
	}
	item.Identity, item.Household, item.Benefits, item.Employment, item.Payments = d.Identity, d.Household, d.Benefits, d.Employment, d.Payments
	item.Provider, item.Cached, item.FetchedAt = d.Provider, d.Cached, d.FetchedAt
	if item.FetchedAt.IsZero() {
		item.FetchedAt = p.now()
	}
	return item
}
