package apiparticulier_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/connectors/apiparticulier"
	"github.com/relais-dev/relais/mapping"
	mockapi "github.com/relais-dev/relais/mocks/apiparticulier"
)

// requestRecorder keeps the requests that reach next.
type requestRecorder struct {
	next http.Handler
	mu   sync.Mutex
	reqs []*http.Request
}

func (r *requestRecorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.reqs = append(r.reqs, req.Clone(context.Background()))
	r.mu.Unlock()
	r.next.ServeHTTP(w, req)
}

func (r *requestRecorder) last(t *testing.T) *http.Request {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.reqs) == 0 {
		t.Fatal("no request reached the platform")
	}
	return r.reqs[len(r.reqs)-1]
}

// The connector sends the platform's exact parameters: the identity traits
// under their names (prenoms[] repeated, the known parts of the birth
// date, the commune only for a person born in France), the recipient, the
// month of a quotient familial; the platform token as the bearer.
func TestRequestParameters(t *testing.T) {
	t.Parallel()
	compound := mapping.Person{
		BirthFamilyName: "N'GUESSAN-LEFÈVRE", UsedName: "MARTIN", GivenNames: []string{"Zoé", "Marie-Hélène", "Anne", "Lou"},
		Sex: mapping.SexFemale, BirthDate: "1987-11", BirthPlaceCOG: "2A004",
	}
	abroad := mapping.Person{BirthFamilyName: "FAKIR", GivenNames: []string{"EYMEN", "MOHAMED"}, Sex: mapping.SexMale, BirthDate: "1992", BirthCountryCOG: "99350"}
	tests := []struct {
		name  string
		q     *connectors.PullQuery
		path  string
		query url.Values
	}{
		{
			"compound names, month of birth only, Corsica, fourth given name dropped",
			query(compound, apiparticulier.OpPrimeActivite),
			"/v3/dss/prime_activite/identite",
			url.Values{
				"nomNaissance": {"N'GUESSAN-LEFÈVRE"}, "nomUsage": {"MARTIN"}, "prenoms[]": {"Zoé", "Marie-Hélène", "Anne"},
				"anneeDateNaissance": {"1987"}, "moisDateNaissance": {"11"}, "sexeEtatCivil": {"F"},
				"codeCogInseePaysNaissance": {"99100"}, "codeCogInseeCommuneNaissance": {"2A004"}, "recipient": {recipient},
			},
		},
		{
			"born abroad, year of birth only",
			query(abroad, apiparticulier.OpAllocationSoutienFamilial),
			"/v3/dss/allocation_soutien_familial/identite",
			url.Values{
				"nomNaissance": {"FAKIR"}, "prenoms[]": {"EYMEN", "MOHAMED"}, "anneeDateNaissance": {"1992"},
				"sexeEtatCivil": {"M"}, "codeCogInseePaysNaissance": {"99350"}, "recipient": {recipient},
			},
		},
		{
			"quotient familial of a month",
			func() *connectors.PullQuery {
				q := query(dupontSophie(), apiparticulier.OpQuotientFamilial)
				q.Month = mapping.BenefitPeriod{Year: 2023, Month: 6}
				return q
			}(),
			"/v3/dss/quotient_familial/identite",
			url.Values{
				"nomNaissance": {"DUPONT"}, "prenoms[]": {"Sophie"}, "anneeDateNaissance": {"1982"}, "moisDateNaissance": {"9"},
				"jourDateNaissance": {"3"}, "sexeEtatCivil": {"F"}, "codeCogInseePaysNaissance": {"99100"},
				"codeCogInseeCommuneNaissance": {"13001"}, "annee": {"2023"}, "mois": {"6"}, "recipient": {recipient},
			},
		},
		{
			"France Travail: the identifier, never the identity",
			query(withFranceTravail(dupontSophie(), "123456A"), apiparticulier.OpFranceTravailStatut),
			"/v3/france_travail/statut/identifiant",
			url.Values{"identifiant": {"123456A"}, "recipient": {recipient}},
		},
		{
			"FranceConnect: the recipient only",
			&connectors.PullQuery{Person: dupontSophie(), Recipient: recipient, AccessToken: mockapi.DefaultFranceConnectToken, Operations: []string{apiparticulier.OpRevenuSolidariteActive}},
			"/v3/dss/revenu_solidarite_active/france_connect",
			url.Values{"recipient": {recipient}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, mockapi.Options{}, nil)
			rec := &requestRecorder{next: b.mock}
			b.srv.Config.Handler = rec
			if _, err := b.client.Pull(context.Background(), tc.q); err != nil {
				t.Fatal(err)
			}
			req := rec.last(t)
			if req.Method != http.MethodGet || req.URL.Path != tc.path {
				t.Errorf("%s %s, want GET %s", req.Method, req.URL.Path, tc.path)
			}
			got := req.URL.Query()
			for k, v := range tc.query {
				if !slices.Equal(got[k], v) {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
			for k := range got {
				if _, ok := tc.query[k]; !ok {
					t.Errorf("unexpected parameter %s", k)
				}
			}
			bearer := "Bearer " + mockapi.DefaultToken
			if tc.q.AccessToken != "" {
				bearer = "Bearer " + tc.q.AccessToken.Reveal()
			}
			if auth := req.Header.Get("Authorization"); auth != bearer {
				t.Errorf("Authorization %q, want %q", auth, bearer)
			}
			if cc := req.Header.Get("Cache-Control"); cc != "" {
				t.Errorf("Cache-Control %q sent without PullQuery.Fresh", cc)
			}
			if st := b.mock.Stats(); st.Violations != 0 {
				t.Errorf("%d requests broke the mock's contract", st.Violations)
			}
		})
	}
}

// The platform's cache: a repeated query is answered from it, and the item
// says so, with the time the platform fetched the data; Fresh sends
// Cache-Control: no-cache and gets the data afresh.
func TestCache(t *testing.T) {
	t.Parallel()
	b := setup(t, mockapi.Options{}, nil)
	rec := &requestRecorder{next: b.mock}
	b.srv.Config.Handler = rec
	q := query(dupontSophie(), apiparticulier.OpQuotientFamilial)

	first := pullOne(t, b.client, q)
	fetched := b.clock.Now()
	if first.Err != nil || first.Cached || !first.FetchedAt.Equal(fetched) {
		t.Fatalf("first pull: cached %t at %s (%v), want fresh at %s", first.Cached, first.FetchedAt, first.Err, fetched)
	}
	b.clock.Advance(90 * time.Minute)
	second := pullOne(t, b.client, q)
	if second.Err != nil || !second.Cached || !second.FetchedAt.Equal(fetched) {
		t.Fatalf("second pull: cached %t at %s (%v), want cached, fetched at %s", second.Cached, second.FetchedAt, second.Err, fetched)
	}
	if cc := rec.last(t).Header.Get("Cache-Control"); cc != "" {
		t.Errorf("Cache-Control %q without Fresh", cc)
	}

	q.Fresh = true
	third := pullOne(t, b.client, q)
	if third.Err != nil || third.Cached || !third.FetchedAt.Equal(b.clock.Now()) {
		t.Fatalf("fresh pull: cached %t at %s (%v), want fresh now", third.Cached, third.FetchedAt, third.Err)
	}
	if cc := rec.last(t).Header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("Cache-Control %q with Fresh, want no-cache", cc)
	}
	// France Travail has no cache header to send.
	ft := query(withFranceTravail(mapping.Person{}, "123456A"), apiparticulier.OpFranceTravailStatut)
	ft.Fresh = true
	if item := pullOne(t, b.client, ft); item.Err != nil || item.Cached {
		t.Fatalf("France Travail: %+v", item)
	}
	if cc := rec.last(t).Header.Get("Cache-Control"); cc != "" {
		t.Errorf("Cache-Control %q on a France Travail route, which does not take it", cc)
	}
}
