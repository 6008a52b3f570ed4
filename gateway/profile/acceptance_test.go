package profile_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/connectors/apiparticulier"
	"github.com/relais-dev/relais/connectors/francetravail"
	"github.com/relais-dev/relais/gateway/mandate"
	"github.com/relais-dev/relais/gateway/profile"
	"github.com/relais-dev/relais/mapping"
	mockapi "github.com/relais-dev/relais/mocks/apiparticulier"
	mockft "github.com/relais-dev/relais/mocks/francetravail"
	"github.com/relais-dev/relais/mocks/platform"
)

// realSources is a lookup service whose sources are the real connectors,
// API Particulier and France Travail, on their mocks.
type realSources struct {
	*fixture
	svc    *profile.Service
	ftMock *mockft.Server
	ft     *francetravail.Client
}

// dupontSophie is a CAF allocataire of API Particulier's sandbox (quotient
// familial 900, the last on file); her NIR, with a valid key, is ours.
func dupontSophie() mapping.Person {
	return mapping.Person{
		BirthFamilyName: "DUPONT", GivenNames: []string{"Sophie"}, Sex: mapping.SexFemale,
		BirthDate: "1982-09-03", BirthPlaceCOG: "13001", BirthCountryCOG: mapping.CountryFrance,
		INS: &mapping.INS{Value: "282091300112381", System: mapping.INSSystemNIR},
	}
}

func setupRealSources(tb testing.TB) *realSources {
	tb.Helper()
	f := setup(tb)
	ap := httptest.NewServer(mockapi.New(mockapi.Options{}))
	tb.Cleanup(ap.Close)
	rs := &realSources{fixture: f, ftMock: mockft.New(mockft.Options{})}
	ftSrv := httptest.NewServer(rs.ftMock)
	tb.Cleanup(ftSrv.Close)
	caf, err := apiparticulier.New("apiparticulier", apiparticulier.Config{BaseURL: ap.URL, Token: mockapi.DefaultToken}, connectors.Deps{})
	if err != nil {
		tb.Fatal(err)
	}
	rs.ft, err = francetravail.New("francetravail", francetravail.Config{
		BaseURL: ftSrv.URL, ClientID: mockft.DefaultClientID, ClientSecret: mockft.DefaultClientSecret,
		Stack: connectors.StackConfig{
			Retry:   connectors.RetryConfig{Max: -1},
			Breaker: connectors.BreakerConfig{ConsecutiveFailures: 2, OpenTimeout: time.Minute},
		},
	}, connectors.Deps{})
	if err != nil {
		tb.Fatal(err)
	}
	rs.svc, err = profile.NewService(profile.Config{}, profile.Deps{
		Pullers: []connectors.Puller{caf, rs.ft}, Store: f.st, Mandates: f.mandates, PersonKey: testPersonKey, Now: f.clock.Now,
		Recipient: func(context.Context, string) (string, error) { return tenantSIRET, nil },
	})
	if err != nil {
		tb.Fatal(err)
	}
	return rs
}

// openFranceTravailBreaker makes France Travail's searches fail until the
// connector's breaker opens, then lets the platform answer again: only
// the breaker refuses from then on.
func (rs *realSources) openFranceTravailBreaker(tb testing.TB) {
	tb.Helper()
	fail := platform.Faults{Rules: []platform.Rule{{Operations: []string{"usagers.search_by_nir"}, Status: 503}}}
	if err := rs.ftMock.Platform().SetFaults(fail); err != nil {
		tb.Fatal(err)
	}
	for range 2 {
		items, err := rs.ft.Pull(context.Background(), &connectors.PullQuery{Person: dupontSophie(), Operations: []string{"france_travail_statut"}})
		if err != nil || items[0].Err == nil {
			tb.Fatalf("tripping the breaker: %v %+v", err, items)
		}
	}
	if err := rs.ftMock.Platform().SetFaults(platform.Faults{}); err != nil {
		tb.Fatal(err)
	}
	if st := rs.ft.Status(); st.Breaker != "open" {
		tb.Fatalf("France Travail's breaker is %s", st.Breaker)
	}
}

func (rs *realSources) sophieRequest(tb testing.TB) profile.Request {
	tb.Helper()
	bp, ok := profile.BasisPerson(dupontSophie())
	if !ok {
		tb.Fatal("no basis person")
	}
	mid := rs.mandate(tb, rs.a, bp, mandate.Famille, mandate.Travail)
	return profile.Request{Identity: dupontSophie(), MandateID: mid, Sources: []profile.SourceRequest{
		{Name: "apiparticulier", Operations: []string{apiparticulier.OpQuotientFamilial}},
		{Name: "francetravail"},
	}}
}

// TestPartialAnswerOnRealConnectors is the acceptance case on the real
// connectors: France Travail's breaker open, the CAF answering through the
// API Particulier mock; the lookup returns the CAF's quotient familial with
// France Travail unavailable.
func TestPartialAnswerOnRealConnectors(t *testing.T) {
	t.Parallel()
	rs := setupRealSources(t)
	req := rs.sophieRequest(t)
	rs.openFranceTravailBreaker(t)

	began := time.Now()
	p, err := rs.svc.Lookup(context.Background(), rs.a, req)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(began)
	caf, ft := source(t, p, "apiparticulier"), source(t, p, "francetravail")
	t.Logf("lookup with France Travail's breaker open: %s (the CAF source: %d ms)", took, caf.DurationMS)
	if ft.Status != connectors.OutcomeUnavailable {
		t.Fatalf("France Travail: %s", statuses(p))
	}
	if caf.Status != connectors.OutcomeOK || len(p.Data.Benefits) != 1 || p.Data.Benefits[0].Value.Amount == nil || *p.Data.Benefits[0].Value.Amount != 900 ||
		p.Data.Benefits[0].Provenance.Provider != mapping.ProviderCNAF || p.Data.Benefits[0].Provenance.Source != "apiparticulier" {
		t.Fatalf("the CAF's quotient familial: %s %+v", statuses(p), p.Data.Benefits)
	}
	if caf.Identity == nil || caf.Identity.Status == string(mapping.MatchStatusMismatch) {
		t.Fatalf("the CAF's allocataire does not match the person asked: %+v", caf.Identity)
	}
}

// BenchmarkPartialAnswer measures a lookup whose France Travail breaker is
// open against the CAF alone: what the open breaker costs (the acceptance
// criterion: under 100 ms plus the CAF's latency). Both are paced by the
// API Particulier connector's rate limit (18 requests a second per token):
// run it with a small -benchtime, such as 36x.
func BenchmarkPartialAnswer(b *testing.B) {
	rs := setupRealSources(b)
	req := rs.sophieRequest(b)
	rs.openFranceTravailBreaker(b)
	cafOnly := req
	cafOnly.Sources = req.Sources[:1]
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		req  profile.Request
	}{{"caf-only", cafOnly}, {"caf+ft-breaker-open", req}} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				p, err := rs.svc.Lookup(ctx, rs.a, bc.req)
				if err != nil || source(b, p, "apiparticulier").Status != connectors.OutcomeOK {
					b.Fatalf("%v %s", err, statuses(p))
				}
			}
		})
	}
}
