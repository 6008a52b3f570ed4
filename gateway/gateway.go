package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/connectors/cafpsu"
	"github.com/relais-dev/relais/connectors/coffrefort"
	"github.com/relais-dev/relais/connectors/indicateurs"
	"github.com/relais-dev/relais/connectors/tddui"
	"github.com/relais-dev/relais/gateway/api"
	"github.com/relais-dev/relais/gateway/delivery"
	"github.com/relais-dev/relais/gateway/identity/oidc"
	"github.com/relais-dev/relais/gateway/identity/web"
	"github.com/relais-dev/relais/gateway/mandate"
	"github.com/relais-dev/relais/gateway/profile"
	"github.com/relais-dev/relais/gateway/report"
	"github.com/relais-dev/relais/gateway/store"
	"github.com/relais-dev/relais/gateway/vault"
	"github.com/relais-dev/relais/mapping/engine"
	"github.com/relais-dev/relais/mapping/specs"
)

// Deps are the gateway's injected collaborators; all may be zero.
type Deps struct {
	Logger *slog.Logger
	Now    func() time.Time
	// Registry receives every metric. Default: a fresh registry.
	Registry *prometheus.Registry
	// Connectors replaces the registry built from the configuration.
	Connectors *connectors.Registry
	// Pullers, when set, builds the sources of profile lookups in place of
	// those of cfg.Profiles (the lookup benchmark's mock sources), with
	// the connector deps the configured ones get (the store's shared rate
	// limiter, the metrics). Default: the configured sources.
	Pullers func(connectors.Deps) ([]connectors.Puller, error)
	// Listener, when set, is where Start serves instead of listening on
	// cfg.Listen (the sandbox listens first to know its callback URLs).
	// Start takes ownership of it.
	Listener net.Listener
}

// Gateway is a running Relais server.
type Gateway struct {
	cfg    Config
	logger *slog.Logger
	now    func() time.Time
	reg    *prometheus.Registry
	store  *store.Store
	conns  *connectors.Registry
	api    *api.Server
	// handler is the API with the browser sign-in routes beside it.
	handler  http.Handler
	preset   net.Listener
	workers  *river.Workers
	periodic []*river.PeriodicJob

	mu          sync.Mutex
	started     bool
	stopped     bool
	listener    net.Listener
	httpServer  *http.Server
	serveDone   chan error
	stopWorkers func(context.Context) error
	running     atomic.Bool
}

// New opens the store and builds the connectors, workers and API. It
// starts nothing.
func New(ctx context.Context, cfg Config, deps Deps) (*Gateway, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Registry == nil {
		deps.Registry = prometheus.NewRegistry()
		deps.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	keys, err := vault.ParseKeys(cfg.Encryption.Keys.Reveal(), cfg.Encryption.ActiveKey)
	if err != nil {
		return nil, fmt.Errorf("encryption.keys: %w", err)
	}
	// The embedded specs are compiled at start: a spec with a problem
	// stops the gateway. Activity reports run the TDDUI one.
	mappings, err := specs.Compile("")
	if err != nil {
		return nil, err
	}
	deps.Logger.Debug("mapping specs compiled", slog.Int("plans", len(mappings.Plans())))
	// One set of connector metrics, for the destinations and the lookups'
	// sources alike. Destinations given in deps may have registered theirs
	// already: the sources then keep their metrics to themselves.
	cdeps := connectors.Deps{Logger: deps.Logger, Now: deps.Now}
	conns := deps.Connectors
	if conns == nil {
		cdeps.Metrics = connectors.NewMetrics(deps.Registry)
		conns, err = NewConnectors(cfg.Connectors, cdeps)
		if err != nil {
			return nil, err
		}
	}
	st, err := store.Open(ctx, store.Options{
		Driver: cfg.Store.Driver, DSN: cfg.Store.DSN.Reveal(), MaxConns: cfg.Store.MaxConns,
		Keyring: keys, Now: deps.Now, Logger: deps.Logger,
	})
	if err != nil {
		return nil, err
	}
	built := false
	defer func() {
		if !built {
			st.Close()
		}
	}()
	g := &Gateway{cfg: cfg, logger: deps.Logger, now: deps.Now, reg: deps.Registry, store: st, conns: conns}

	g.workers = river.NewWorkers()
	reports, err := newReports(cfg, st, conns, mappings, deps)
	if err != nil {
		return nil, err
	}
	worker := delivery.NewWorker(st, conns, cfg.Delivery, delivery.NewMetrics(deps.Registry), deps.Logger, deps.Now)
	if reports != nil {
		worker.WithReports(reports)
	}
	river.AddWorker(g.workers, worker)
	sealJob, sealWorker := st.PeriodicSealJob(cfg.Queue.JournalSealInterval)
	river.AddWorker(g.workers, sealWorker)
	g.periodic = []*river.PeriodicJob{sealJob}
	// Every replica can work the purge; it is scheduled where sign-in is on.
	purgeJob, purgeWorker := st.PeriodicSignInPurgeJob(cfg.Identity.PurgeInterval)
	river.AddWorker(g.workers, purgeWorker)
	if len(cfg.Identity.Providers) > 0 {
		g.periodic = append(g.periodic, purgeJob)
	}

	if reports != nil {
		// Staged rows of interrupted uploads; every replica can work it.
		segJob, segWorker := report.PeriodicPurgeJob(*cfg.Reports, st, deps.Logger.With(slog.String("component", "reports")), deps.Now)
		river.AddWorker(g.workers, segWorker)
		g.periodic = append(g.periodic, segJob)
	}

	deps.Registry.MustRegister(&queueCollector{store: st, desc: queueDesc})
	var mandates *mandate.Service
	if cfg.Mandates.PersonKey != "" {
		mandates, err = mandate.NewService(st, mandate.Config{PersonKey: []byte(cfg.Mandates.PersonKey.Reveal()), Now: deps.Now})
		if err != nil {
			return nil, fmt.Errorf("mandates: %w", err)
		}
	}
	var profiles *profile.Service
	if mandates != nil {
		if profiles, err = newProfiles(cfg, st, mandates, mappings, cdeps, deps); err != nil {
			return nil, err
		}
		profilePurgeJob, profilePurgeWorker := st.PeriodicPurgeJob(cfg.Profiles.Lookup.PurgeInterval, cfg.Profiles.Lookup.GoneFor)
		river.AddWorker(g.workers, profilePurgeWorker)
		g.periodic = append(g.periodic, profilePurgeJob)
	}
	g.api = api.New(cfg.API, api.Deps{
		Store: st, Connectors: conns, Mandates: mandates, Profiles: profiles, Reports: reports, WorkersRunning: g.running.Load,
		Registry: deps.Registry, Logger: deps.Logger, Now: deps.Now,
	})
	g.handler, g.preset = g.api, deps.Listener
	if len(cfg.Identity.Providers) > 0 {
		signin, err := newSignIn(ctx, cfg, st, mandates, deps)
		if err != nil {
			return nil, err
		}
		mux := http.NewServeMux()
		for _, p := range web.Paths() {
			mux.Handle(p, signin)
		}
		mux.Handle("/", g.api)
		g.handler = mux
	}
	built = true
	return g, nil
}

// NewConnectors builds the registry of the configured destinations.
func NewConnectors(cfg ConnectorsConfig, deps connectors.Deps) (*connectors.Registry, error) {
	reg := connectors.NewRegistry()
	if err := register(reg, "coffrefort", cfg.Coffrefort, deps, coffrefort.New); err != nil {
		return nil, err
	}
	if err := register(reg, "cafpsu", cfg.CAFPSU, deps, cafpsu.New); err != nil {
		return nil, err
	}
	if err := register(reg, "tddui", cfg.TDDUI, deps, tddui.New); err != nil {
		return nil, err
	}
	if err := register(reg, "indicateurs", cfg.Indicateurs, deps, indicateurs.New); err != nil {
		return nil, err
	}
	return reg, nil
}

// register builds the connector name when it is configured (cfg not nil)
// and registers it.
func register[C any, T connectors.Connector](reg *connectors.Registry, name string, cfg *C, deps connectors.Deps,
	build func(string, C, connectors.Deps) (T, error),
) error {
	if cfg == nil {
		return nil
	}
	c, err := build(name, *cfg, deps)
	if err != nil {
		return fmt.Errorf("building connector %s: %w", name, err)
	}
	reg.Register(c)
	return nil
}

// newReports builds the activity report service when reports are
// configured (nil otherwise): its outputs mapped by the catalog's TDDUI
// spec and mapping/indicators, routed to the registered destinations.
func newReports(cfg Config, st *store.Store, conns *connectors.Registry, mappings *engine.Catalog, deps Deps) (*report.Service, error) {
	if cfg.Reports == nil {
		return nil, nil
	}
	plan, ok := mappings.Plan("tddui", "bundle", engine.Outbound)
	if !ok {
		return nil, errors.New("reports: the mapping catalog has no TDDUI bundle spec")
	}
	m, err := report.NewMappings(plan, *cfg.Reports)
	if err != nil {
		return nil, fmt.Errorf("reports: %w", err)
	}
	svc, err := report.New(*cfg.Reports, report.Deps{Store: st, Mapper: m, Destinations: conns, Now: deps.Now})
	if err != nil {
		return nil, fmt.Errorf("reports: %w", err)
	}
	return svc, nil
}

// Store returns the gateway's store.
func (g *Gateway) Store() *store.Store { return g.store }

// Handler returns the HTTP API, with the browser sign-in routes when
// identity providers are configured.
func (g *Gateway) Handler() http.Handler { return g.handler }

// Addr returns the address the API listens on, once started.
func (g *Gateway) Addr() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.listener == nil {
		return ""
	}
	return g.listener.Addr().String()
}

// Start migrates the store if configured to, starts the delivery workers,
// and serves the API on cfg.Listen. Pass listen = false to start only the
// workers (tests serving the Handler themselves).
func (g *Gateway) Start(ctx context.Context, listen bool) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.started {
		return errors.New("gateway: already started")
	}
	g.started = true
	if *g.cfg.Store.AutoMigrate {
		if err := g.store.Migrate(ctx); err != nil {
			return fmt.Errorf("migrating store: %w", err)
		}
	}
	stop, err := g.store.StartWorkers(ctx, store.QueueConfig{
		Workers: g.workers, MaxWorkers: g.cfg.Queue.Workers, JobTimeout: g.cfg.Queue.JobTimeout,
		RescueStuckJobsAfter: g.cfg.Queue.RescueAfter, FetchCooldown: g.cfg.Queue.FetchCooldown,
		FetchPollInterval: g.cfg.Queue.FetchPollInterval, PeriodicJobs: g.periodic,
		Logger: g.logger.With(slog.String("component", "river")),
	})
	if err != nil {
		return err
	}
	g.stopWorkers = stop
	g.running.Store(true)
	if !listen {
		return nil
	}
	ln := g.preset
	if ln == nil {
		if ln, err = net.Listen("tcp", g.cfg.Listen); err != nil {
			return fmt.Errorf("listening on %s: %w", g.cfg.Listen, err)
		}
	}
	g.listener = ln
	g.httpServer = &http.Server{
		Handler:           g.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(g.logger.Handler(), slog.LevelWarn),
	}
	g.serveDone = make(chan error, 1)
	go func() { g.serveDone <- g.httpServer.Serve(ln) }()
	g.logger.Info("relais gateway started", slog.String("listen", ln.Addr().String()), slog.String("store", g.store.Driver()))
	return nil
}

// Stop stops serving, lets jobs in progress finish (bounded by ctx), and
// closes the store. It is idempotent.
func (g *Gateway) Stop(ctx context.Context) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped {
		return nil
	}
	g.stopped = true
	var errs []error
	if g.httpServer != nil {
		if err := g.httpServer.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("shutting down http server: %w", err))
		}
		if err := <-g.serveDone; err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, fmt.Errorf("serving http: %w", err))
		}
	}
	if g.stopWorkers != nil {
		g.running.Store(false)
		if err := g.stopWorkers(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stopping workers: %w", err))
		}
	}
	g.store.Close()
	return errors.Join(errs...)
}

var queueDesc = prometheus.NewDesc("relais_queue_jobs", "Jobs in the durable queue, by state.", []string{"state"}, nil)

// queueCollector reads the queue depth from the store at scrape time.
type queueCollector struct {
	store *store.Store
	desc  *prometheus.Desc
}

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	depth, err := c.store.QueueDepth(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	for _, state := range rivertype.JobStates() {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(depth[string(state)]), string(state))
	}
}

// consentStore is what sign-in needs of the store.
var (
	_ web.ConsentStore = (*store.Store)(nil)
	_ web.Directory    = (*store.Store)(nil)
)

// organisationBySIRET binds a ProConnect professional to the tenant
// registered with their SIRET.
func organisationBySIRET(st *store.Store) func(context.Context, string) (web.Organisation, error) {
	return func(ctx context.Context, siret string) (web.Organisation, error) {
		t, err := st.TenantBySIRET(ctx, siret)
		if errors.Is(err, store.ErrNotFound) {
			return web.Organisation{}, web.ErrUnknownOrganisation
		} else if err != nil {
			return web.Organisation{}, fmt.Errorf("finding the tenant of SIRET %s: %w", siret, err)
		}
		return web.Organisation{TenantID: t.ID, Name: t.Name}, nil
	}
}

// newSignIn builds one relying party per configured provider (running
// their discovery) and the browser routes over them.
func newSignIn(ctx context.Context, cfg Config, st *store.Store, mandates *mandate.Service, deps Deps) (*web.Handler, error) {
	ic := cfg.Identity
	var keys *oidc.DecryptionKeys
	if ic.EncryptionKeyFile != "" {
		k, err := oidc.LoadDecryptionKeys(ic.EncryptionKeyFile)
		if err != nil {
			return nil, fmt.Errorf("identity.encryption_key_file: %w", err)
		}
		keys = k
	}
	// Pending logins and sessions live in the store: a login started on
	// one replica may come back on another.
	pending := NewStorePending(st, oidc.DefaultPendingTTL, ic.MaxPendingLogins)
	rps := make([]*oidc.RelyingParty, 0, len(ic.Providers))
	for i, pc := range ic.Providers {
		pc.SecureCookie = pc.SecureCookie || *ic.SecureCookies
		rp, err := oidc.New(ctx, pc, oidc.Options{Pending: pending, Now: deps.Now, Keys: keys})
		if err != nil {
			return nil, fmt.Errorf("identity.providers[%d] (%s): %w", i, pc.Name, err)
		}
		rps = append(rps, rp)
	}
	tenant := ic.Tenant
	h, err := web.New(web.Config{
		SessionTTL: ic.SessionTTL, Secure: *ic.SecureCookies, ConsentTTL: ic.ConsentTTL, SandboxSMSOutbox: ic.SandboxSMSOutbox,
	}, web.Deps{
		Providers: rps, Keys: keys, Sessions: NewStoreSessions(st, ic.MaxSessions), Consents: st,
		PersonKey: []byte(cfg.Mandates.PersonKey.Reveal()), Organisation: organisationBySIRET(st),
		Mandates: mandates, Directory: st, SMSOutbox: st.SMSOutbox,
		Tenant: func(ctx context.Context) (string, error) {
			t, err := st.TenantByName(ctx, tenant)
			if err != nil {
				return "", fmt.Errorf("finding tenant %q: %w", tenant, err)
			}
			return t.ID, nil
		},
		Logger: deps.Logger.With(slog.String("component", "signin")), Now: deps.Now,
	})
	if err != nil {
		return nil, fmt.Errorf("identity: %w", err)
	}
	return h, nil
}
