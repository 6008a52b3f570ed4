package tddui

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/relais-dev/relais/connectors"
)

// ContentType is the media type of the Bundles sent.
const ContentType = "application/fhir+json"

// Client is the TDDUI connector. It is safe for concurrent use.
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

// Deliver sends the Bundle of d.Report.
func (c *Client) Deliver(ctx context.Context, d *connectors.Delivery) (connectors.Receipt, error) {
	rec, err := c.deliver(ctx, d)
	c.last.Record(c.now(), err)
	return rec, err
}

// maxResponse bounds what is read of a successful answer: one response
// entry per Bundle entry, a few hundred bytes each.
const maxResponse = 8 << 20

// sentBundle is what the connector checks of the Bundle before sending.
type sentBundle struct {
	ResourceType string `json:"resourceType"`
	Type         string `json:"type"`
	Meta         *struct {
		VersionID string `json:"versionId"`
	} `json:"meta"`
	Identifier *struct {
		Value string `json:"value"`
	} `json:"identifier"`
}

// transactionResponse is what the connector reads of the answer.
type transactionResponse struct {
	ID        *string `json:"id"`
	Type      string  `json:"type"`
	Timestamp string  `json:"timestamp"`
}

func (c *Client) deliver(ctx context.Context, d *connectors.Delivery) (connectors.Receipt, error) {
	const op = "posting TDDUI bundle"
	if err := check(d); err != nil {
		return connectors.Receipt{}, &connectors.Error{Class: connectors.Permanent, Op: op + ": " + err.Error()}
	}
	body := d.Report.Body
	resp, err := c.stack.Do(ctx, op, func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.BaseURL+"/fhir", bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", ContentType)
		req.Header.Set("Accept", ContentType)
		req.Header.Set("Idempotency-Key", d.IdempotencyKey)
		return req, nil
	})
	if err != nil {
		return connectors.Receipt{}, err
	}
	defer resp.Body.Close()
	raw, err := connectors.ReadAnswer(resp, op, c.now(), maxResponse, http.StatusOK)
	if err != nil {
		if ce, ok := errors.AsType[*connectors.Error](err); ok && ce.Status >= 300 {
			ce.Code = outcomeCode(ce.Body)
		}
		return connectors.Receipt{}, err
	}
	var tr transactionResponse
	if err := connectors.DecodeAnswer(op, raw, &tr); err != nil {
		// Not JSON, or cut: the receiver may have stored the Bundle; the
		// retry under the same key gets the first answer.
		return connectors.Receipt{}, err
	}
	if tr.ID == nil || *tr.ID == "" {
		return connectors.Receipt{}, &connectors.Error{Class: connectors.Permanent, Op: op + `: contract: field "id" (the Task id) is missing from the transaction-response`}
	}
	if tr.Type != "transaction-response" {
		return connectors.Receipt{}, &connectors.Error{Class: connectors.Permanent, Op: op + `: contract: field "type" is not transaction-response`}
	}
	at, err := time.Parse(time.RFC3339, tr.Timestamp)
	if err != nil {
		at = c.now()
	}
	return connectors.Receipt{RemoteID: *tr.ID, At: at}, nil
}

// check refuses, before any call, what must not be sent: another kind of
// delivery, or a Bundle that is not the delivery's version of a chunk.
func check(d *connectors.Delivery) error {
	r := d.Report
	switch {
	case r == nil || r.Kind != connectors.ReportTDDUIBundle:
		return errors.New("unsupported_payload (not a tddui_bundle report delivery)")
	case d.IdempotencyKey == "" || len(r.Body) == 0:
		return errors.New("the idempotency key and the body are required")
	}
	var b sentBundle
	if err := json.Unmarshal(r.Body, &b); err != nil {
		return fmt.Errorf("reading the Bundle: %w", err)
	}
	switch {
	case b.ResourceType != "Bundle" || b.Type != "transaction":
		return errors.New("the body is not a FHIR transaction Bundle")
	case b.Identifier == nil || b.Identifier.Value == "":
		return errors.New("the Bundle has no identifier: its versions could not replace one another")
	case b.Meta == nil || b.Meta.VersionID != strconv.Itoa(r.Version):
		return fmt.Errorf("the Bundle's meta.versionId is not the delivery's version %d", r.Version)
	}
	return nil
}

// outcomeCode is the code of the first error issue of an OperationOutcome
// body ("" when the body is not one).
func outcomeCode(body []byte) string {
	var oo struct {
		ResourceType string `json:"resourceType"`
		Issue        []struct {
			Severity string `json:"severity"`
			Code     string `json:"code"`
		} `json:"issue"`
	}
	if json.Unmarshal(body, &oo) != nil || oo.ResourceType != "OperationOutcome" {
		return ""
	}
	for _, i := range oo.Issue {
		if i.Severity == "error" || i.Severity == "fatal" {
			return i.Code
		}
	}
	return ""
}
