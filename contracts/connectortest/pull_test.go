package connectortest_test

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/contracts/connectortest"
	"github.com/relais-dev/relais/mapping"
	"github.com/relais-dev/relais/mocks/platform"
)

// The pull suite is checked against a small platform of its own: a rights
// desk that finds a person by NIR (POST /search gives a ticket), then reads
// their allowance and their registration with the ticket, behind OAuth2
// client credentials. A conforming puller passes; pullers with one
// deviation each fail exactly the subtests that show it.

const deskContract = `openapi: 3.1.0
info:
  title: Rights desk (a test platform of the pull suite)
  version: 1.0.0
  description: Designed for the tests of connectortest.RunPull; no real platform.
security:
  - bearer: []
paths:
  /token:
    post:
      operationId: token
      security: []
      x-relais-rate-limited: false
      requestBody:
        required: true
        content:
          application/x-www-form-urlencoded:
            schema:
              type: object
              required: [grant_type]
              properties:
                grant_type: {type: string, enum: [client_credentials]}
                client_id: {type: string}
                client_secret: {type: string}
      responses:
        '200':
          description: A token.
          content:
            application/json:
              schema:
                type: object
                required: [access_token, token_type, expires_in]
                properties:
                  access_token: {type: string}
                  token_type: {type: string}
                  expires_in: {type: integer}
        '400': {$ref: '#/components/responses/Problem'}
        '401': {$ref: '#/components/responses/Problem'}
  /search:
    post:
      operationId: persons.search
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              additionalProperties: false
              required: [nir]
              properties:
                nir: {type: string, pattern: '^[0-9]{15}$'}
      responses:
        '200':
          description: The outcome of the search.
          content:
            application/json:
              schema:
                type: object
                required: [found, ticket]
                properties:
                  found: {type: boolean}
                  ticket: {type: [string, 'null']}
        '400': {$ref: '#/components/responses/Problem'}
        '401': {$ref: '#/components/responses/Problem'}
        '403': {$ref: '#/components/responses/Problem'}
        '429': {$ref: '#/components/responses/Problem'}
        '500': {$ref: '#/components/responses/Problem'}
        '502': {$ref: '#/components/responses/Problem'}
        '503': {$ref: '#/components/responses/Problem'}
        '504': {$ref: '#/components/responses/Problem'}
  /allowance:
    get:
      operationId: allowance.read
      parameters:
        - {$ref: '#/components/parameters/Ticket'}
      responses:
        '200':
          description: The allowance.
          content:
            application/json:
              schema:
                type: object
                required: [amount, since]
                properties:
                  amount: {type: number, exclusiveMinimum: 0}
                  since: {type: string, format: date}
        '400': {$ref: '#/components/responses/Problem'}
        '401': {$ref: '#/components/responses/Problem'}
        '403': {$ref: '#/components/responses/Problem'}
        '404': {$ref: '#/components/responses/Problem'}
        '429': {$ref: '#/components/responses/Problem'}
        '500': {$ref: '#/components/responses/Problem'}
        '502': {$ref: '#/components/responses/Problem'}
        '503': {$ref: '#/components/responses/Problem'}
        '504': {$ref: '#/components/responses/Problem'}
  /registration:
    get:
      operationId: registration.read
      parameters:
        - {$ref: '#/components/parameters/Ticket'}
      responses:
        '200':
          description: The registration.
          content:
            application/json:
              schema:
                type: object
                required: [identifier, start, category]
                properties:
                  identifier: {type: string}
                  start: {type: string, format: date}
                  category: {type: integer, minimum: 1, maximum: 8}
        '400': {$ref: '#/components/responses/Problem'}
        '401': {$ref: '#/components/responses/Problem'}
        '403': {$ref: '#/components/responses/Problem'}
        '404': {$ref: '#/components/responses/Problem'}
        '429': {$ref: '#/components/responses/Problem'}
        '500': {$ref: '#/components/responses/Problem'}
        '502': {$ref: '#/components/responses/Problem'}
        '503': {$ref: '#/components/responses/Problem'}
        '504': {$ref: '#/components/responses/Problem'}
components:
  securitySchemes:
    bearer: {type: http, scheme: bearer}
  parameters:
    Ticket:
      name: X-Ticket
      in: header
      required: true
      schema: {type: string, minLength: 16}
  responses:
    Problem:
      description: An error.
      content:
        application/problem+json:
          schema:
            type: object
            required: [status, detail]
            properties:
              status: {type: integer}
              detail: {type: string}
`

// The desk's client, its persons and its tokens' lifetime.
const (
	deskClientID     = "desk-client"
	deskClientSecret = "desk-client-secret-0042"
	deskTokenTTL     = 10 * time.Minute
	deskKnownNIR     = "290013155501226"
	deskUnknownNIR   = "185057800608491"
	deskTicket       = "ticket-7f3a9c0e5b21d846"
)

// deskMock is the rights desk: one known person.
type deskMock struct {
	now    func() time.Time
	tokens platform.Tokens[string]
}

func (m *deskMock) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeDeskProblem(w, r, platform.Problem{Status: http.StatusBadRequest, Detail: "Not a form."})
		return
	}
	id, secret, basic := r.BasicAuth()
	if !basic {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != deskClientID || subtle.ConstantTimeCompare([]byte(secret), []byte(deskClientSecret)) != 1 {
		writeDeskProblem(w, r, platform.Problem{Status: http.StatusUnauthorized, Detail: "Unknown client."})
		return
	}
	now := m.now()
	tok := m.tokens.Issue(id, now, now.Add(deskTokenTTL))
	platform.WriteJSON(w, http.StatusOK, map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": int(deskTokenTTL / time.Second)})
}

func (m *deskMock) authenticate(r *http.Request, _ string) (string, *platform.Problem) {
	if _, _, live := m.tokens.Lookup(platform.BearerToken(r), m.now()); !live {
		return "", &platform.Problem{Kind: platform.KindUnauthorized, Status: http.StatusUnauthorized, Detail: "Unknown or expired token."}
	}
	return deskClientID, nil
}

func (m *deskMock) search(w http.ResponseWriter, r *http.Request) {
	var req struct {
		NIR string `json:"nir"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeDeskProblem(w, r, platform.Problem{Status: http.StatusBadRequest, Detail: "Not JSON."})
		return
	}
	if req.NIR != deskKnownNIR {
		platform.WriteJSON(w, http.StatusOK, map[string]any{"found": false, "ticket": nil})
		return
	}
	platform.WriteJSON(w, http.StatusOK, map[string]any{"found": true, "ticket": deskTicket})
}

func (m *deskMock) read(answer map[string]any) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Ticket") != deskTicket {
			writeDeskProblem(w, r, platform.Problem{Status: http.StatusNotFound, Detail: "Unknown ticket."})
			return
		}
		platform.WriteJSON(w, http.StatusOK, answer)
	}
}

func writeDeskProblem(w http.ResponseWriter, _ *http.Request, p platform.Problem) {
	w.Header().Set("Content-Type", "application/problem+json")
	platform.WriteJSON(w, p.Status, map[string]any{"status": p.Status, "detail": p.Detail})
}

// The deviations of the broken pullers.
const (
	pullConforming    = ""
	noProvenance      = "no_provenance"
	silentDrift       = "silent_drift"
	rateLimitAsError  = "rate_limit_as_error"
	logsSecret        = "logs_secret"
	notFoundIsError   = "not_found_is_error"
	pullFailsWhole    = "pull_fails_whole"
	badDemarche       = "bad_demarche"
	noTokenCache      = "no_token_cache"
	pullChildEnvVar   = "RELAIS_PULL_SUITE_CHILD"
	deskAllowance     = "allowance"
	deskRegistration  = "registration"
	deskMaxAnswerSize = 1 << 20
)

// deskPuller pulls from the rights desk, with one deviation when variant
// is set.
type deskPuller struct {
	stack   *connectors.Stack
	newStk  func() *connectors.Stack
	base    string
	now     func() time.Time
	log     *slog.Logger
	variant string
}

var _ connectors.Puller = (*deskPuller)(nil)

func (p *deskPuller) Name() string { return "desk" }

func (p *deskPuller) Operations() []connectors.PullOperation {
	travail := mapping.DemarcheTravail
	if p.variant == badDemarche {
		travail = "emploi"
	}
	return []connectors.PullOperation{
		{Name: deskAllowance, Demarche: mapping.DemarcheSocial, Category: mapping.DataBenefit},
		{Name: deskRegistration, Demarche: travail, Category: mapping.DataEmployment},
	}
}

func (p *deskPuller) Status() connectors.Status { return p.stack.Status() }

func (p *deskPuller) Pull(ctx context.Context, q *connectors.PullQuery) ([]connectors.PullItem, error) {
	ops := q.Operations
	if len(ops) == 0 {
		ops = []string{deskAllowance, deskRegistration}
	}
	for _, op := range ops {
		if op != deskAllowance && op != deskRegistration {
			return nil, fmt.Errorf("checking query: unknown operation %q: %w", op, connectors.ErrInvalidQuery)
		}
	}
	if q.Person.INS == nil {
		return nil, fmt.Errorf("checking query: the NIR is required: %w", connectors.ErrInvalidQuery)
	}
	if p.variant == logsSecret {
		p.log.LogAttrs(ctx, slog.LevelDebug, "pulling", slog.String("client_secret", deskClientSecret))
	}
	stack := p.stack
	if p.variant == noTokenCache {
		stack = p.newStk()
	}
	items := make([]connectors.PullItem, len(ops))
	ticket, err := p.search(ctx, stack, q.Person.INS.Value)
	for i, op := range ops {
		items[i].Operation = op
		if err != nil {
			items[i].Err = err
			continue
		}
		p.read(ctx, stack, ticket, &items[i])
	}
	if p.variant == pullFailsWhole {
		for _, it := range items {
			if it.Err != nil {
				return nil, it.Err
			}
		}
	}
	return items, nil
}

func (p *deskPuller) search(ctx context.Context, stack *connectors.Stack, nir string) (string, error) {
	const op = "searching person"
	body, err := p.send(ctx, stack, op, http.MethodPost, "/search", []byte(`{"nir":"`+nir+`"}`), "")
	if err != nil {
		return "", err
	}
	var ans struct {
		Found  *bool   `json:"found"`
		Ticket *string `json:"ticket"`
	}
	if err := p.decode(op, body, &ans); err != nil {
		return "", err
	}
	switch {
	case ans.Found == nil && p.variant != silentDrift:
		return "", contractError(op, "found")
	case ans.Found != nil && !*ans.Found:
		if p.variant == notFoundIsError {
			return "", errors.New("searching person: nobody")
		}
		return "", &connectors.Error{Class: connectors.NotFound, Op: op + ": nobody has this NIR", Outcome: connectors.OutcomeNotFound}
	case ans.Ticket == nil && p.variant != silentDrift:
		return "", contractError(op, "ticket")
	case ans.Ticket == nil:
		return "", nil
	}
	return *ans.Ticket, nil
}

func (p *deskPuller) read(ctx context.Context, stack *connectors.Stack, ticket string, item *connectors.PullItem) {
	op := "reading " + item.Operation
	body, err := p.send(ctx, stack, op, http.MethodGet, "/"+item.Operation, nil, ticket)
	if err != nil {
		item.Err = err
		return
	}
	now := p.now()
	switch item.Operation {
	case deskAllowance:
		var ans struct {
			Amount *float64      `json:"amount"`
			Since  *mapping.Date `json:"since"`
		}
		if err := p.decode(op, body, &ans); err != nil {
			item.Err = err
			return
		}
		if p.variant == silentDrift {
			ans.Amount, ans.Since = orZero(ans.Amount), orZero(ans.Since)
		}
		if ans.Amount == nil || ans.Since == nil {
			item.Err = contractError(op, firstMissing(map[string]bool{"amount": ans.Amount == nil, "since": ans.Since == nil}))
			return
		}
		item.Benefits = []mapping.Benefit{{
			Kind: mapping.KindPrimeActivite, Provider: mapping.ProviderCNAF, Status: mapping.StatusBeneficiary,
			Amount: ans.Amount, Period: mapping.BenefitPeriod{Year: now.Year(), Month: int(now.Month())}, StartDate: *ans.Since,
		}}
		item.Provider = mapping.ProviderCNAF
	case deskRegistration:
		var ans struct {
			Identifier *string       `json:"identifier"`
			Start      *mapping.Date `json:"start"`
			Category   *int          `json:"category"`
		}
		if err := p.decode(op, body, &ans); err != nil {
			item.Err = err
			return
		}
		if p.variant == silentDrift {
			ans.Identifier, ans.Start, ans.Category = orZero(ans.Identifier), orZero(ans.Start), orZero(ans.Category)
		}
		if ans.Identifier == nil || ans.Start == nil || ans.Category == nil {
			item.Err = contractError(op, firstMissing(map[string]bool{"identifier": ans.Identifier == nil, "start": ans.Start == nil, "category": ans.Category == nil}))
			return
		}
		item.Employment = &mapping.EmploymentRegistration{Identifier: *ans.Identifier, StartDate: *ans.Start, CategoryCode: fmt.Sprint(*ans.Category)}
		item.Provider = mapping.ProviderFranceTravail
	}
	if p.variant != noProvenance {
		item.FetchedAt = now
	}
}

// send makes one call and returns the body of a 2xx answer. The stack
// holds later calls after a 429 until its Retry-After has passed.
func (p *deskPuller) send(ctx context.Context, stack *connectors.Stack, op, method, path string, body []byte, ticket string) ([]byte, error) {
	resp, err := stack.Do(ctx, op, func(ctx context.Context) (*http.Request, error) {
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, method, p.base+path, rd)
		if err != nil {
			return nil, err
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if ticket != "" {
			req.Header.Set("X-Ticket", ticket)
		}
		return req, nil
	})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		ce := connectors.Classify(resp, op, p.now())
		if ce.Status == http.StatusTooManyRequests && p.variant == rateLimitAsError {
			ce.Outcome = connectors.OutcomeError
		}
		return nil, ce
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, deskMaxAnswerSize))
	if err != nil {
		return nil, connectors.ClassifyTransportError(op, fmt.Errorf("reading the answer: %w", err))
	}
	return raw, nil
}

// decode reads a success answer: not JSON is Retryable, a field of the
// wrong type a contract error naming it. The silent variant ignores both.
func (p *deskPuller) decode(op string, body []byte, v any) error {
	err := json.Unmarshal(body, v)
	if err == nil || p.variant == silentDrift {
		return nil
	}
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		return &connectors.Error{Class: connectors.Permanent, Op: fmt.Sprintf("%s: contract: field %q is a JSON %s", op, te.Field, te.Value), Outcome: connectors.OutcomeError, Err: err}
	}
	return &connectors.Error{Class: connectors.Retryable, Op: op + ": decoding the answer", Outcome: connectors.OutcomeError, Err: err}
}

func contractError(op, field string) error {
	return &connectors.Error{Class: connectors.Permanent, Op: fmt.Sprintf("%s: contract: field %q is missing", op, field), Outcome: connectors.OutcomeError}
}

func firstMissing(missing map[string]bool) string {
	var names []string
	for k, v := range missing {
		if v {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// orZero gives a pointer to the zero value in place of nil: what a
// lenient decoder hands on.
func orZero[T any](p *T) *T {
	if p == nil {
		return new(T)
	}
	return p
}

// deskHarness is the suite's harness for the desk puller variant.
func deskHarness(variant string) connectortest.PullHarness {
	person := func(nir string) *connectors.PullQuery {
		return &connectors.PullQuery{Person: mapping.Person{
			BirthFamilyName: "Martinez", GivenNames: []string{"Lucienne"}, Sex: mapping.SexFemale, BirthDate: "1990-01-06",
			BirthPlaceCOG: "31555", INS: &mapping.INS{Value: nir, System: mapping.INSSystemNIR},
		}}
	}
	return connectortest.PullHarness{
		Routes: map[string]connectortest.PullRoute{
			deskAllowance: {
				Calls: []string{"persons.search", "allowance.read"},
				Drift: []connectortest.PullField{{Call: "allowance.read", Path: "/amount"}, {Call: "persons.search", Path: "/ticket"}},
			},
			deskRegistration: {
				Calls: []string{"persons.search", "registration.read"},
				Drift: []connectortest.PullField{{Call: "registration.read", Path: "/identifier"}},
			},
		},
		TokenOperation: "token",
		TokenTTL:       deskTokenTTL,
		Known:          func() *connectors.PullQuery { return person(deskKnownNIR) },
		Unknown:        func() *connectors.PullQuery { return person(deskUnknownNIR) },
		Check: func(item *connectors.PullItem) error {
			switch {
			case item.Operation == deskAllowance && (len(item.Benefits) != 1 || *item.Benefits[0].Amount != 312.5):
				return fmt.Errorf("benefits %+v, want the allowance of 312.5", item.Benefits)
			case item.Operation == deskRegistration && (item.Employment == nil || item.Employment.Identifier != "DESK-0042"):
				return fmt.Errorf("employment %+v, want the registration DESK-0042", item.Employment)
			}
			return nil
		},
		Secrets:       []string{deskClientSecret},
		SecretHeaders: []string{"X-Ticket"},
		Setup: func(t *testing.T, env connectortest.PullEnv) connectortest.PullPair {
			m := &deskMock{now: env.Now}
			rt := platform.New(platform.Config{
				Name:     "desk",
				Contract: []byte(deskContract),
				Operations: map[string]http.Handler{
					"token":             http.HandlerFunc(m.token),
					"persons.search":    http.HandlerFunc(m.search),
					"allowance.read":    m.read(map[string]any{"amount": 312.5, "since": "2025-06-01"}),
					"registration.read": m.read(map[string]any{"identifier": "DESK-0042", "start": "2024-01-01", "category": 1}),
				},
				Errors:       writeDeskProblem,
				Authenticate: m.authenticate,
				Now:          env.Now,
				Logger:       slog.New(slog.DiscardHandler),
			})
			srv := httptest.NewServer(env.Wrap(rt))
			t.Cleanup(srv.Close)
			cfg := env.Stack
			cfg.Auth = connectors.AuthConfig{
				Kind: connectors.AuthOAuth2ClientCredentials, TokenURL: srv.URL + "/token",
				ClientID: deskClientID, ClientSecret: deskClientSecret,
			}
			deps := connectors.Deps{Metrics: connectors.NewMetrics(prometheus.NewRegistry()), Logger: env.Logger, Now: env.Now}
			newStack := func() *connectors.Stack {
				s, err := connectors.NewStack("desk", cfg, deps)
				if err != nil {
					t.Fatalf("building the stack: %v", err)
				}
				t.Cleanup(s.CloseIdleConnections)
				return s
			}
			return connectortest.PullPair{
				Puller: &deskPuller{stack: newStack(), newStk: newStack, base: srv.URL, now: env.Now, log: env.Logger, variant: variant},
				Mock:   rt,
			}
		},
	}
}

func TestPullSuitePassesAConformingPuller(t *testing.T) {
	t.Parallel()
	connectortest.RunPull(t, deskHarness(pullConforming))
}

// TestPullSuiteCatchesDeviations runs the suite, in a child process,
// against pullers that each deviate once, and checks that it fails, on the
// subtests that show the deviation, and not on the happy path unless the
// deviation is there.
func TestPullSuiteCatchesDeviations(t *testing.T) {
	t.Parallel()
	if os.Getenv(pullChildEnvVar) != "" {
		t.Skip("in a child process")
	}
	drifts := func(op, field string) []string {
		return []string{
			"fault/drift/" + op + "/" + field + "/rename",
			"fault/drift/" + op + "/" + field + "/remove",
			"fault/drift/" + op + "/" + field + "/retype",
		}
	}
	for variant, failing := range map[string][]string{
		noProvenance:     {"happy_path/allowance", "happy_path/registration", "all_operations"},
		silentDrift:      slices.Concat(drifts("allowance", "amount"), drifts("registration", "identifier")),
		rateLimitAsError: {"fault/status/429", "fault/status/429_http_date"},
		logsSecret:       {"happy_path/allowance", "happy_path/registration"},
		notFoundIsError:  {"not_found/allowance", "not_found/registration"},
		pullFailsWhole:   {"partial", "fault/status/503", "fault/outage"},
		badDemarche:      {"operations"},
		noTokenCache:     {"token/cached"},
	} {
		t.Run(variant, func(t *testing.T) {
			t.Parallel()
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestPullSuiteChild$", "-test.count=1", "-test.v")
			cmd.Env = append(os.Environ(), pullChildEnvVar+"="+variant)
			out, err := cmd.CombinedOutput()
			if _, exited := errors.AsType[*exec.ExitError](err); !exited {
				t.Fatalf("the suite passed a puller with the deviation %s (err %v):\n%s", variant, err, out)
			}
			for _, name := range failing {
				if !bytes.Contains(out, []byte("--- FAIL: TestPullSuiteChild/"+name+" ")) {
					t.Errorf("subtest %s did not fail for the deviation %s", name, variant)
				}
			}
			if variant != noProvenance && variant != logsSecret &&
				bytes.Contains(out, []byte("--- FAIL: TestPullSuiteChild/happy_path/")) {
				t.Errorf("the deviation %s failed a happy path too: the suite blames the wrong subtest", variant)
			}
		})
	}
}

// TestPullSuiteChild is the child of TestPullSuiteCatchesDeviations.
func TestPullSuiteChild(t *testing.T) {
	variant := os.Getenv(pullChildEnvVar)
	if variant == "" {
		t.Skip("run by TestPullSuiteCatchesDeviations")
	}
	connectortest.RunPull(t, deskHarness(variant))
}
