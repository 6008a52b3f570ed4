package apiparticulier

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/mapping"
	"github.com/relais-dev/relais/mapping/engine"
	"github.com/relais-dev/relais/mapping/specs"
)

// Client is the API Particulier pull connector. It is safe for concurrent
// use.
type Client struct {
	name string
	cfg  Config
	// stack carries the platform token; fcStack the citizens'
	// FranceConnect access tokens (see newStacks).
	stack   *connectors.Stack
	fcStack *connectors.Stack
	ops     []operation
	plans   plans
	now     func() time.Time
	log     *slog.Logger
	last    connectors.LastOutcomes
}

var _ connectors.Puller = (*Client)(nil)

// Option tunes New.
type Option func(*options)

type options struct {
	catalog *engine.Catalog
}

// WithCatalog makes the connector run the mapping specs of cat, which must
// hold those of mapping/specs/apiparticulier (the gateway's catalog of
// specs.FS does), instead of compiling its own: compiling them takes a
// tenth of a second, once per connector.
func WithCatalog(cat *engine.Catalog) Option {
	return func(o *options) { o.catalog = cat }
}

// New builds the connector of source name. Unless WithCatalog gives them,
// it compiles the mapping specs of mapping/specs/apiparticulier it runs.
func New(name string, cfg Config, deps connectors.Deps, opts ...Option) (*Client, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("configuring %s: %w", name, err)
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	deps = deps.WithDefaults()
	stack, fcStack, err := newStacks(name, cfg, deps)
	if err != nil {
		return nil, err
	}
	if o.catalog == nil {
		if o.catalog, err = specs.Compile("apiparticulier"); err != nil {
			return nil, fmt.Errorf("compiling the mapping specs of %s: %w", name, err)
		}
	}
	pl, err := plansOf(o.catalog)
	if err != nil {
		return nil, fmt.Errorf("loading the mapping specs of %s: %w", name, err)
	}
	c := &Client{
		name:    name,
		cfg:     cfg,
		stack:   stack,
		fcStack: fcStack,
		plans:   pl,
		now:     deps.Now,
		log:     deps.Logger.With("source", name),
	}
	for _, op := range operations() {
		if slices.Contains(cfg.Operations, op.Name) {
			c.ops = append(c.ops, op)
		}
	}
	return c, nil
}

// newStacks builds the two transport stacks, from the caller inwards:
//
//	redacting logger → in-call retry → circuit breaker → rate limit
//	(20 requests/s per token, shared through deps.Reserver across
//	processes) → bearer → metrics → per-try timeout → pooled transport
//
// The first carries the tenant's platform token, on the /identite and
// France Travail routes. The second, destination name+"-franceconnect",
// carries no credentials of its own: each /france_connect call puts the
// citizen's access token on itself. The platform counts those calls per
// citizen's token, so this stack keeps to its own in-process bucket rather
// than to the token's shared limit.
func newStacks(name string, cfg Config, deps connectors.Deps) (*connectors.Stack, *connectors.Stack, error) {
	stack, err := connectors.NewStack(name, cfg.Stack, deps)
	if err != nil {
		return nil, nil, fmt.Errorf("building the stack of %s: %w", name, err)
	}
	fcCfg := cfg.Stack
	fcCfg.Auth = connectors.AuthConfig{Kind: connectors.AuthNone}
	fcDeps := deps
	fcDeps.Reserver = nil
	fcStack, err := connectors.NewStack(name+"-franceconnect", fcCfg, fcDeps)
	if err != nil {
		return nil, nil, fmt.Errorf("building the FranceConnect stack of %s: %w", name, err)
	}
	return stack, fcStack, nil
}

// plans are the compiled mapping specs the connector runs: the identity
// query, and the answer of each operation.
type plans struct {
	identity *engine.Plan
	answers  map[string]*engine.Plan
}

// plansOf picks the connector's plans from cat.
func plansOf(cat *engine.Catalog) (plans, error) {
	p := plans{answers: map[string]*engine.Plan{}}
	var ok bool
	if p.identity, ok = cat.Plan("apiparticulier", "identite", engine.Outbound); !ok {
		return plans{}, errors.New("no spec maps the identity query (apiparticulier identite outbound)")
	}
	for _, op := range operations() {
		pl, ok := cat.Plan("apiparticulier", op.Name, engine.Inbound)
		if !ok {
			return plans{}, fmt.Errorf("no spec maps the answer of %s (apiparticulier %s inbound)", op.Name, op.Name)
		}
		p.answers[op.Name] = pl
	}
	return p, nil
}

// Name is the source's name.
func (c *Client) Name() string { return c.name }

// Operations lists the operations the configuration enables, in the order
// Pull runs them when asked for all.
func (c *Client) Operations() []connectors.PullOperation {
	out := make([]connectors.PullOperation, len(c.ops))
	for i, op := range c.ops {
		out[i] = op.PullOperation
	}
	return out
}

// CloseIdleConnections closes the idle connections to the platform.
func (c *Client) CloseIdleConnections() {
	c.stack.CloseIdleConnections()
	c.fcStack.CloseIdleConnections()
}

// Status reports the breaker and rate limiter of the platform token's
// stack (the FranceConnect stack's breaker instead when it is the worse of
// the two) and the last outcomes. A not_found answer counts as a success:
// the platform answered.
func (c *Client) Status() connectors.Status {
	s := c.stack.Status()
	s.Name = c.name
	if fc := c.fcStack.Status(); breakerRank(fc.Breaker) > breakerRank(s.Breaker) {
		s.Breaker = fc.Breaker
	}
	return c.last.Fill(s)
}

func breakerRank(state string) int {
	switch state {
	case "open":
		return 2
	case "half-open":
		return 1
	}
	return 0
}

// record keeps an operation's outcome for Status: times, and the class,
// status and code of a failure (connectors.DescribeFailure), never a body.
func (c *Client) record(err error) {
	if errors.Is(err, context.Canceled) {
		return // the caller gave up: nothing learnt of the platform
	}
	if err == nil || connectors.ClassOf(err) == connectors.NotFound {
		c.last.Succeeded(c.now())
		return
	}
	c.last.Failed(c.now(), connectors.DescribeFailure(err))
}

// Pull runs the operations q asks for, all at once, and returns one item
// per operation in the order asked. See the package documentation for the
// calls it makes and how their answers and errors are mapped.
//
// Pull fails, wrapping connectors.ErrInvalidQuery and without calling the
// platform, when q cannot run at all: a recipient that is not a SIRET, an
// operation unknown or not enabled (or asked twice), or nothing to identify
// the person with for any of the operations asked.
func (c *Client) Pull(ctx context.Context, q *connectors.PullQuery) ([]connectors.PullItem, error) {
	ops, err := c.resolve(q)
	if err != nil {
		return nil, err
	}
	in := c.inputs(q, ops)
	items := make([]connectors.PullItem, len(ops))
	runnable := 0
	for i, op := range ops {
		items[i].Operation = op.Name
		if err := in.check(op); err != nil {
			items[i].Err = err
			items[i].Provider = op.provider
			continue
		}
		runnable++
	}
	if runnable == 0 {
		var errs []error
		seen := map[string]bool{}
		for i := range items {
			if msg := items[i].Err.Error(); !seen[msg] {
				seen[msg] = true
				errs = append(errs, items[i].Err)
			}
		}
		return nil, fmt.Errorf("%w: %w", connectors.ErrInvalidQuery, errors.Join(errs...))
	}
	var wg sync.WaitGroup
	for i, op := range ops {
		if items[i].Err != nil {
			continue
		}
		wg.Go(func() {
			items[i] = c.pull(ctx, op, q, &in)
			c.record(items[i].Err)
		})
	}
	wg.Wait()
	for i := range items {
		c.log.LogAttrs(ctx, slog.LevelDebug, "pulled",
			slog.String("operation", items[i].Operation),
			slog.String("outcome", string(connectors.OutcomeOf(items[i].Err))),
			slog.Bool("cached", items[i].Cached))
	}
	return items, nil
}

// resolve checks the recipient and the operations asked for.
func (c *Client) resolve(q *connectors.PullQuery) ([]operation, error) {
	if q == nil {
		return nil, fmt.Errorf("%w: no query", connectors.ErrInvalidQuery)
	}
	if !mapping.ValidSIRET(q.Recipient) {
		return nil, fmt.Errorf("%w: the recipient must be the SIRET of the establishment asking", connectors.ErrInvalidQuery)
	}
	if len(q.Operations) == 0 {
		return c.ops, nil
	}
	ops := make([]operation, 0, len(q.Operations))
	for i, name := range q.Operations {
		j := slices.IndexFunc(c.ops, func(op operation) bool { return op.Name == name })
		switch {
		case j < 0:
			return nil, fmt.Errorf("%w: operation %q is unknown or not enabled for %s", connectors.ErrInvalidQuery, name, c.name)
		case slices.Index(q.Operations, name) != i:
			return nil, fmt.Errorf("%w: operation %q is asked twice", connectors.ErrInvalidQuery, name)
		}
		ops = append(ops, c.ops[j])
	}
	return ops, nil
}
