package main

import (
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
	proconnectcontract "github.com/relais-dev/relais/contracts/proconnect"
	prosanteconnectcontract "github.com/relais-dev/relais/contracts/prosanteconnect"
	tdduicontract "github.com/relais-dev/relais/contracts/tddui"
	mockapiparticulier "github.com/relais-dev/relais/mocks/apiparticulier"
	mockcafpsu "github.com/relais-dev/relais/mocks/cafpsu"
	mockcoffrefort "github.com/relais-dev/relais/mocks/coffrefort"
	mockdmp "github.com/relais-dev/relais/mocks/dmp"
	mockfrancetravail "github.com/relais-dev/relais/mocks/francetravail"
	"github.com/relais-dev/relais/mocks/idp"
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
}

// mockInstance is a mock: what serves it and what drives it (faults,
// stats, reset; the same as its /_mock/ control API).
type mockInstance struct {
	handler http.Handler
	control *platform.Server
}

// catalog is the one list of platforms, in the order they are printed.
// `relais mocks`, `relais contracts verify|diff` and their tests read it.
func catalog() []entry {
	idpMock := func(profile func() idp.Profile) func(*slog.Logger) mockInstance {
		return func(l *slog.Logger) mockInstance {
			m := idp.New(profile(), idp.Options{Logger: l})
			return mockInstance{m, m.Platform()}
		}
	}
	return []entry{
		{"apiparticulier", apiparticuliercontract.Platform, func(l *slog.Logger) mockInstance {
			m := mockapiparticulier.New(mockapiparticulier.Options{Logger: l})
			return mockInstance{m, m.Platform()}
		}},
		{"cafpsu", cafpsucontract.Platform, func(l *slog.Logger) mockInstance {
			m := mockcafpsu.New(mockcafpsu.Options{Logger: l})
			return mockInstance{m, m.Platform()}
		}},
		{"francetravail", francetravailcontract.Platform, func(l *slog.Logger) mockInstance {
			m := mockfrancetravail.New(mockfrancetravail.Options{Logger: l})
			return mockInstance{m, m.Platform()}
		}},
		{"dmp", dmpcontract.Platform, func(l *slog.Logger) mockInstance {
			m := mockdmp.New(mockdmp.Options{Logger: l})
			return mockInstance{m, m.Platform()}
		}},
		{"tddui", tdduicontract.Platform, func(l *slog.Logger) mockInstance {
			m := mocktddui.New(mocktddui.Options{Logger: l})
			return mockInstance{m, m.Platform()}
		}},
		{"coffrefort", coffrefortcontract.Platform, func(l *slog.Logger) mockInstance {
			m := mockcoffrefort.New(mockcoffrefort.Options{Logger: l, Sandbox: true})
			return mockInstance{m, m.Platform()}
		}},
		{"franceconnect", franceconnectcontract.Platform, idpMock(idp.FranceConnect)},
		{"franceconnectplus", franceconnectpluscontract.Platform, idpMock(idp.FranceConnectPlus)},
		{"proconnect", proconnectcontract.Platform, idpMock(idp.ProConnect)},
		{"prosanteconnect", prosanteconnectcontract.Platform, idpMock(idp.ProSanteConnect)},
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
