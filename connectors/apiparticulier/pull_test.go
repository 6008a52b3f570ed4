package apiparticulier_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/connectors/apiparticulier"
	"github.com/relais-dev/relais/mapping"
	mockapi "github.com/relais-dev/relais/mocks/apiparticulier"
)

// pullOne pulls one operation and returns its item.
func pullOne(t *testing.T, c *apiparticulier.Client, q *connectors.PullQuery) connectors.PullItem {
	t.Helper()
	items, err := c.Pull(context.Background(), q)
	if err != nil {
		t.Fatalf("Pull: %v", err)
	}
	if len(items) != 1 {
		t.Fatalf("%d items, want 1", len(items))
	}
	return items[0]
}

// The platform's sandbox cases, in identite mode: names with accents and
// compound given names, the CNAF and the MSA, people born abroad, and the
// identities that make the platform fail.
func TestPullSandboxCases(t *testing.T) {
	t.Parallel()
	lefebvre := mapping.Person{
		BirthFamilyName: "LEFEBVRE", GivenNames: []string{"ALEXIS", "GÉRÔME", "JEAN-PHILIPPE"}, Sex: mapping.SexFemale,
		BirthDate: "1982-12-27", BirthPlaceCOG: "08480", BirthCountryCOG: mapping.CountryFrance,
	}
	// The sandbox's MSA case sends a birth date without its day.
	roux := mapping.Person{
		BirthFamilyName: "ROUX", GivenNames: []string{"JEANNE", "STEPHANIE"}, Sex: mapping.SexFemale,
		BirthDate: "1987-06", BirthPlaceCOG: "08480", BirthCountryCOG: mapping.CountryFrance,
	}
	fakir := mapping.Person{
		BirthFamilyName: "FAKIR", GivenNames: []string{"EYMEN", "MOHAMED"}, Sex: mapping.SexMale,
		BirthDate: "1992-11-14", BirthCountryCOG: "99350",
	}
	// Asked as SIMPSON, the sandbox answers the household of Marge BROWN:
	// the identity returned is hers, for the caller to find the mismatch.
	simpson := mapping.Person{
		BirthFamilyName: "SIMPSON", GivenNames: []string{"Marge"}, Sex: mapping.SexFemale,
		BirthDate: "1980-11-15", BirthCountryCOG: "99404",
	}
	giraudAnne := mapping.Person{
		BirthFamilyName: "GIRAUD", GivenNames: []string{"Anne"}, Sex: mapping.SexFemale,
		BirthDate: "1988-12-01", BirthPlaceCOG: "13002", BirthCountryCOG: mapping.CountryFrance,
	}
	martinSamuel := mapping.Person{
		BirthFamilyName: "MARTIN", GivenNames: []string{"Samuel"}, Sex: mapping.SexMale,
		BirthDate: "1980-09-20", BirthPlaceCOG: "08480", BirthCountryCOG: mapping.CountryFrance,
	}
	martinPierreRichard := mapping.Person{
		BirthFamilyName: "MARTIN", UsedName: "DUPONT", GivenNames: []string{"PIERRE", "RICHARD"}, Sex: mapping.SexMale,
		BirthDate: "1987-12-01", BirthPlaceCOG: "08480", BirthCountryCOG: mapping.CountryFrance,
	}
	trigger := func(name, given string) mapping.Person {
		return mapping.Person{BirthFamilyName: name, GivenNames: []string{given}, Sex: mapping.SexMale,
			BirthDate: "1980-01-01", BirthPlaceCOG: "75056", BirthCountryCOG: mapping.CountryFrance}
	}
	ft := func(id string) mapping.Person { return withFranceTravail(mapping.Person{}, id) }

	type want struct {
		outcome  connectors.Outcome
		code     string
		class    connectors.Class
		provider mapping.Provider
	}
	ok := func(p mapping.Provider) want { return want{outcome: connectors.OutcomeOK, provider: p} }
	fail := func(o connectors.Outcome, code string, class connectors.Class, p mapping.Provider) want {
		return want{outcome: o, code: code, class: class, provider: p}
	}
	tests := []struct {
		name  string
		op    string
		p     mapping.Person
		month mapping.BenefitPeriod
		want  want
		check func(t *testing.T, item *connectors.PullItem)
	}{
		{"accented compound names", apiparticulier.OpQuotientFamilial, lefebvre, mapping.BenefitPeriod{}, ok(mapping.ProviderCNAF), func(t *testing.T, item *connectors.PullItem) {
			qf(t, item, 2550, 2023, 6)
			if got := item.Identity.GivenNames; !slices.Equal(got, []string{"ALEXIS", "GÉRÔME", "JEAN-PHILIPPE"}) {
				t.Errorf("given names %q, want the compound name kept whole", got)
			}
		}},
		{"MSA, partial birth date", apiparticulier.OpQuotientFamilial, roux, mapping.BenefitPeriod{Year: 2023, Month: 5}, ok(mapping.ProviderMSA), func(t *testing.T, item *connectors.PullItem) {
			qf(t, item, 150, 2023, 5)
			if item.Identity == nil || item.Identity.GivenNames[0] != "JEANNE" {
				t.Errorf("identity %+v, want the allocataire asked about, not the partner", item.Identity)
			}
		}},
		{"MSA, no quotient that month", apiparticulier.OpQuotientFamilial, roux, mapping.BenefitPeriod{Year: 2023, Month: 4},
			fail(connectors.OutcomeNotFound, "10003", connectors.NotFound, mapping.ProviderMSA), nil},
		{"CNAF, no quotient that month", apiparticulier.OpQuotientFamilial, dupontSophie(), mapping.BenefitPeriod{Year: 2022, Month: 12},
			fail(connectors.OutcomeNotFound, "23003", connectors.NotFound, mapping.ProviderCNAF), nil},
		{"born abroad", apiparticulier.OpQuotientFamilial, fakir, mapping.BenefitPeriod{}, ok(mapping.ProviderCNAF), func(t *testing.T, item *connectors.PullItem) {
			qf(t, item, 4270, 2023, 6)
		}},
		{"born abroad, answered for another name", apiparticulier.OpQuotientFamilial, simpson, mapping.BenefitPeriod{}, ok(mapping.ProviderCNAF), func(t *testing.T, item *connectors.PullItem) {
			if item.Identity == nil || item.Identity.BirthFamilyName != "BROWN" {
				t.Errorf("identity %+v, want BROWN, as the platform answered", item.Identity)
			}
		}},
		{"crèche figures", apiparticulier.OpParticipationFamilialeEAJE, dupontSophie(), mapping.BenefitPeriod{}, ok(mapping.ProviderCNAF), func(t *testing.T, item *connectors.PullItem) {
			if b := item.Benefits[0]; b.Amount == nil || *b.Amount != 21600 || len(item.Household.Children) != 4 {
				t.Errorf("crèche figures %+v, household %+v", b, item.Household)
			}
		}},
		{"RSA with majoration", apiparticulier.OpRevenuSolidariteActive, martinSamuel, mapping.BenefitPeriod{}, ok(mapping.ProviderCNAF), func(t *testing.T, item *connectors.PullItem) {
			if b := item.Benefits[0]; b.Status != mapping.StatusBeneficiary || !b.Increased || b.StartDate != "1992-11-20" || b.Period.Year != 2024 || b.Period.Month != 12 {
				t.Errorf("RSA %+v, want a beneficiary with majoration since 1992-11-20, for 2024-12", b)
			}
			if item.Identity != nil {
				t.Errorf("identity %+v: the status routes return none", item.Identity)
			}
		}},
		{"AAH with a used name", apiparticulier.OpAllocationAdulteHandicape, martinPierreRichard, mapping.BenefitPeriod{}, ok(mapping.ProviderCNAF), func(t *testing.T, item *connectors.PullItem) {
			if b := item.Benefits[0]; b.Status != mapping.StatusBeneficiary {
				t.Errorf("AAH %+v, want a beneficiary", b)
			}
		}},
		{"RSA, another birth date", apiparticulier.OpRevenuSolidariteActive, trigger("MARTIN", "SAMUEL"), mapping.BenefitPeriod{},
			fail(connectors.OutcomeNotFound, "37003", connectors.NotFound, mapping.ProviderCNAF), nil},
		{"AEEH", apiparticulier.OpAllocationEnfantHandicape, giraudAnne, mapping.BenefitPeriod{}, ok(mapping.ProviderCNAF), func(t *testing.T, item *connectors.PullItem) {
			if b := item.Benefits[0]; b.Status != mapping.StatusBeneficiary || b.Kind != mapping.KindAllocationEnfantHandicape || b.StartDate != "2020-09-01" {
				t.Errorf("AEEH %+v", b)
			}
		}},
		{"C2S, nobody in the RNCPS", apiparticulier.OpComplementaireSanteSolidaire, nobody(), mapping.BenefitPeriod{},
			fail(connectors.OutcomeNotFound, "40003", connectors.NotFound, mapping.ProviderCNAF), nil},
		{"404 nobody", apiparticulier.OpAllocationAdulteHandicape, nobody(), mapping.BenefitPeriod{},
			fail(connectors.OutcomeNotFound, "37003", connectors.NotFound, mapping.ProviderCNAF), nil},
		{"429 DESFOUIN", apiparticulier.OpQuotientFamilial, trigger("DESFOUIN", "René"), mapping.BenefitPeriod{},
			fail(connectors.OutcomeRateLimited, "00429", connectors.Retryable, mapping.ProviderCNAF), nil},
		{"502 DELANOUE", apiparticulier.OpPrimeActivite, trigger("DELANOUE", "Jean-Marie"), mapping.BenefitPeriod{},
			fail(connectors.OutcomeUnavailable, "37999", connectors.Retryable, mapping.ProviderCNAF), nil},
		{"504 SITUDI", apiparticulier.OpRevenuSolidariteActive, trigger("SITUDI", "Clément"), mapping.BenefitPeriod{},
			fail(connectors.OutcomeTimeout, "37002", connectors.Retryable, mapping.ProviderCNAF), nil},
		{"504 provider down", apiparticulier.OpAllocationSoutienFamilial, trigger("PANNE", "CNAV"), mapping.BenefitPeriod{},
			fail(connectors.OutcomeUnavailable, "37001", connectors.Retryable, mapping.ProviderCNAF), nil},
		{"504 provider rate limited", apiparticulier.OpAllocationAdulteHandicape, trigger("SATURATION", "CNAV"), mapping.BenefitPeriod{},
			fail(connectors.OutcomeRateLimited, "37008", connectors.Retryable, mapping.ProviderCNAF), nil},
		{"France Travail registration", apiparticulier.OpFranceTravailStatut, ft("123456A"), mapping.BenefitPeriod{}, ok(mapping.ProviderFranceTravail), func(t *testing.T, item *connectors.PullItem) {
			if item.Employment == nil || item.Employment.CNAVCertificationCode != mapping.CNAVCertified || item.Identity == nil || item.Identity.BirthFamilyName != "Courtet" || item.Identity.Sex != mapping.SexFemale {
				t.Errorf("registration %+v, identity %+v", item.Employment, item.Identity)
			}
		}},
		{"France Travail payments", apiparticulier.OpFranceTravailIndemnites, ft("123456A"), mapping.BenefitPeriod{}, ok(mapping.ProviderFranceTravail), func(t *testing.T, item *connectors.PullItem) {
			if len(item.Payments) != 2 || item.Payments[0].Total <= 0 {
				t.Errorf("payments %+v, want two", item.Payments)
			}
		}},
		{"France Travail, nobody", apiparticulier.OpFranceTravailStatut, ft("inconnu"), mapping.BenefitPeriod{},
			fail(connectors.OutcomeNotFound, "24003", connectors.NotFound, mapping.ProviderFranceTravail), nil},
		{"France Travail, nothing paid", apiparticulier.OpFranceTravailIndemnites, ft("123457A"), mapping.BenefitPeriod{},
			fail(connectors.OutcomeNotFound, "24003", connectors.NotFound, mapping.ProviderFranceTravail), nil},
		{"France Travail down", apiparticulier.OpFranceTravailStatut, ft("indisponible"), mapping.BenefitPeriod{},
			fail(connectors.OutcomeUnavailable, "24001", connectors.Retryable, mapping.ProviderFranceTravail), nil},
		{"France Travail late", apiparticulier.OpFranceTravailIndemnites, ft("hors_delai"), mapping.BenefitPeriod{},
			fail(connectors.OutcomeTimeout, "24002", connectors.Retryable, mapping.ProviderFranceTravail), nil},
		{"France Travail unknown error", apiparticulier.OpFranceTravailStatut, ft("erreur_fournisseur"), mapping.BenefitPeriod{},
			fail(connectors.OutcomeUnavailable, "24999", connectors.Retryable, mapping.ProviderFranceTravail), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, mockapi.Options{}, nil)
			q := query(tc.p, tc.op)
			q.Month = tc.month
			item := pullOne(t, b.client, q)
			if got := connectors.OutcomeOf(item.Err); got != tc.want.outcome {
				t.Fatalf("outcome %s (%v), want %s", got, item.Err, tc.want.outcome)
			}
			if item.Provider != tc.want.provider {
				t.Errorf("provider %s, want %s", item.Provider, tc.want.provider)
			}
			if tc.want.outcome != connectors.OutcomeOK {
				ce, ok := errors.AsType[*connectors.Error](item.Err)
				if !ok || ce.Code != tc.want.code || ce.Class != tc.want.class || ce.Body == nil {
					t.Fatalf("error %#v, want a %s *connectors.Error with code %s and the platform's body", item.Err, tc.want.class, tc.want.code)
				}
				if item.Identity != nil || item.Household != nil || item.Benefits != nil || item.Employment != nil || item.Payments != nil {
					t.Errorf("a failed item carries data: %+v", item)
				}
				if tc.want.code == "00429" && ce.RetryAfter != time.Second {
					t.Errorf("Retry-After %s, want the platform's 1s", ce.RetryAfter)
				}
				return
			}
			if item.FetchedAt != b.clock.Now() || item.Cached {
				t.Errorf("fetched at %s (cached %t), want now, fresh", item.FetchedAt, item.Cached)
			}
			if tc.check != nil {
				tc.check(t, &item)
			}
			if st := b.mock.Stats(); st.Violations != 0 || st.ResponseViolations != 0 {
				t.Errorf("the mock saw %d requests and sent %d answers that break the contract", st.Violations, st.ResponseViolations)
			}
		})
	}
}

// qf checks a quotient familial item.
func qf(t *testing.T, item *connectors.PullItem, value float64, year, month int) {
	t.Helper()
	if len(item.Benefits) != 1 || item.Household == nil || item.Identity == nil {
		t.Fatalf("item %+v: want one benefit, a household and an identity", item)
	}
	b := item.Benefits[0]
	if b.Kind != mapping.KindQuotientFamilial || b.Amount == nil || *b.Amount != value || b.Period.Year != year || b.Period.Month != month {
		t.Errorf("quotient familial %+v, want %v for %d-%02d", b, value, year, month)
	}
}

// FranceConnect mode: the citizen's access token is the bearer, on the
// /france_connect routes, and no identity parameter is sent.
func TestPullFranceConnect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		token    connectors.Secret
		op       string
		outcome  connectors.Outcome
		provider mapping.Provider
		family   string
	}{
		{"CNAF quotient", mockapi.DefaultFranceConnectToken, apiparticulier.OpQuotientFamilial, connectors.OutcomeOK, mapping.ProviderCNAF, "CNAF"},
		{"CNAF RSA", mockapi.DefaultFranceConnectToken, apiparticulier.OpRevenuSolidariteActive, connectors.OutcomeOK, mapping.ProviderCNAF, ""},
		{"MSA quotient", "fc_placard_elsa", apiparticulier.OpQuotientFamilial, connectors.OutcomeOK, mapping.ProviderMSA, "PLACARD"},
		{"compound given name", "fc_huche_anne_laure", apiparticulier.OpQuotientFamilial, connectors.OutcomeOK, mapping.ProviderCNAF, "HUCHE"},
		{"nobody", "fc_inconnu", apiparticulier.OpQuotientFamilial, connectors.OutcomeNotFound, mapping.ProviderCNAF, ""},
		{"token unknown to FranceConnect", "fc_no_such_citizen", apiparticulier.OpPrimeActivite, connectors.OutcomeRefused, mapping.ProviderCNAF, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, mockapi.Options{}, nil)
			rec := &countingHandler{next: b.mock}
			b.srv.Config.Handler = rec
			// Only the access token: the platform asks FranceConnect.
			q := &connectors.PullQuery{Recipient: recipient, AccessToken: tc.token, Operations: []string{tc.op}}
			item := pullOne(t, b.client, q)
			if got := connectors.OutcomeOf(item.Err); got != tc.outcome {
				t.Fatalf("outcome %s (%v), want %s", got, item.Err, tc.outcome)
			}
			if item.Provider != tc.provider {
				t.Errorf("provider %s, want %s", item.Provider, tc.provider)
			}
			if got := rec.last.Get("Authorization"); got != "Bearer "+tc.token.Reveal() {
				t.Errorf("Authorization %q, want the citizen's token", got)
			}
			if st := b.mock.Stats(); st.ByOperation[tc.op+".france_connect"] != 1 || st.Violations != 0 {
				t.Errorf("calls %v, %d violations: want one call of the /france_connect route", st.ByOperation, st.Violations)
			}
			if tc.family != "" && (item.Identity == nil || item.Identity.BirthFamilyName != tc.family) {
				t.Errorf("identity %+v, want %s", item.Identity, tc.family)
			}
		})
	}
}

// The tenant's token refused: expired, blacklisted, unknown, or without the
// scope of the operation: refused, Permanent, with the platform's code.
func TestPullTokenRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		token  connectors.Secret
		op     string
		code   string
		status int
	}{
		{mockapi.ExpiredToken, apiparticulier.OpQuotientFamilial, "00103", http.StatusUnauthorized},
		{mockapi.BlacklistedToken, apiparticulier.OpQuotientFamilial, "00105", http.StatusUnauthorized},
		{"not-a-token-of-the-platform", apiparticulier.OpQuotientFamilial, "00101", http.StatusUnauthorized},
		{mockapi.RestrictedToken, apiparticulier.OpRevenuSolidariteActive, "00100", http.StatusForbidden},
	}
	for _, tc := range tests {
		t.Run(tc.code, func(t *testing.T) {
			t.Parallel()
			b := setup(t, mockapi.Options{}, func(c *apiparticulier.Config) { c.Token = tc.token })
			item := pullOne(t, b.client, query(dupontSophie(), tc.op))
			ce, ok := errors.AsType[*connectors.Error](item.Err)
			if !ok || ce.Code != tc.code || ce.Status != tc.status || ce.Class != connectors.Permanent || connectors.OutcomeOf(item.Err) != connectors.OutcomeRefused {
				t.Fatalf("error %v, want a Permanent refusal %d with code %s", item.Err, tc.status, tc.code)
			}
			st := b.client.Status()
			if st.LastFailure == nil || !strings.Contains(st.LastError, tc.code) {
				t.Errorf("status %+v, want the failure and its code", st)
			}
			if strings.Contains(st.LastError, tc.token.Reveal()) || strings.Contains(b.logs.String(), tc.token.Reveal()) {
				t.Error("the token is in the status or the logs")
			}
		})
	}
}

// Every operation at once: the items come back in the order asked, and one
// failing operation leaves the others' data.
func TestPullAllOperations(t *testing.T) {
	t.Parallel()
	b := setup(t, mockapi.Options{}, nil)
	p := withFranceTravail(dupontSophie(), "123457A") // registered, never paid
	items, err := b.client.Pull(context.Background(), query(p))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, op := range b.client.Operations() {
		got = append(got, op.Name)
	}
	if len(items) != len(got) {
		t.Fatalf("%d items for %d operations", len(items), len(got))
	}
	for i := range items {
		if items[i].Operation != got[i] {
			t.Errorf("item %d is %s, want %s", i, items[i].Operation, got[i])
		}
		want := connectors.OutcomeOK
		if items[i].Operation == apiparticulier.OpFranceTravailIndemnites {
			want = connectors.OutcomeNotFound
		}
		if o := connectors.OutcomeOf(items[i].Err); o != want {
			t.Errorf("%s: %s (%v), want %s", items[i].Operation, o, items[i].Err, want)
		}
	}
	st := b.client.Status()
	if st.LastSuccess == nil || st.LastFailure != nil {
		t.Errorf("status %+v: a not_found is the platform answering, not a failure", st)
	}
}

// What the query lacks: nothing runs and Pull fails (ErrInvalidQuery), or
// only the operations lacking their input fail, with outcome error.
func TestPullIncompleteQuery(t *testing.T) {
	t.Parallel()
	b := setup(t, mockapi.Options{}, nil)
	unknownSex := dupontSophie()
	unknownSex.Sex = mapping.SexUnknown
	invalid := []struct {
		name string
		q    *connectors.PullQuery
	}{
		{"no query", nil},
		{"no recipient", &connectors.PullQuery{Person: dupontSophie()}},
		{"recipient not a SIRET", &connectors.PullQuery{Person: dupontSophie(), Recipient: "13002526500014"}},
		{"unknown operation", query(dupontSophie(), "impots")},
		{"operation asked twice", query(dupontSophie(), apiparticulier.OpPrimeActivite, apiparticulier.OpPrimeActivite)},
		{"an identity the platform cannot take", query(unknownSex, apiparticulier.OpQuotientFamilial, apiparticulier.OpPrimeActivite)},
		{"no France Travail identifier", query(dupontSophie(), apiparticulier.OpFranceTravailStatut)},
	}
	for _, tc := range invalid {
		items, err := b.client.Pull(context.Background(), tc.q)
		if !errors.Is(err, connectors.ErrInvalidQuery) || items != nil {
			t.Errorf("%s: %d items, %v; want ErrInvalidQuery", tc.name, len(items), err)
		}
	}
	if n := b.mock.Stats().Requests; n != 0 {
		t.Fatalf("%d requests for queries that cannot run", n)
	}

	items, err := b.client.Pull(context.Background(), query(withFranceTravail(unknownSex, "123456A"),
		apiparticulier.OpQuotientFamilial, apiparticulier.OpFranceTravailStatut))
	if err != nil {
		t.Fatal(err)
	}
	if o := connectors.OutcomeOf(items[0].Err); o != connectors.OutcomeError || connectors.ClassOf(items[0].Err) != connectors.Permanent {
		t.Errorf("quotient familial for an unknown sex: %s (%v), want a Permanent error", o, items[0].Err)
	} else if !strings.Contains(items[0].Err.Error(), "sexeEtatCivil") {
		t.Errorf("error %q does not name the parameter", items[0].Err)
	}
	if items[1].Err != nil {
		t.Errorf("France Travail: %v, want it run", items[1].Err)
	}
	if n := b.mock.Stats().Requests; n != 1 {
		t.Errorf("%d requests, want 1 (France Travail only)", n)
	}
}

// Config.Operations limits what the connector offers and runs.
func TestOperationsEnabled(t *testing.T) {
	t.Parallel()
	b := setup(t, mockapi.Options{}, func(c *apiparticulier.Config) {
		c.Token = mockapi.RestrictedToken
		c.Operations = []string{apiparticulier.OpQuotientFamilial}
	})
	ops := b.client.Operations()
	if len(ops) != 1 || ops[0].Name != apiparticulier.OpQuotientFamilial || ops[0].Demarche != mapping.DemarcheFamille || ops[0].Category != mapping.DataHousehold || !ops[0].FranceConnect {
		t.Fatalf("operations %+v", ops)
	}
	items, err := b.client.Pull(context.Background(), query(dupontSophie()))
	if err != nil || len(items) != 1 || items[0].Err != nil {
		t.Fatalf("Pull of all enabled: %+v, %v", items, err)
	}
	if _, err := b.client.Pull(context.Background(), query(dupontSophie(), apiparticulier.OpPrimeActivite)); !errors.Is(err, connectors.ErrInvalidQuery) {
		t.Errorf("an operation not enabled: %v, want ErrInvalidQuery", err)
	}
}

// Every operation declares its démarche and data category.
func TestOperationsDeclared(t *testing.T) {
	t.Parallel()
	b := setup(t, mockapi.Options{}, nil)
	want := map[string]struct {
		d  mapping.Demarche
		c  mapping.DataCategory
		fc bool
	}{
		apiparticulier.OpQuotientFamilial:             {mapping.DemarcheFamille, mapping.DataHousehold, true},
		apiparticulier.OpParticipationFamilialeEAJE:   {mapping.DemarcheFamille, mapping.DataHousehold, true},
		apiparticulier.OpAllocationSoutienFamilial:    {mapping.DemarcheFamille, mapping.DataBenefit, true},
		apiparticulier.OpAllocationEnfantHandicape:    {mapping.DemarcheFamille, mapping.DataBenefit, true},
		apiparticulier.OpRevenuSolidariteActive:       {mapping.DemarcheSocial, mapping.DataBenefit, true},
		apiparticulier.OpPrimeActivite:                {mapping.DemarcheSocial, mapping.DataBenefit, true},
		apiparticulier.OpAllocationAdulteHandicape:    {mapping.DemarcheSocial, mapping.DataBenefit, true},
		apiparticulier.OpComplementaireSanteSolidaire: {mapping.DemarcheSocial, mapping.DataBenefit, true},
		apiparticulier.OpFranceTravailStatut:          {mapping.DemarcheTravail, mapping.DataEmployment, false},
		apiparticulier.OpFranceTravailIndemnites:      {mapping.DemarcheTravail, mapping.DataEmployment, false},
	}
	ops := b.client.Operations()
	if len(ops) != len(want) {
		t.Fatalf("%d operations, want %d", len(ops), len(want))
	}
	for _, op := range ops {
		w, ok := want[op.Name]
		if !ok || op.Demarche != w.d || op.Category != w.c || op.FranceConnect != w.fc {
			t.Errorf("operation %+v, want %+v", op, w)
		}
	}
}

// An open breaker refuses without calling the platform, and its error,
// which comes back with the request's URL, keeps no identity parameter.
func TestBreakerOpenKeepsNoIdentity(t *testing.T) {
	t.Parallel()
	b := setup(t, mockapi.Options{}, func(c *apiparticulier.Config) {
		c.Stack.Breaker = connectors.BreakerConfig{ConsecutiveFailures: 1, OpenTimeout: time.Hour}
	})
	panne := mapping.Person{BirthFamilyName: "PANNE", GivenNames: []string{"CNAV"}, Sex: mapping.SexMale,
		BirthDate: "1980-01-01", BirthPlaceCOG: "75056", BirthCountryCOG: mapping.CountryFrance}
	if item := pullOne(t, b.client, query(panne, apiparticulier.OpQuotientFamilial)); connectors.OutcomeOf(item.Err) != connectors.OutcomeUnavailable {
		t.Fatalf("provider down: %v", item.Err)
	}
	before := b.mock.Stats().Requests
	item := pullOne(t, b.client, query(dupontSophie(), apiparticulier.OpQuotientFamilial))
	if _, ok := errors.AsType[*connectors.BreakerOpenError](item.Err); !ok || connectors.OutcomeOf(item.Err) != connectors.OutcomeUnavailable {
		t.Fatalf("breaker open: %v, want a BreakerOpenError, unavailable", item.Err)
	}
	if msg := item.Err.Error(); strings.Contains(msg, "DUPONT") || strings.Contains(msg, "nomNaissance") || strings.Contains(msg, "?") {
		t.Errorf("the error keeps the query string: %s", msg)
	}
	if n := b.mock.Stats().Requests - before; n != 0 {
		t.Errorf("%d requests while the breaker is open", n)
	}
	if st := b.client.Status(); st.Breaker != "open" || !strings.Contains(st.LastError, "breaker open") {
		t.Errorf("status %+v", st)
	}
}
