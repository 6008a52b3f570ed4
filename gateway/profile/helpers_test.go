package profile_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/connectors/clock"
	"github.com/relais-dev/relais/gateway/mandate"
	"github.com/relais-dev/relais/gateway/profile"
	"github.com/relais-dev/relais/gateway/profile/profiletest"
	"github.com/relais-dev/relais/gateway/store"
	"github.com/relais-dev/relais/gateway/store/storetest"
	"github.com/relais-dev/relais/mapping"
)

var (
	testPersonKey = []byte("profile-test-person-key-0123456789abcdef")
	start         = time.Date(2026, 3, 2, 9, 15, 0, 0, time.UTC)
)

// The test person, with names and a family quotient found nowhere else, so
// that a scan of the store can look for them.
const (
	familyName = "Lefèvre-Quintaval"
	givenName  = "Zoélie"
	otherGiven = "Marie-Hélène"
	// qfValue is the family quotient the CAF answers; "987.65" in JSON.
	qfValue = 987.65
)

// personalValues are what must never be found outside a sealed prefill:
// the identity asked, as sent and as the platform returns it, and the QF.
var personalValues = []string{familyName, "LEFEVRE-QUINTAVAL", givenName, "ZOELIE", otherGiven, "MARIE-HELENE", "987.65"}

func identity() mapping.Person {
	return mapping.Person{
		BirthFamilyName: familyName, GivenNames: []string{givenName, otherGiven}, Sex: mapping.SexFemale,
		BirthDate: "1948-03-14", BirthCountryCOG: "99134",
	}
}

// returnedIdentity is the identity as the CAF returns it: upper case,
// without accents.
func returnedIdentity() *mapping.Person {
	return &mapping.Person{
		BirthFamilyName: "LEFEVRE-QUINTAVAL", GivenNames: []string{"ZOELIE", "MARIE-HELENE"}, Sex: mapping.SexFemale,
		BirthDate: "1948-03-14", BirthCountryCOG: "99134",
	}
}

func mandatePerson() mandate.Person {
	p, ok := profile.BasisPerson(identity())
	if !ok {
		panic("the test identity has no basis person")
	}
	return p
}

var (
	cafOps = []connectors.PullOperation{
		{Name: "quotient_familial", Demarche: mapping.DemarcheFamille, Category: mapping.DataBenefit, FranceConnect: true},
		{Name: "revenu_solidarite_active", Demarche: mapping.DemarcheSocial, Category: mapping.DataBenefit, FranceConnect: true},
	}
	ftOps = []connectors.PullOperation{
		{Name: "france_travail_statut", Demarche: mapping.DemarcheTravail, Category: mapping.DataEmployment},
		{Name: "france_travail_indemnites", Demarche: mapping.DemarcheTravail, Category: mapping.DataEmployment},
	}
)

const tenantSIRET = "13002526500013"

// fixture is a lookup service on a real store, with two fake platforms
// reached over HTTP through the connectors' stack: the CAF (through API
// Particulier) and France Travail.
type fixture struct {
	st       *store.Store
	dsn      string
	driver   string
	clock    *clock.Fake
	mandates *mandate.Service
	svc      *profile.Service
	caf, ft  *profiletest.Platform
	cafP     *profiletest.Puller
	ftP      *profiletest.Puller
	a, b     mandate.Caller
}

type options struct {
	driver string
	cfg    profile.Config
	// extra pullers beside the CAF and France Travail.
	extra []connectors.Puller
}

func setup(tb testing.TB) *fixture { return setupWith(tb, options{}) }

func setupWith(tb testing.TB, opts options) *fixture {
	tb.Helper()
	if opts.driver == "" {
		opts.driver = "sqlite"
	}
	ctx := context.Background()
	f := &fixture{driver: opts.driver, clock: clock.NewFake(start)}
	f.dsn = storetest.DSN(tb, opts.driver)
	st, err := store.Open(ctx, store.Options{Driver: opts.driver, DSN: f.dsn, Keyring: storetest.Keyring(tb), Now: f.clock.Now})
	if err != nil {
		tb.Fatalf("opening store: %v", err)
	}
	tb.Cleanup(st.Close)
	if err := st.Migrate(ctx); err != nil {
		tb.Fatalf("migrating: %v", err)
	}
	f.st = st
	ta, err := st.CreateTenant(ctx, store.NewTenant{Name: "ehpad-les-tilleuls", SIRET: tenantSIRET}, store.ActorCLI)
	if err != nil {
		tb.Fatal(err)
	}
	tbn, err := st.EnsureTenant(ctx, "ccas-de-rennes")
	if err != nil {
		tb.Fatal(err)
	}
	f.a = mandate.Caller{TenantID: ta.ID, APIKeyID: "key_aaaaaaaaaaaaaaaa"}
	f.b = mandate.Caller{TenantID: tbn.ID, APIKeyID: "key_bbbbbbbbbbbbbbbb"}
	f.mandates, err = mandate.NewService(st, mandate.Config{PersonKey: testPersonKey, Now: f.clock.Now})
	if err != nil {
		tb.Fatal(err)
	}

	f.caf, f.ft = profiletest.NewPlatform(tb), profiletest.NewPlatform(tb)
	qf := mapping.NewQuotientFamilial(mapping.ProviderCNAF, qfValue, mapping.BenefitPeriod{Year: 2026, Month: 3, ComputedYear: 2026, ComputedMonth: 2})
	f.caf.Set("quotient_familial", profiletest.Answer{Data: profiletest.Data{
		Identity: returnedIdentity(), Provider: mapping.ProviderCNAF, Benefits: []mapping.Benefit{qf},
		Household: &mapping.Household{Allocataires: []mapping.Person{*returnedIdentity()}, Address: &mapping.Address{PostalCodeCity: "75002 PARIS"}},
		FetchedAt: start.Add(-time.Hour), Cached: true,
	}})
	f.ft.Set("france_travail_statut", profiletest.Answer{Data: profiletest.Data{
		Provider:   mapping.ProviderFranceTravail,
		Employment: &mapping.EmploymentRegistration{Identifier: "4412345A", StartDate: "2025-11-03", CategoryCode: "1", CategoryLabel: "Personne sans emploi"},
	}})
	f.ft.Set("france_travail_indemnites", profiletest.Answer{Data: profiletest.Data{
		Provider: mapping.ProviderFranceTravail,
		Payments: []mapping.Payment{{PaidOn: "2026-02-27", Total: 1012.4, Allowances: 1012.4}},
	}})
	f.cafP = profiletest.NewPuller(tb, "apiparticulier", f.caf.URL, cafOps, profiletest.PullerOptions{Now: f.clock.Now})
	f.ftP = profiletest.NewPuller(tb, "francetravail", f.ft.URL, ftOps, profiletest.PullerOptions{Now: f.clock.Now})
	f.svc, err = profile.NewService(opts.cfg, profile.Deps{
		Pullers: append([]connectors.Puller{f.cafP, f.ftP}, opts.extra...), Store: st, Mandates: f.mandates,
		PersonKey: testPersonKey, Now: f.clock.Now,
		Recipient: func(ctx context.Context, tenantID string) (string, error) {
			t, err := st.TenantByID(ctx, tenantID)
			return t.SIRET, err
		},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

// mandate creates an active mandate of c's tenant for the test person.
func (f *fixture) mandate(tb testing.TB, c mandate.Caller, p mandate.Person, demarches ...mandate.Demarche) string {
	tb.Helper()
	m, err := f.mandates.Create(context.Background(), c, mandate.NewMandate{
		Professional: mandate.Professional{ID: "pro-17", Name: "Camille Martin"}, Person: p, Demarches: demarches,
		DurationDays: 31, Consent: mandate.InPerson, AttestationSHA256: strings.Repeat("ab", 32),
	})
	if err != nil {
		tb.Fatalf("creating mandate: %v", err)
	}
	return m.ID
}

// consent records a consent of the test person for c's tenant.
func (f *fixture) consent(tb testing.TB, c mandate.Caller, categories, platforms []string, ttl time.Duration) mandate.Consent {
	tb.Helper()
	cons, err := mandate.NewConsent(c.TenantID, mandate.PersonRef(testPersonKey, mandatePerson()), categories, platforms, f.clock.Now(), ttl)
	if err != nil {
		tb.Fatal(err)
	}
	if err := f.st.CreateConsent(context.Background(), cons); err != nil {
		tb.Fatal(err)
	}
	return cons
}

func both() []profile.SourceRequest {
	return []profile.SourceRequest{{Name: "apiparticulier"}, {Name: "francetravail"}}
}

func (f *fixture) lookup(tb testing.TB, c mandate.Caller, req profile.Request) *profile.Profile {
	tb.Helper()
	p, err := f.svc.Lookup(context.Background(), c, req)
	if err != nil {
		tb.Fatalf("Lookup: %v", err)
	}
	return p
}

func source(tb testing.TB, p *profile.Profile, name string) profile.SourceResult {
	tb.Helper()
	i := slices.IndexFunc(p.Sources, func(s profile.SourceResult) bool { return s.Name == name })
	if i < 0 {
		tb.Fatalf("no source %s in %+v", name, p.Sources)
	}
	return p.Sources[i]
}

func operation(tb testing.TB, s profile.SourceResult, name string) profile.OperationResult {
	tb.Helper()
	i := slices.IndexFunc(s.Operations, func(o profile.OperationResult) bool { return o.Name == name })
	if i < 0 {
		tb.Fatalf("no operation %s in %+v", name, s.Operations)
	}
	return s.Operations[i]
}

// statuses sums a profile up as "source:status[op:status,...]".
func statuses(p *profile.Profile) string {
	var parts []string
	for _, s := range p.Sources {
		ops := make([]string, len(s.Operations))
		for i, o := range s.Operations {
			ops[i] = o.Name + ":" + string(o.Status)
			if o.Reason != "" {
				ops[i] += "(" + o.Reason + ")"
			}
		}
		parts = append(parts, s.Name+":"+string(s.Status)+"["+strings.Join(ops, ",")+"]")
	}
	return strings.Join(parts, " ")
}

// journal reads every journal entry of the tenant.
func (f *fixture) journal(tb testing.TB, tenantID string) []store.JournalEntry {
	tb.Helper()
	j, err := f.st.Journal(context.Background(), tenantID, 0, 10000)
	if err != nil {
		tb.Fatal(err)
	}
	return j
}

func entries(j []store.JournalEntry, op string) []store.JournalEntry {
	var out []store.JournalEntry
	for _, e := range j {
		if e.Operation == op {
			out = append(out, e)
		}
	}
	return out
}

// calls lists the operations a platform was called for.
func calls(p *profiletest.Platform) []string {
	var out []string
	for _, c := range p.Calls() {
		out = append(out, c.Operation)
	}
	slices.Sort(out)
	return out
}

// openBreaker trips the puller's breaker with failures of the platform,
// then lets the platform answer again: only the breaker refuses now.
func openBreaker(tb testing.TB, pl *profiletest.Platform, p *profiletest.Puller, op string) {
	tb.Helper()
	good, _ := pl.Answer(op)
	pl.Set(op, profiletest.Answer{Status: http.StatusServiceUnavailable})
	defer pl.Set(op, good)
	for range 2 {
		items, err := p.Pull(context.Background(), &connectors.PullQuery{Operations: []string{op}, Person: identity()})
		if err != nil || items[0].Err == nil {
			tb.Fatalf("tripping the breaker: %v %+v", err, items)
		}
	}
	if st := p.Status(); st.Breaker != "open" {
		tb.Fatalf("breaker %s, want open", st.Breaker)
	}
}
