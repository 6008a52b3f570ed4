package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/relais-dev/relais/contracts"
	apiparticuliercontract "github.com/relais-dev/relais/contracts/apiparticulier"
	cafpsucontract "github.com/relais-dev/relais/contracts/cafpsu"
	coffrefortcontract "github.com/relais-dev/relais/contracts/coffrefort"
	dmpcontract "github.com/relais-dev/relais/contracts/dmp"
	franceconnectcontract "github.com/relais-dev/relais/contracts/franceconnect"
	franceconnectpluscontract "github.com/relais-dev/relais/contracts/franceconnectplus"
	francetravailcontract "github.com/relais-dev/relais/contracts/francetravail"
	indicateurscontract "github.com/relais-dev/relais/contracts/indicateurs"
	proconnectcontract "github.com/relais-dev/relais/contracts/proconnect"
	prosanteconnectcontract "github.com/relais-dev/relais/contracts/prosanteconnect"
	tdduicontract "github.com/relais-dev/relais/contracts/tddui"
	mockapiparticulier "github.com/relais-dev/relais/mocks/apiparticulier"
	mockcafpsu "github.com/relais-dev/relais/mocks/cafpsu"
	mockcoffrefort "github.com/relais-dev/relais/mocks/coffrefort"
	mockdmp "github.com/relais-dev/relais/mocks/dmp"
	mockfrancetravail "github.com/relais-dev/relais/mocks/francetravail"
	mockindicateurs "github.com/relais-dev/relais/mocks/indicateurs"
	mockoidc "github.com/relais-dev/relais/mocks/oidc"
	"github.com/relais-dev/relais/mocks/platform"
	mocktddui "github.com/relais-dev/relais/mocks/tddui"
)

// entry is one platform Relais talks to: the checks of its contract and its
// mock.
type entry struct {
	name string
	// contract returns the contract and its cases (contracts/<name>).
	contract func() contracts.Platform
	// mock builds a fresh mock; logger receives its warnings (answers that
	// break the contract).
	mock func(logger *slog.Logger) mockInstance
	// signIn, set on identity providers only, builds the provider's mock
	// (a full OpenID Provider of mocks/oidc) for the relying parties
	// clients; mock builds it for localClient.
	signIn func(logger *slog.Logger, clients []mockoidc.Client) (mockInstance, error)
}

// mockInstance is a mock: what serves it and what drives it (faults,
// stats, reset; the same as its /_mock/ control API).
type mockInstance struct {
	handler http.Handler
	control *platform.Server
}

// The relying party every mock identity provider of `relais mocks` knows:
// a Relais on the default address of `relais serve` and `relais sandbox`.
const (
	localRelaisURL        = "http://127.0.0.1:8080"
	localOIDCClientID     = "relais-local"
	localOIDCClientSecret = "relais-local-secret"
)

// localClient is the client at the mock provider name of a Relais at
// localRelaisURL: its callback and logout pages, and its JWKS, where
// FranceConnect+ finds the key to encrypt tokens to.
func localClient(name string) mockoidc.Client {
	return mockoidc.Client{
		ID: localOIDCClientID, Secret: localOIDCClientSecret,
		RedirectURIs:           []string{localRelaisURL + "/auth/" + name + "/callback"},
		PostLogoutRedirectURIs: []string{localRelaisURL + "/auth/logged-out"},
		JWKSURL:                localRelaisURL + "/.well-known/jwks.json",
	}
}

// identityProvider is the catalog entry of an identity provider: its mock
// is the full OpenID Provider of mocks/oidc, named after the address it is
// served on.
func identityProvider(name string, contract func() contracts.Platform, profile func() mockoidc.Profile) entry {
	signIn := func(l *slog.Logger, clients []mockoidc.Client) (mockInstance, error) {
		p, err := mockoidc.New(profile(), mockoidc.Options{Clients: clients, Logger: l})
		if err != nil {
			return mockInstance{}, fmt.Errorf("building the mock %s: %w", name, err)
		}
		return mockInstance{p, p.Platform()}, nil
	}
	return entry{name: name, contract: contract, signIn: signIn, mock: func(l *slog.Logger) mockInstance {
		m, err := signIn(l, []mockoidc.Client{localClient(name)})
		if err != nil {
			panic(err) // the catalog's own options: a programming error
		}
		return m
	}}
}

// catalog is the one list of platforms, in the order they are printed.
// `relais mocks`, `relais contracts verify|diff`, `relais sandbox` and their
// tests read it.
func catalog() []entry {
	return []entry{
		{name: "apiparticulier", contract: apiparticuliercontract.Platform, mock: func(l *slog.Logger) mockInstance {
			m := mockapiparticulier.New(mockapiparticulier.Options{Logger: l})
			return mockInstance{m, m.Platform()}
		}},
		{name: "cafpsu", contract: cafpsucontract.Platform, mock: func(l *slog.Logger) mockInstance {
			m := mockcafpsu.New(mockcafpsu.Options{Logger: l})
			return mockInstance{m, m.Platform()}
		}},
		{name: "francetravail", contract: francetravailcontract.Platform, mock: func(l *slog.Logger) mockInstance {
			m := mockfrancetravail.New(mockfrancetravail.Options{Logger: l})
			return mockInstance{m, m.Platform()}
		}},
		{name: "dmp", contract: dmpcontract.Platform, mock: func(l *slog.Logger) mockInstance {
			m := mockdmp.New(mockdmp.Options{Logger: l})
			return mockInstance{m, m.Platform()}
		}},
		{name: "tddui", contract: tdduicontract.Platform, mock: func(l *slog.Logger) mockInstance {
			m := mocktddui.New(mocktddui.Options{Logger: l})
			return mockInstance{m, m.Platform()}
		}},
		{name: "indicateurs", contract: indicateurscontract.Platform, mock: func(l *slog.Logger) mockInstance {
			m := mockindicateurs.New(mockindicateurs.Options{Logger: l})
			return mockInstance{m, m.Platform()}
		}},
		{name: "coffrefort", contract: coffrefortcontract.Platform, mock: func(l *slog.Logger) mockInstance {
			m := mockcoffrefort.New(mockcoffrefort.Options{Logger: l, Sandbox: true})
			return mockInstance{m, m.Platform()}
		}},
		identityProvider("franceconnect", franceconnectcontract.Platform, mockoidc.FranceConnect),
		identityProvider("franceconnectplus", franceconnectpluscontract.Platform, mockoidc.FranceConnectPlus),
		identityProvider("proconnect", proconnectcontract.Platform, mockoidc.ProConnect),
		identityProvider("prosanteconnect", prosanteconnectcontract.Platform, mockoidc.ProSanteConnect),
	}
}

// lookup returns the entry named name.
func lookup(cat []entry, name string) (entry, bool) {
	i := slices.IndexFunc(cat, func(e entry) bool { return e.name == name })
	if i < 0 {
		return entry{}, false
	}
	return cat[i], true
}

// names lists the platforms of cat, comma-separated.
func names(cat []entry) string {
	out := make([]string, 0, len(cat))
	for _, e := range cat {
		out = append(out, e.name)
	}
	return strings.Join(out, ", ")
}
