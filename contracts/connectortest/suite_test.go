package connectortest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/contracts/connectortest"
	"github.com/relais-dev/relais/mocks/platform"
)

// The suite is checked against a small platform of its own: a parcel
// service whose deposits are deduplicated by the runtime
// (x-relais-idempotent), and a connector that follows the suite's
// decisions. A conforming connector passes; connectors with one
// deviation each fail exactly the subtests that show it.

const parcelContract = `openapi: 3.1.0
info:
  title: Parcel service (a test platform of the connector suite)
  version: 1.0.0
  description: Designed for the tests of connectortest.Run; no real platform.
security:
  - bearer: []
paths:
  /parcels:
    post:
      operationId: parcels.create
      summary: Deposit a parcel.
      x-relais-idempotent: true
      parameters:
        - name: Idempotency-Key
          in: header
          required: true
          schema: {type: string, minLength: 1}
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              additionalProperties: false
              required: [content]
              properties:
                content: {type: string, minLength: 1}
      responses:
        '201':
          description: Deposited (or the replay of the deposit).
          content:
            application/json:
              schema:
                type: object
                required: [id, created_at]
                properties:
                  id: {type: integer, minimum: 1}
                  created_at: {type: string, format: date-time}
        '400': {$ref: '#/components/responses/Problem'}
        '401': {$ref: '#/components/responses/Problem'}
        '409': {$ref: '#/components/responses/Problem'}
        '422': {$ref: '#/components/responses/Problem'}
        '429': {$ref: '#/components/responses/Problem'}
        '500': {$ref: '#/components/responses/Problem'}
        '503': {$ref: '#/components/responses/Problem'}
components:
  securitySchemes:
    bearer: {type: http, scheme: bearer}
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

const parcelToken = "parcel-secret"

// parcelMock is the parcel service: it stores one parcel per request that
// reaches it, and counts them by idempotency key.
type parcelMock struct {
	now func() time.Time

	mu     sync.Mutex
	next   int
	stored map[string]int
}

func (m *parcelMock) create(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	m.next++
	id := m.next
	m.stored[r.Header.Get("Idempotency-Key")]++
	m.mu.Unlock()
	platform.WriteJSON(w, http.StatusCreated, map[string]any{"id": id, "created_at": m.now().UTC().Format(time.RFC3339)})
}

func (m *parcelMock) count(key string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.stored[key]
}

func (m *parcelMock) total() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.next
}

func writeParcelProblem(w http.ResponseWriter, _ *http.Request, p platform.Problem) {
	w.Header().Set("Content-Type", "application/problem+json")
	platform.WriteJSON(w, p.Status, map[string]any{"status": p.Status, "detail": p.Detail})
}

func authenticateParcel(r *http.Request, _ string) (string, *platform.Problem) {
	if r.Header.Get("Authorization") != "Bearer "+parcelToken {
		return "", &platform.Problem{Kind: platform.KindUnauthorized, Detail: "Unknown token."}
	}
	return parcelToken, nil
}

// The deviations of the broken connectors.
const (
	conforming         = ""
	everyErrorRetry    = "every_error_retryable"
	newKeyOnRetry      = "new_key_on_retry"
	ignoresRetryAfter  = "ignores_retry_after"
	driftIsRetryable   = "drift_retryable"
	childVariantEnvVar = "RELAIS_CONNECTOR_SUITE_CHILD"
)

// parcelConnector delivers parcels, with one deviation when variant is set.
type parcelConnector struct {
	stack   *connectors.Stack
	base    string
	now     func() time.Time
	variant string
	last    connectors.LastOutcomes
}

var _ connectors.Connector = (*parcelConnector)(nil)

func (c *parcelConnector) Name() string { return "parcels" }

func (c *parcelConnector) Status() connectors.Status { return c.last.Fill(c.stack.Status()) }

func (c *parcelConnector) Deliver(ctx context.Context, d *connectors.Delivery) (connectors.Receipt, error) {
	rec, err := c.deliver(ctx, d)
	c.last.Record(c.now(), err)
	return rec, err
}

func (c *parcelConnector) deliver(ctx context.Context, d *connectors.Delivery) (connectors.Receipt, error) {
	const op = "depositing parcel"
	key := d.IdempotencyKey
	if c.variant == newKeyOnRetry && d.Attempt > 1 {
		key += "-retry"
	}
	resp, err := c.stack.Do(ctx, op, func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/parcels", strings.NewReader(`{"content":"parcel `+d.ID+`"}`))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", key)
		return req, nil
	})
	if err != nil {
		return connectors.Receipt{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		ce := connectors.Classify(resp, op, c.now())
		switch c.variant {
		case everyErrorRetry:
			ce.Class = connectors.Retryable
		case ignoresRetryAfter:
			ce.RetryAfter = 0
		}
		return connectors.Receipt{}, ce
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return connectors.Receipt{}, connectors.ClassifyTransportError(op, fmt.Errorf("reading the answer: %w", err))
	}
	contract := connectors.Permanent
	if c.variant == driftIsRetryable {
		contract = connectors.Retryable
	}
	var ans struct {
		ID        json.RawMessage `json:"id"`
		CreatedAt time.Time       `json:"created_at"`
	}
	if err := json.Unmarshal(raw, &ans); err != nil {
		if _, ok := errors.AsType[*json.SyntaxError](err); ok {
			// Not JSON: a cut or proxied answer; the key makes a retry safe.
			return connectors.Receipt{}, &connectors.Error{Class: connectors.Retryable, Op: op + ": decoding the answer", Err: err}
		}
		return connectors.Receipt{}, &connectors.Error{Class: contract, Op: op + ": contract: decoding the answer", Err: err}
	}
	var id json.Number
	dec := json.NewDecoder(bytes.NewReader(ans.ID))
	dec.UseNumber()
	if err := dec.Decode(&id); err != nil || len(ans.ID) == 0 {
		return connectors.Receipt{}, &connectors.Error{Class: contract, Op: op + ": contract: the answer's id is missing or not a number"}
	}
	return connectors.Receipt{RemoteID: id.String(), At: ans.CreatedAt}, nil
}

// parcelHarness is the suite's harness for the parcel connector variant.
func parcelHarness(variant string) connectortest.Harness {
	return connectortest.Harness{
		Operation: "parcels.create",
		RemoteID:  "/id",
		Delivery: func(key string) *connectors.Delivery {
			return &connectors.Delivery{ID: "dlv-" + key, IdempotencyKey: key, Attempt: 1}
		},
		Setup: func(t *testing.T, env connectortest.Env) connectortest.Pair {
			m := &parcelMock{now: env.Now, stored: map[string]int{}}
			rt := platform.New(platform.Config{
				Name:         "parcels",
				Contract:     []byte(parcelContract),
				Operations:   map[string]http.Handler{"parcels.create": http.HandlerFunc(m.create)},
				Errors:       writeParcelProblem,
				Authenticate: authenticateParcel,
				Now:          env.Now,
				Logger:       slog.New(slog.DiscardHandler),
			})
			srv := httptest.NewServer(rt)
			t.Cleanup(srv.Close)
			stack := env.Stack
			stack.Auth = connectors.AuthConfig{Kind: connectors.AuthBearer, Token: parcelToken}
			s, err := connectors.NewStack("parcels", stack, connectors.Deps{Metrics: connectors.NewMetrics(prometheus.NewRegistry()), Now: env.Now})
			if err != nil {
				t.Fatalf("building the stack: %v", err)
			}
			t.Cleanup(s.CloseIdleConnections)
			return connectortest.Pair{
				Connector:   &parcelConnector{stack: s, base: srv.URL, now: env.Now, variant: variant},
				Mock:        rt,
				Stored:      m.count,
				StoredTotal: m.total,
			}
		},
	}
}

func TestConnectorSuitePassesAConformingConnector(t *testing.T) {
	t.Parallel()
	connectortest.Run(t, parcelHarness(conforming))
}

// TestConnectorSuiteCatchesDeviations runs the suite, in a child process,
// against connectors that each deviate once, and checks that it fails, on
// the subtests that show the deviation.
func TestConnectorSuiteCatchesDeviations(t *testing.T) {
	t.Parallel()
	if os.Getenv(childVariantEnvVar) != "" {
		t.Skip("in a child process")
	}
	for variant, failing := range map[string][]string{
		everyErrorRetry:   {"documented_error/400", "documented_error/401", "documented_error/409", "documented_error/422"},
		newKeyOnRetry:     {"replay/sequential", "fault/truncate", "fault/malformed", "fault/latency/over_timeout"},
		ignoresRetryAfter: {"fault/error_rate/503", "fault/error_rate/429", "fault/outage"},
		driftIsRetryable:  {"fault/drift/rename", "fault/drift/remove", "fault/drift/retype"},
	} {
		t.Run(variant, func(t *testing.T) {
			t.Parallel()
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestConnectorSuiteChild$", "-test.count=1", "-test.v")
			cmd.Env = append(os.Environ(), childVariantEnvVar+"="+variant)
			out, err := cmd.CombinedOutput()
			if _, exited := errors.AsType[*exec.ExitError](err); !exited {
				t.Fatalf("the suite passed a connector with the deviation %s (err %v):\n%s", variant, err, out)
			}
			for _, name := range failing {
				if !bytes.Contains(out, []byte("--- FAIL: TestConnectorSuiteChild/"+name+" ")) {
					t.Errorf("subtest %s did not fail for the deviation %s", name, variant)
				}
			}
			if bytes.Contains(out, []byte("--- FAIL: TestConnectorSuiteChild/happy_path ")) && variant != newKeyOnRetry {
				t.Errorf("the deviation %s failed happy_path too: the suite blames the wrong subtest", variant)
			}
		})
	}
}

// TestConnectorSuiteChild is the child of TestConnectorSuiteCatchesDeviations.
func TestConnectorSuiteChild(t *testing.T) {
	variant := os.Getenv(childVariantEnvVar)
	if variant == "" {
		t.Skip("run by TestConnectorSuiteCatchesDeviations")
	}
	connectortest.Run(t, parcelHarness(variant))
}
