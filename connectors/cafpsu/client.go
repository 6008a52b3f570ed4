package cafpsu

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/relais-dev/relais/connectors"
)

// Client is the CAF PSU declaration connector. It is safe for concurrent
// use.
type Client struct {
	name     string
	cfg      Config
	stack    *connectors.Stack
	partners map[string]string // FINESS -> partner number
	now      func() time.Time

	mu                       sync.Mutex
	lastSuccess, lastFailure time.Time
	lastError                string
}

var _ connectors.Connector = (*Client)(nil)

// New builds the connector of destination name.
func New(name string, cfg Config, deps connectors.Deps) (*Client, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("configuring %s: %w", name, err)
	}
	deps = deps.WithDefaults()
	stack, err := connectors.NewStack(name, cfg.Stack, deps)
	if err != nil {
		return nil, fmt.Errorf("building the stack of %s: %w", name, err)
	}
	c := &Client{name: name, cfg: cfg, stack: stack, partners: map[string]string{}, now: deps.Now}
	for _, s := range cfg.Structures {
		c.partners[s.FINESS] = s.PartnerNumber
	}
	return c, nil
}

// Name is the destination's name.
func (c *Client) Name() string { return c.name }

// CloseIdleConnections closes the idle connections.
func (c *Client) CloseIdleConnections() { c.stack.CloseIdleConnections() }

// Status reports the breaker, the rate limiter and the last outcomes.
func (c *Client) Status() connectors.Status {
	s := c.stack.Status()
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.lastSuccess.IsZero() {
		t := c.lastSuccess
		s.LastSuccess = &t
	}
	if !c.lastFailure.IsZero() {
		t := c.lastFailure
		s.LastFailure = &t
		s.LastError = c.lastError
	}
	return s
}

// declaration is what the connector reads of the receipt.
type declaration struct {
	Number     string `json:"declaration_number"`
	ReceivedAt string `json:"received_at"`
}

const maxResponse = 1 << 20

// Deliver sends the PSU declaration of d.Report.
func (c *Client) Deliver(ctx context.Context, d *connectors.Delivery) (connectors.Receipt, error) {
	rec, err := c.deliver(ctx, d)
	c.record(err)
	return rec, err
}

func (c *Client) deliver(ctx context.Context, d *connectors.Delivery) (connectors.Receipt, error) {
	const op = "posting PSU declaration"
	r := d.Report
	if r == nil || r.Kind != connectors.ReportPSUDeclaration {
		return connectors.Receipt{}, &connectors.Error{Class: connectors.Permanent, Op: op + ": not a psu_declaration report delivery"}
	}
	partner, ok := c.partners[r.FINESS]
	if !ok {
		return connectors.Receipt{}, &connectors.Error{Class: connectors.Permanent, Op: op + ": no CAF partner number configured for this FINESS"}
	}
	if d.IdempotencyKey == "" || len(r.Body) == 0 {
		return connectors.Receipt{}, &connectors.Error{Class: connectors.Permanent, Op: op + ": the idempotency key and the body are required"}
	}
	target := c.cfg.BaseURL + "/v1/structures/" + url.PathEscape(partner) + "/declarations"
	resp, err := c.stack.Do(ctx, op, func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(r.Body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
		req.Header.Set("Idempotency-Key", d.IdempotencyKey)
		return req, nil
	})
	if err != nil {
		return connectors.Receipt{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			return connectors.Receipt{}, &connectors.Error{Class: connectors.Permanent, Op: op + ": contract: unexpected success status", Status: resp.StatusCode}
		}
		return connectors.Receipt{}, connectors.Classify(resp, op, c.now())
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return connectors.Receipt{}, connectors.ClassifyTransportError(op, fmt.Errorf("reading the answer: %w", err))
	}
	if len(body) > maxResponse {
		return connectors.Receipt{}, &connectors.Error{Class: connectors.Permanent, Op: op + ": answer_too_large"}
	}
	var decl declaration
	if err := json.Unmarshal(body, &decl); err != nil {
		if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
			return connectors.Receipt{}, &connectors.Error{Class: connectors.Permanent, Op: fmt.Sprintf("%s: contract: field %q is a JSON %s", op, te.Field, te.Value), Err: err}
		}
		return connectors.Receipt{}, &connectors.Error{Class: connectors.Retryable, Op: op + ": decoding the answer", Err: err}
	}
	if decl.Number == "" {
		return connectors.Receipt{}, &connectors.Error{Class: connectors.Permanent, Op: op + `: contract: field "declaration_number" is missing from the answer`}
	}
	at, err := time.Parse(time.RFC3339, decl.ReceivedAt)
	if err != nil {
		at = c.now()
	}
	return connectors.Receipt{RemoteID: decl.Number, At: at}, nil
}

func (c *Client) record(err error) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if err == nil {
		c.lastSuccess = now
		return
	}
	c.lastFailure = now
	if ce, ok := errors.AsType[*connectors.Error](err); ok && ce.Status != 0 {
		c.lastError = fmt.Sprintf("%s (HTTP %d)", ce.Class, ce.Status)
		return
	}
	c.lastError = connectors.ClassOf(err).String()
}
