package indicateurs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/mapping"
)

// Client is the indicator report connector. It is safe for concurrent use.
type Client struct {
	name  string
	cfg   Config
	stack *connectors.Stack
	now   func() time.Time
	last  connectors.LastOutcomes
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
	return &Client{name: name, cfg: cfg, stack: stack, now: deps.Now}, nil
}

// Name is the destination's name.
func (c *Client) Name() string { return c.name }

// CloseIdleConnections closes the idle connections.
func (c *Client) CloseIdleConnections() { c.stack.CloseIdleConnections() }

// Status reports the breaker, the rate limiter and the last outcomes.
func (c *Client) Status() connectors.Status { return c.last.Fill(c.stack.Status()) }

// receipt is what the connector reads of the answer.
type receipt struct {
	Number     *string `json:"receipt_number"`
	ReceivedAt string  `json:"received_at"`
}

const maxResponse = 1 << 20

// Deliver sends the indicator report of d.Report.
func (c *Client) Deliver(ctx context.Context, d *connectors.Delivery) (connectors.Receipt, error) {
	rec, err := c.deliver(ctx, d)
	c.last.Record(c.now(), err)
	return rec, err
}

func (c *Client) deliver(ctx context.Context, d *connectors.Delivery) (connectors.Receipt, error) {
	const op = "posting indicator report"
	year, err := check(d)
	if err != nil {
		return connectors.Receipt{}, &connectors.Error{Class: connectors.Permanent, Op: op + ": " + err.Error()}
	}
	r := d.Report
	target := c.cfg.BaseURL + "/v1/establishments/" + url.PathEscape(r.FINESS) + "/indicator-reports/" + strconv.Itoa(year)
	resp, err := c.stack.Do(ctx, op, func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(r.Body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
		req.Header.Set("Report-Version", strconv.Itoa(r.Version))
		req.Header.Set("Idempotency-Key", d.IdempotencyKey)
		return req, nil
	})
	if err != nil {
		return connectors.Receipt{}, err
	}
	defer resp.Body.Close()
	body, err := connectors.ReadAnswer(resp, op, c.now(), maxResponse, http.StatusCreated, http.StatusOK)
	if err != nil {
		if ce, ok := errors.AsType[*connectors.Error](err); ok && ce.Status >= 300 {
			ce.Code = problemCode(ce.Body)
		}
		return connectors.Receipt{}, err
	}
	var rc receipt
	if err := connectors.DecodeAnswer(op, body, &rc); err != nil {
		return connectors.Receipt{}, err
	}
	if rc.Number == nil || *rc.Number == "" {
		return connectors.Receipt{}, &connectors.Error{Class: connectors.Permanent, Op: op + `: contract: field "receipt_number" is missing from the answer`}
	}
	at, err := time.Parse(time.RFC3339, rc.ReceivedAt)
	if err != nil {
		at = c.now()
	}
	return connectors.Receipt{RemoteID: *rc.Number, At: at}, nil
}

// check refuses, before any call, what the endpoint cannot take, and
// returns the report's year.
func check(d *connectors.Delivery) (int, error) {
	r := d.Report
	switch {
	case r == nil || r.Kind != connectors.ReportIndicators:
		return 0, errors.New("unsupported_payload (not an indicators report delivery)")
	case d.IdempotencyKey == "" || len(r.Body) == 0:
		return 0, errors.New("the idempotency key and the body are required")
	case r.Version < 1:
		return 0, errors.New("the report version must be at least 1")
	case !mapping.ValidFINESS(r.FINESS):
		return 0, errors.New("the FINESS is not valid")
	}
	start, errS := time.Parse(time.DateOnly, string(r.Period.Start))
	end, errE := time.Parse(time.DateOnly, string(r.Period.End))
	if errS != nil || errE != nil || start.Year() != end.Year() {
		return 0, errors.New("the period must lie within one year (the endpoint takes yearly reports)")
	}
	return start.Year(), nil
}

// problemCode is the code of a problem details body ("" when the body is
// not one).
func problemCode(body []byte) string {
	var p struct {
		Code string `json:"code"`
	}
	if json.Unmarshal(body, &p) != nil {
		return ""
	}
	return p.Code
}
