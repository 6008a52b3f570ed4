package francetravail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/mapping"
	"github.com/relais-dev/relais/mapping/engine"
	"github.com/relais-dev/relais/mapping/specs"
)

// The operations, named as API Particulier names its France Travail
// routes, since they return the same data.
const (
	// OpStatut reads the registration as a job seeker (and the identity
	// France Travail holds, for matching).
	OpStatut = "france_travail_statut"
	// OpIndemnites reads the payments of the last Config.PaymentMonths
	// months.
	OpIndemnites = "france_travail_indemnites"
)

// operations are what the source offers. Both need the travail démarche of
// a mandate and the employment category of a consent: a job seeker's
// registration and the allowances France Travail pays are the employment
// file. Neither runs on a FranceConnect token: the partner APIs take the
// NIR and the birth date.
var operations = []connectors.PullOperation{
	{Name: OpStatut, Demarche: mapping.DemarcheTravail, Category: mapping.DataEmployment},
	{Name: OpIndemnites, Demarche: mapping.DemarcheTravail, Category: mapping.DataEmployment},
}

// Client is the France Travail source. It is safe for concurrent use.
type Client struct {
	name  string
	cfg   Config
	stack *connectors.Stack
	plans map[string]*engine.Plan // by operation
	now   func() time.Time
	log   *slog.Logger
	last  connectors.LastOutcomes
}

var _ connectors.Puller = (*Client)(nil)

// Option tunes New.
type Option func(*options)

type options struct {
	catalog *engine.Catalog
}

// WithCatalog makes the source run the mapping specs of cat, which must
// hold those of mapping/specs/francetravail (the gateway's catalog of
// specs.FS does), instead of compiling its own: compiling them takes about
// 15 ms, once per source.
func WithCatalog(cat *engine.Catalog) Option {
	return func(o *options) { o.catalog = cat }
}

// New builds the source name. Unless WithCatalog gives them, it compiles
// the mapping specs of mapping/specs/francetravail it runs.
func New(name string, cfg Config, deps connectors.Deps, opts ...Option) (*Client, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("configuring %s: %w", name, err)
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	cat := o.catalog
	if cat == nil {
		var err error
		if cat, err = specs.Compile("francetravail"); err != nil {
			return nil, fmt.Errorf("building %s: %w", name, err)
		}
	}
	plans, err := plansOf(cat)
	if err != nil {
		return nil, fmt.Errorf("building %s: %w", name, err)
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
		plans: plans,
		now:   deps.Now,
		log:   deps.Logger.With("source", name),
	}, nil
}

// plansOf picks the plan of each operation from cat.
func plansOf(cat *engine.Catalog) (map[string]*engine.Plan, error) {
	plans := map[string]*engine.Plan{}
	for _, op := range operations {
		p, ok := cat.Plan("francetravail", op.Name, engine.Inbound)
		if !ok {
			return nil, fmt.Errorf("no mapping spec maps the answer of %s (francetravail %s inbound)", op.Name, op.Name)
		}
		plans[op.Name] = p
	}
	return plans, nil
}

// Name is the source's name.
func (c *Client) Name() string { return c.name }

// Operations lists what the source returns.
func (c *Client) Operations() []connectors.PullOperation { return slices.Clone(operations) }

// CloseIdleConnections closes the idle connections to the platform.
func (c *Client) CloseIdleConnections() { c.stack.CloseIdleConnections() }

// Status reports the breaker, the rate limiter and the last outcomes.
func (c *Client) Status() connectors.Status { return c.last.Fill(c.stack.Status()) }

// Pull finds the person by NIR and birth date, then reads what q asks for
// with the person token, the reads in parallel, all under Config.Deadline.
// See the package documentation for the calls and the outcomes.
func (c *Client) Pull(ctx context.Context, q *connectors.PullQuery) ([]connectors.PullItem, error) {
	ops, err := operationsOf(q.Operations)
	if err != nil {
		return nil, err
	}
	nir, birthDate, err := identityOf(&q.Person)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Deadline)
	defer cancel()

	items := make([]connectors.PullItem, len(ops))
	for i, op := range ops {
		items[i].Operation = op
	}
	jeton, err := c.search(ctx, nir, birthDate)
	if err != nil {
		for i := range items {
			items[i].Err = err
		}
	} else {
		var wg sync.WaitGroup
		for i := range items {
			wg.Go(func() { c.read(ctx, jeton, &items[i]) })
		}
		wg.Wait()
	}
	c.record(ctx, items)
	return items, nil
}

// operationsOf checks the operations asked for; none means all.
func operationsOf(asked []string) ([]string, error) {
	if len(asked) == 0 {
		out := make([]string, len(operations))
		for i, op := range operations {
			out[i] = op.Name
		}
		return out, nil
	}
	for _, name := range asked {
		if !slices.ContainsFunc(operations, func(op connectors.PullOperation) bool { return op.Name == name }) {
			return nil, fmt.Errorf("checking query: unknown operation %q: %w", name, connectors.ErrInvalidQuery)
		}
	}
	return asked, nil
}

// identityOf returns what the search needs: the NIR (the INS value, key
// checked) and the full birth date. France Travail finds no one without
// them, so a query lacking them cannot run.
func identityOf(p *mapping.Person) (connectors.Secret, string, error) {
	if p.INS == nil || p.INS.Value == "" {
		return "", "", fmt.Errorf("checking query: missing_nir (France Travail searches by NIR): %w", connectors.ErrInvalidQuery)
	}
	if !mapping.ValidNIR(p.INS.Value) {
		return "", "", fmt.Errorf("checking query: invalid_nir (15 characters whose key matches): %w", connectors.ErrInvalidQuery)
	}
	if p.BirthDate.Precision() != mapping.PrecisionDay {
		return "", "", fmt.Errorf("checking query: partial_birth_date (France Travail needs the full date of birth): %w", connectors.ErrInvalidQuery)
	}
	return connectors.Secret(p.INS.Value), string(p.BirthDate), nil
}

// record keeps the outcome for Status, and logs one line per pull with
// each operation's outcome (never a value).
func (c *Client) record(ctx context.Context, items []connectors.PullItem) {
	now := c.now()
	attrs := make([]slog.Attr, 0, len(items))
	var failed error
	for i := range items {
		attrs = append(attrs, slog.String(items[i].Operation, string(connectors.OutcomeOf(items[i].Err))))
		if items[i].Err != nil && failed == nil {
			failed = items[i].Err
		}
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "pulled", attrs...)
	if failed == nil {
		c.last.Succeeded(now)
		return
	}
	c.last.Failed(now, describe(failed))
}

// describe names a failure for operators: its outcome, its platform code
// and its HTTP status, never a body.
func describe(err error) string {
	s := string(connectors.OutcomeOf(err))
	if ce, ok := errors.AsType[*connectors.Error](err); ok {
		if ce.Code != "" {
			s += " " + ce.Code
		}
		if ce.Status != 0 {
			s += fmt.Sprintf(" (HTTP %d)", ce.Status)
		}
	}
	return s
}

// maxAnswer bounds what is read of a successful answer.
const maxAnswer = 1 << 20

// send makes one call and returns the body of a 2xx answer and when it
// came; any other answer is a classified *connectors.Error.
func (c *Client) send(ctx context.Context, op string, build connectors.RequestBuilder) ([]byte, time.Time, error) {
	resp, err := c.stack.Do(ctx, op, build)
	if err != nil {
		return nil, time.Time{}, classifyTransport(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, time.Time{}, classify(resp, op, c.now())
	}
	body, err := connectors.ReadAnswer(resp, op, c.now(), maxAnswer)
	if err != nil {
		return nil, time.Time{}, err
	}
	return body, c.now(), nil
}

// request builds a request; a body is JSON.
func request(method, url string, body []byte, header http.Header) connectors.RequestBuilder {
	return func(ctx context.Context) (*http.Request, error) {
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, method, url, rd)
		if err != nil {
			return nil, err
		}
		for k, v := range header {
			req.Header[k] = v
		}
		req.Header.Set("Accept", "application/json")
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		return req, nil
	}
}
