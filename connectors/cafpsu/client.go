package cafpsu

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
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
	last     connectors.LastOutcomes
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
func (c *Client) Status() connectors.Status { return c.last.Fill(c.stack.Status()) }

// declaration is what the connector reads of the receipt.
type declaration struct {
	Number     string `json:"declaration_number"`
	ReceivedAt string `json:"received_at"`
}

const maxResponse = 1 << 20

// Deliver sends the PSU declaration of d.Report.
func (c *Client) Deliver(ctx context.Context, d *connectors.Delivery) (connectors.Receipt, error) {
	rec, err := c.deliver(ctx, d)
	c.last.Record(c.now(), err)
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
	body, err := connectors.ReadAnswer(resp, op, c.now(), maxResponse, http.StatusCreated)
	if err != nil {
		return connectors.Receipt{}, err
	}
	var decl declaration
	if err := connectors.DecodeAnswer(op, body, &decl); err != nil {
		return connectors.Receipt{}, err
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
