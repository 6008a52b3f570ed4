package coffrefort

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/mapping"
)

// Client is the digital safe connector. It is safe for concurrent use.
type Client struct {
	name  string
	cfg   Config
	stack *connectors.Stack
	cache *idCache
	now   func() time.Time
	log   *slog.Logger
	// bufs holds *[]byte copy buffers for streaming documents.
	bufs sync.Pool
	// last keeps the outcomes for Status: times, and the class and status
	// of a failure, never a body.
	last connectors.LastOutcomes
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
	return &Client{
		name:  name,
		cfg:   cfg,
		stack: stack,
		cache: newIDCache(cfg.BeneficiaryCacheSize),
		now:   deps.Now,
		log:   deps.Logger.With("destination", name),
	}, nil
}

// Name is the destination's name.
func (c *Client) Name() string { return c.name }

// CloseIdleConnections closes the idle connections to the safe.
func (c *Client) CloseIdleConnections() { c.stack.CloseIdleConnections() }

// Status reports the breaker, the rate limiter and the last outcomes.
func (c *Client) Status() connectors.Status { return c.last.Fill(c.stack.Status()) }

// Deliver deposits a document in the beneficiary's safe; see the package
// documentation for the calls it makes. Only document deposits are
// supported.
func (c *Client) Deliver(ctx context.Context, d *connectors.Delivery) (connectors.Receipt, error) {
	rec, err := c.deliver(ctx, d)
	c.last.Record(c.now(), err)
	return rec, err
}

func (c *Client) deliver(ctx context.Context, d *connectors.Delivery) (connectors.Receipt, error) {
	if err := c.check(d); err != nil {
		return connectors.Receipt{}, err
	}
	distantID := d.Document.Beneficiary.DistantID
	benID, cached, err := c.beneficiaryID(ctx, d)
	if err != nil {
		return connectors.Receipt{}, err
	}
	doc, replayed, err := c.upload(ctx, d, benID)
	if cached && staleBeneficiary(err) {
		// The cached beneficiary may be gone (deleted, or the safe was
		// restored): look it up again, creating it if needed, and upload
		// once more.
		c.cache.remove(distantID)
		c.log.LogAttrs(ctx, slog.LevelDebug, "cached beneficiary refused, looking it up again", slog.String("op", "uploading document"))
		if benID, _, err = c.beneficiaryID(ctx, d); err != nil {
			return connectors.Receipt{}, err
		}
		doc, replayed, err = c.upload(ctx, d, benID)
	}
	if err != nil {
		return connectors.Receipt{}, err
	}
	if err := verify(&d.Document.Document, &doc); err != nil {
		return connectors.Receipt{}, err
	}
	if d.Document.Document.Visibility == mapping.VisibilityShared {
		if err := c.share(ctx, &doc, replayed); err != nil {
			return connectors.Receipt{}, err
		}
	}
	at := doc.CreatedAt
	if at.IsZero() {
		at = c.now()
	}
	return connectors.Receipt{RemoteID: string(doc.ID), At: at}, nil
}

// check refuses, before any call, what the safe cannot take.
func (c *Client) check(d *connectors.Delivery) error {
	switch {
	case d == nil || d.Document == nil:
		return permanent("checking delivery: unsupported_payload (the digital safe only takes document deposits)")
	case d.Document.Open == nil:
		return permanent("checking delivery: missing_content (the document has no content to open)")
	case d.IdempotencyKey == "":
		return permanent("checking delivery: missing_idempotency_key")
	case d.Document.Beneficiary.DistantID == "":
		return permanent("checking delivery: missing_distant_id")
	case d.Document.Document.Size > c.cfg.MaxDocumentSize:
		return permanent(fmt.Sprintf("checking document: document_too_large (%d bytes, the limit is %d)",
			d.Document.Document.Size, c.cfg.MaxDocumentSize))
	}
	return nil
}

// share makes a private document visible to the beneficiary's
// professionals. The toggle flips whatever the state is, so the state is
// read first: the body of a replayed upload is the original answer, not the
// document as it is now.
func (c *Client) share(ctx context.Context, doc *document, replayed bool) error {
	private := doc.Private
	if replayed {
		cur, err := c.getDocument(ctx, doc.ID)
		if err != nil {
			return err
		}
		private = cur.Private
	}
	if !private {
		return nil
	}
	const op = "sharing document"
	_, body, err := c.send(ctx, op, request(http.MethodPatch, c.documentURL(doc.ID)+"/toggle-visibility", nil, ""))
	if err != nil {
		return err
	}
	var toggled document
	if err := connectors.DecodeAnswer(op, body, &toggled); err != nil {
		return err
	}
	if toggled.Private {
		// Someone toggled it at the same time; the next attempt reads the
		// state again.
		return &connectors.Error{Class: connectors.Retryable, Op: op + ": visibility_race (the document is private after the toggle)"}
	}
	return nil
}

func (c *Client) getDocument(ctx context.Context, id remoteID) (document, error) {
	const op = "reading document"
	var doc document
	_, body, err := c.send(ctx, op, request(http.MethodGet, c.documentURL(id), nil, ""))
	if err != nil {
		return doc, err
	}
	return doc, connectors.DecodeAnswer(op, body, &doc)
}

// maxResponse bounds what is read of a successful answer.
const maxResponse = 1 << 20

// send makes one call and returns the headers and body of a 2xx answer;
// any other answer is a classified *connectors.Error.
func (c *Client) send(ctx context.Context, op string, build connectors.RequestBuilder) (http.Header, []byte, error) {
	resp, err := c.stack.Do(ctx, op, build)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := connectors.ReadAnswer(resp, op, c.now(), maxResponse)
	if err != nil {
		return nil, nil, err
	}
	return resp.Header, body, nil
}

// request builds a request with an optional JSON body and Idempotency-Key.
func request(method, url string, jsonBody []byte, idempotencyKey string) connectors.RequestBuilder {
	return func(ctx context.Context) (*http.Request, error) {
		var body io.Reader
		if jsonBody != nil {
			body = bytes.NewReader(jsonBody)
		}
		req, err := http.NewRequestWithContext(ctx, method, url, body)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", "application/json")
		if jsonBody != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if idempotencyKey != "" {
			req.Header.Set("Idempotency-Key", idempotencyKey)
		}
		return req, nil
	}
}

func permanent(op string) *connectors.Error {
	return &connectors.Error{Class: connectors.Permanent, Op: op}
}

func (c *Client) documentURL(id remoteID) string {
	return c.cfg.BaseURL + "/api/v3/documents/" + url.PathEscape(string(id))
}
