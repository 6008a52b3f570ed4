package gateway

import (
	"context"
	"fmt"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/connectors/apiparticulier"
	"github.com/relais-dev/relais/connectors/francetravail"
	"github.com/relais-dev/relais/gateway/mandate"
	"github.com/relais-dev/relais/gateway/profile"
	"github.com/relais-dev/relais/gateway/store"
	"github.com/relais-dev/relais/mapping/engine"
)

// Source names of the profile lookups, as clients list them in sources.
const (
	SourceAPIParticulier = "apiparticulier"
	SourceFranceTravail  = "francetravail"
)

// NewPullers builds the configured sources of profile lookups, beside the
// destinations NewConnectors builds. deps.Reserver, when set, shares their
// rate limits across processes. cat, when not nil, is the gateway's
// compiled catalog of mapping specs (specs.Compile), which the sources then
// share instead of compiling their own.
func NewPullers(cfg ProfilesConfig, deps connectors.Deps, cat *engine.Catalog) ([]connectors.Puller, error) {
	var out []connectors.Puller
	if cfg.APIParticulier != nil {
		var opts []apiparticulier.Option
		if cat != nil {
			opts = append(opts, apiparticulier.WithCatalog(cat))
		}
		c, err := apiparticulier.New(SourceAPIParticulier, *cfg.APIParticulier, deps, opts...)
		if err != nil {
			return nil, fmt.Errorf("building source %s: %w", SourceAPIParticulier, err)
		}
		out = append(out, c)
	}
	if cfg.FranceTravail != nil {
		var opts []francetravail.Option
		if cat != nil {
			opts = append(opts, francetravail.WithCatalog(cat))
		}
		c, err := francetravail.New(SourceFranceTravail, *cfg.FranceTravail, deps, opts...)
		if err != nil {
			return nil, fmt.Errorf("building source %s: %w", SourceFranceTravail, err)
		}
		out = append(out, c)
	}
	return out, nil
}

// newProfiles builds the lookup service over the sources (those
// deps.Pullers builds, or the configured ones), the store and the mandate service. The recipient
// of the platforms' data is the tenant's SIRET.
func newProfiles(cfg Config, st *store.Store, mandates *mandate.Service, cat *engine.Catalog, cdeps connectors.Deps, deps Deps) (*profile.Service, error) {
	cdeps.Reserver = st.Reserver()
	build := func(d connectors.Deps) ([]connectors.Puller, error) { return NewPullers(cfg.Profiles, d, cat) }
	if deps.Pullers != nil {
		build = deps.Pullers
	}
	pullers, err := build(cdeps)
	if err != nil {
		return nil, fmt.Errorf("building profile sources: %w", err)
	}
	svc, err := profile.NewService(cfg.Profiles.Lookup, profile.Deps{
		Pullers: pullers, Store: st, Mandates: mandates, PersonKey: []byte(cfg.Mandates.PersonKey.Reveal()),
		Recipient: func(ctx context.Context, tenantID string) (string, error) {
			t, err := st.TenantByID(ctx, tenantID)
			if err != nil {
				return "", fmt.Errorf("reading tenant: %w", err)
			}
			return t.SIRET, nil
		},
		Logger: deps.Logger, Now: deps.Now, Metrics: profile.NewMetrics(deps.Registry),
	})
	if err != nil {
		return nil, fmt.Errorf("profiles: %w", err)
	}
	return svc, nil
}
