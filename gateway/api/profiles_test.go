package api_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/gateway/api"
	"github.com/relais-dev/relais/gateway/mandate"
	"github.com/relais-dev/relais/gateway/profile"
	"github.com/relais-dev/relais/gateway/profile/profiletest"
	"github.com/relais-dev/relais/gateway/store"
	"github.com/relais-dev/relais/mapping"
)

// The lookup's person: names and a quotient found nowhere else, so that
// logs and problems can be searched for them.
var lookupPersonal = []string{"Quintaval", "QUINTAVAL", "Zoélie", "ZOELIE", "987.65", "1948-03-14"}

func lookupIdentity() map[string]any {
	return map[string]any{
		"birth_family_name": "Lefèvre-Quintaval", "given_names": []any{"Zoélie", "Marie-Hélène"}, "sex": "F",
		"birth_date": "1948-03-14", "birth_country_cog": "99134",
	}
}

func lookupMandatePerson() mandate.Person {
	return mandate.Person{FamilyName: "Lefèvre-Quintaval", GivenNames: "Zoélie Marie-Hélène", BirthDate: "1948-03-14", Sex: "female", BirthCountry: "99134"}
}

// flakyProfileStore is the store, failing the prefill's writes and reads
// on demand.
type flakyProfileStore struct {
	*store.Store
	fail *atomic.Bool
}

func (s flakyProfileStore) SaveProfile(ctx context.Context, r profile.Record, a []profile.Access) error {
	if s.fail.Load() {
		return errDisk
	}
	return s.Store.SaveProfile(ctx, r, a)
}

func (s flakyProfileStore) Profile(ctx context.Context, tenantID, id string, now time.Time) (profile.Record, error) {
	if s.fail.Load() {
		return profile.Record{}, errDisk
	}
	return s.Store.Profile(ctx, tenantID, id, now)
}

// profileBundle is a bundle whose server runs lookups against two fake
// platforms over HTTP.
type profileBundle struct {
	*bundle
	caf, ft *profiletest.Platform
	fail    *atomic.Bool
}

func setupProfiles(tb testing.TB) *profileBundle {
	tb.Helper()
	bnd := setup(tb)
	pb := &profileBundle{bundle: bnd, caf: profiletest.NewPlatform(tb), ft: profiletest.NewPlatform(tb), fail: &atomic.Bool{}}
	qf := mapping.NewQuotientFamilial(mapping.ProviderCNAF, 987.65, mapping.BenefitPeriod{Year: 2026, Month: 3})
	returned := &mapping.Person{BirthFamilyName: "LEFEVRE-QUINTAVAL", GivenNames: []string{"ZOELIE", "MARIE-HELENE"}, Sex: "F", BirthDate: "1948-03-14", BirthCountryCOG: "99134"}
	pb.caf.Set("quotient_familial", profiletest.Answer{Data: profiletest.Data{
		Identity: returned, Provider: mapping.ProviderCNAF, Benefits: []mapping.Benefit{qf},
		Household: &mapping.Household{Allocataires: []mapping.Person{*returned}, Address: &mapping.Address{PostalCodeCity: "75002 PARIS"}},
	}})
	pb.ft.Set("france_travail_statut", profiletest.Answer{Data: profiletest.Data{
		Provider: mapping.ProviderFranceTravail, Employment: &mapping.EmploymentRegistration{Identifier: "4412345A", StartDate: "2025-11-03"},
	}})
	pb.ft.Set("france_travail_indemnites", profiletest.Answer{Data: profiletest.Data{
		Provider: mapping.ProviderFranceTravail, Payments: []mapping.Payment{{PaidOn: "2026-02-27", Total: 1012.4}},
	}})
	caf := profiletest.NewPuller(tb, "apiparticulier", pb.caf.URL, []connectors.PullOperation{
		{Name: "quotient_familial", Demarche: mapping.DemarcheFamille, Category: mapping.DataBenefit, FranceConnect: true},
		{Name: "revenu_solidarite_active", Demarche: mapping.DemarcheSocial, Category: mapping.DataBenefit, FranceConnect: true},
	}, profiletest.PullerOptions{Now: bnd.clock.Now})
	ft := profiletest.NewPuller(tb, "francetravail", pb.ft.URL, []connectors.PullOperation{
		{Name: "france_travail_statut", Demarche: mapping.DemarcheTravail, Category: mapping.DataEmployment},
		{Name: "france_travail_indemnites", Demarche: mapping.DemarcheTravail, Category: mapping.DataEmployment},
	}, profiletest.PullerOptions{Now: bnd.clock.Now})
	svc, err := profile.NewService(profile.Config{}, profile.Deps{
		Pullers: []connectors.Puller{caf, ft}, Store: flakyProfileStore{bnd.store, pb.fail}, Mandates: bnd.mandates,
		PersonKey: testPersonKey, Now: bnd.clock.Now,
		Recipient: func(context.Context, string) (string, error) { return "13002526500013", nil },
	})
	if err != nil {
		tb.Fatal(err)
	}
	registry := connectors.NewRegistry()
	registry.Register(bnd.coffre)
	registry.Register(bnd.archiviste)
	bnd.server = api.New(api.Config{MaxDocumentSize: maxDocument}, api.Deps{
		Store: bnd.store, Connectors: registry, WorkersRunning: bnd.workersUp.Load, Mandates: bnd.mandates, Profiles: svc,
		Registry: prometheus.NewRegistry(), Logger: slog.New(slog.NewJSONHandler(bnd.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now: bnd.clock.Now,
	})
	bnd.srv = httptest.NewServer(bnd.server)
	tb.Cleanup(bnd.srv.Close)
	return pb
}

// mandate gives tn a mandate for the lookup's person.
func (pb *profileBundle) mandate(tb testing.TB, tn tenant, demarches ...mandate.Demarche) string {
	tb.Helper()
	m, err := pb.mandates.Create(context.Background(), mandate.Caller{TenantID: tn.id, APIKeyID: tn.keyID}, mandate.NewMandate{
		Professional: mandate.Professional{ID: "pro-17", Name: "Camille Martin"}, Person: lookupMandatePerson(),
		Demarches: demarches, DurationDays: 31, Consent: mandate.InPerson, AttestationSHA256: strings.Repeat("ab", 32),
	})
	if err != nil {
		tb.Fatal(err)
	}
	return m.ID
}

func lookupBody(basis string, id string, sources ...any) map[string]any {
	if len(sources) == 0 {
		sources = []any{map[string]any{"name": "apiparticulier", "operations": []any{"quotient_familial"}}, map[string]any{"name": "francetravail"}}
	}
	return map[string]any{"identity": lookupIdentity(), basis: id, "sources": sources}
}

func lookup(tn tenant, body []byte) call {
	return call{method: http.MethodPost, path: "/v1/profiles:lookup", auth: tn.bearer(), body: body}
}

type profileView struct {
	ID        string    `json:"id"`
	Href      string    `json:"href"`
	ExpiresAt time.Time `json:"expires_at"`
	Complete  bool      `json:"complete"`
	Sources   []struct {
		Name       string `json:"name"`
		Status     string `json:"status"`
		Operations []struct {
			Name, Status, Reason string
		} `json:"operations"`
	} `json:"sources"`
	Data struct {
		Benefits []struct {
			Value struct {
				Amount float64 `json:"amount"`
			} `json:"value"`
			Provenance struct {
				Source, Operation, Provider string
			} `json:"provenance"`
		} `json:"benefits"`
	} `json:"data"`
}

func (v profileView) status(source string) string {
	for _, s := range v.Sources {
		if s.Name == source {
			return s.Status
		}
	}
	return "absent"
}

// TestProfilesAPI runs every documented response of the profile routes.
func TestProfilesAPI(t *testing.T) {
	t.Parallel()
	bnd := setup(t)
	bnd.exerciseProfiles(t)
}

// exerciseProfiles causes every documented response of the profile
// routes, each checked against the document, on a bundle with lookups;
// their 503 on bnd, which has none. The coverage goes to bnd.
func (bnd *bundle) exerciseProfiles(t *testing.T) {
	t.Helper()
	pb := setupProfiles(t)
	a, b := pb.a, pb.b
	mid := pb.mandate(t, a, mandate.Famille, mandate.Travail)

	// A lookup, its prefill, another tenant's view of it.
	r := pb.do(t, lookup(a, encode(t, lookupBody("mandate_id", mid))))
	wantStatus(t, r, http.StatusCreated)
	v := decode[profileView](t, r)
	if r.header.Get("Location") != v.Href || v.Href != "/v1/profiles/"+v.ID || !v.Complete || v.status("apiparticulier") != "ok" ||
		v.status("francetravail") != "ok" || len(v.Data.Benefits) != 1 || v.Data.Benefits[0].Value.Amount != 987.65 ||
		v.Data.Benefits[0].Provenance.Provider != "CNAF" || !v.ExpiresAt.Equal(pb.clock.Now().Add(15*time.Minute)) {
		t.Fatalf("lookup: %s", r.body)
	}
	got := pb.do(t, get(a, v.Href))
	wantStatus(t, got, http.StatusOK)
	if strings.TrimSpace(string(got.body)) != strings.TrimSpace(string(r.body)) {
		t.Fatalf("GET differs from the lookup's answer:\n%s\n%s", got.body, r.body)
	}
	wantProblem(t, pb.do(t, get(b, v.Href)), http.StatusNotFound, "not_found")
	wantProblem(t, pb.do(t, get(a, "/v1/profiles/prf_aaaaaaaaaaaaaaaa")), http.StatusNotFound, "not_found")

	// Refused operations are statuses in a 201, not errors.
	narrow := pb.mandate(t, a, mandate.Famille)
	r = pb.do(t, lookup(a, encode(t, lookupBody("mandate_id", narrow))))
	wantStatus(t, r, http.StatusCreated)
	if v := decode[profileView](t, r); v.status("francetravail") != "refused" || v.Sources[1].Operations[0].Reason != "mandate_demarche_not_covered" || v.Complete {
		t.Fatalf("mandate not covering travail: %s", r.body)
	}

	// Requests refused whole, each with its code and field.
	for _, tc := range []struct {
		name        string
		body        map[string]any
		code, field string
	}{
		{"no basis", lookupBody("mandate_id", ""), "basis_required", "mandate_id"},
		{"two bases", set(lookupBody("mandate_id", mid), "consent_id", "cns_aaaaaaaaaaaaaaaa"), "basis_conflict", "consent_id"},
		{"another tenant's mandate", lookupBody("mandate_id", pb.mandate(t, b, mandate.Famille)), "", ""},
		{"unknown mandate", lookupBody("mandate_id", "mdt_aaaaaaaaaaaaaaaa"), "basis_not_found", "mandate_id"},
		{"unknown source", lookupBody("mandate_id", mid, map[string]any{"name": "dmp"}), "unknown_source", "sources[0].name"},
		{"duplicate source", lookupBody("mandate_id", mid, map[string]any{"name": "francetravail"}, map[string]any{"name": "francetravail"}), "duplicate_source", "sources[1].name"},
		{"unknown operation", lookupBody("mandate_id", mid, map[string]any{"name": "francetravail", "operations": []any{"dossier"}}), "unknown_operation", "sources[0].operations[0]"},
		{"no sources", set(lookupBody("mandate_id", mid), "sources", []any{}), "sources_required", "sources"},
		{"invalid identity", set(lookupBody("mandate_id", mid), "identity.birth_date", "14/03/1948"), "validation_failed", "identity.birth_date"},
	} {
		r := pb.do(t, lookup(a, encode(t, tc.body)))
		if tc.code == "" {
			// Another organisation's mandate: a refusal per operation.
			wantStatus(t, r, http.StatusCreated)
			if v := decode[profileView](t, r); v.status("apiparticulier") != "refused" || v.Sources[0].Operations[0].Reason != "mandate_other_organisation" {
				t.Fatalf("%s: %s", tc.name, r.body)
			}
			continue
		}
		p := wantProblem(t, r, http.StatusUnprocessableEntity, tc.code)
		if p.Field != tc.field || len(p.Errors) == 0 {
			t.Fatalf("%s: %s", tc.name, r.body)
		}
		for _, s := range lookupPersonal {
			if strings.Contains(string(r.body), s) {
				t.Fatalf("%s: the problem quotes %q", tc.name, s)
			}
		}
	}

	// Bodies that cannot be read, and nothing in the URL.
	for _, tc := range []struct {
		name        string
		c           call
		status      int
		code, field string
	}{
		{"malformed", lookup(a, []byte(`{"identity":`)), 400, "malformed_json", ""},
		{"unknown field", lookup(a, encode(t, set(lookupBody("mandate_id", mid), "identity.nom", "Lefèvre"))), 400, "unknown_field", "identity.nom"},
		{"wrong type", lookup(a, encode(t, set(lookupBody("mandate_id", mid), "fresh", "yes"))), 400, "invalid_type", "fresh"},
		{"identity in the URL", call{method: http.MethodPost, path: "/v1/profiles:lookup?nom=Quintaval&naissance=1948-03-14", auth: a.bearer(),
			body: encode(t, lookupBody("mandate_id", mid))}, 400, "query_not_allowed", ""},
		{"query on GET", call{method: http.MethodGet, path: v.Href + "?nom=Quintaval", auth: a.bearer()}, 400, "query_not_allowed", ""},
		{"too large", lookup(a, encode(t, set(lookupBody("mandate_id", mid), "identity.used_name", strings.Repeat("x", 17<<10)))), 413, "body_too_large", ""},
		{"not JSON", call{method: http.MethodPost, path: "/v1/profiles:lookup", auth: a.bearer(), body: []byte("nom=Quintaval"),
			header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, docRejects: true}, 415, "unsupported_media_type", ""},
	} {
		c := tc.c
		if tc.code == "malformed_json" || tc.code == "unknown_field" || tc.code == "invalid_type" {
			c.docRejects = true
		}
		p := wantProblem(t, pb.do(t, c), tc.status, tc.code)
		if p.Field != tc.field {
			t.Fatalf("%s: field %q, want %q", tc.name, p.Field, tc.field)
		}
	}

	// Keys.
	admin := newAdmin(t, pb.store)
	for _, c := range []call{lookup(admin, encode(t, lookupBody("mandate_id", mid))), get(admin, v.Href)} {
		wantProblem(t, pb.do(t, c), http.StatusForbidden, "tenant_key_required")
		c.auth, c.docRejects = "", true
		wantProblem(t, pb.do(t, c), http.StatusUnauthorized, "unauthenticated")
	}

	// The store failing: 500, the cause not shown.
	pb.fail.Store(true)
	for _, c := range []call{lookup(a, encode(t, lookupBody("mandate_id", mid))), get(a, v.Href)} {
		r := pb.do(t, c)
		wantProblem(t, r, http.StatusInternalServerError, "internal_error")
		if strings.Contains(string(r.body), "disk") {
			t.Fatalf("the cause leaks: %s", r.body)
		}
	}
	pb.fail.Store(false)

	// After the TTL: gone.
	pb.clock.Advance(15*time.Minute + time.Second)
	wantProblem(t, pb.do(t, get(a, v.Href)), http.StatusGone, "profile_expired")
	wantProblem(t, pb.do(t, get(b, v.Href)), http.StatusNotFound, "not_found")

	// No personal value in the logs, the query strings' included.
	for _, s := range lookupPersonal {
		if strings.Contains(pb.logs.String(), s) {
			t.Fatalf("the logs hold %q", s)
		}
	}

	// Without lookups: 503.
	wantProblem(t, bnd.do(t, lookup(bnd.a, encode(t, lookupBody("mandate_id", mid)))), http.StatusServiceUnavailable, api.CodeProfilesNotConfigured)
	wantProblem(t, bnd.do(t, get(bnd.a, v.Href)), http.StatusServiceUnavailable, api.CodeProfilesNotConfigured)

	bnd.addCoverage(pb.bundle)
}

// TestProfileAcrossTenants: one tenant's lookup is invisible to another,
// whose own lookup under the first one's mandate is refused.
func TestProfileAcrossTenants(t *testing.T) {
	t.Parallel()
	pb := setupProfiles(t)
	mid := pb.mandate(t, pb.a, mandate.Famille, mandate.Travail)
	r := pb.do(t, lookup(pb.a, encode(t, lookupBody("mandate_id", mid))))
	wantStatus(t, r, http.StatusCreated)
	v := decode[profileView](t, r)
	wantProblem(t, pb.do(t, get(pb.b, v.Href)), http.StatusNotFound, "not_found")
	r = pb.do(t, lookup(pb.b, encode(t, lookupBody("mandate_id", mid))))
	wantStatus(t, r, http.StatusCreated)
	for _, s := range decode[profileView](t, r).Sources {
		if s.Status != "refused" || s.Operations[0].Reason != "mandate_other_organisation" {
			t.Fatalf("b under a's mandate: %s", r.body)
		}
	}
	journal, err := pb.store.Journal(context.Background(), pb.a.id, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	refused := 0
	for _, e := range journal {
		if e.Operation == mandate.ActionUseAutorisation && e.Outcome == "refused" && strings.Contains(e.Detail, "caller_tenant="+pb.b.id) {
			refused++
		}
	}
	if refused == 0 {
		t.Fatalf("the other organisation's attempt is not in the mandate holder's journal: %+v", journal)
	}
}
