package profile_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/gateway/mandate"
	"github.com/relais-dev/relais/gateway/profile"
	"github.com/relais-dev/relais/gateway/profile/profiletest"
	"github.com/relais-dev/relais/gateway/store"
	"github.com/relais-dev/relais/mapping"
)

// TestLookupUnderMandate runs a whole lookup: both sources, every value
// with its provenance, the identity checked, the platforms called with the
// identity in the body, every step journaled without personal data, and
// the prefill read back.
func TestLookupUnderMandate(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	mid := f.mandate(t, f.a, mandatePerson(), mandate.Famille, mandate.Social, mandate.Travail)
	p := f.lookup(t, f.a, profile.Request{Identity: identity(), MandateID: mid, Sources: both(), Month: "2026-03"})

	if got, want := statuses(p), "apiparticulier:ok[quotient_familial:ok,revenu_solidarite_active:not_found(not_found)] "+
		"francetravail:ok[france_travail_statut:ok,france_travail_indemnites:ok]"; got != want {
		t.Fatalf("statuses\n got %s\nwant %s", got, want)
	}
	if p.Complete != true || p.Basis != (profile.Basis{Kind: profile.BasisMandate, ID: mid}) ||
		p.PersonRef != mandate.PersonRef(testPersonKey, mandatePerson()) || !p.ExpiresAt.Equal(start.Add(15*time.Minute)) {
		t.Fatalf("profile: %+v", p)
	}
	caf := source(t, p, "apiparticulier")
	if caf.Identity == nil || caf.Identity.Status != "match" {
		t.Fatalf("identity check: %+v", caf.Identity)
	}
	qf := operation(t, caf, "quotient_familial")
	if qf.Provider != mapping.ProviderCNAF || !qf.Cached || qf.FetchedAt == nil || !qf.FetchedAt.Equal(start.Add(-time.Hour)) {
		t.Fatalf("quotient_familial: %+v", qf)
	}
	wantProv := profile.Provenance{Source: "apiparticulier", Operation: "quotient_familial", Provider: mapping.ProviderCNAF,
		FetchedAt: start.Add(-time.Hour), Cached: true, Identity: "match"}
	if len(p.Data.Benefits) != 1 || *p.Data.Benefits[0].Value.Amount != qfValue || p.Data.Benefits[0].Provenance != wantProv {
		t.Fatalf("benefits: %+v", p.Data.Benefits)
	}
	if len(p.Data.Persons) != 1 || p.Data.Persons[0].Value.BirthFamilyName != "LEFEVRE-QUINTAVAL" || len(p.Data.Households) != 1 {
		t.Fatalf("persons and households: %+v %+v", p.Data.Persons, p.Data.Households)
	}
	ftProv := profile.Provenance{Source: "francetravail", Operation: "france_travail_indemnites", Provider: mapping.ProviderFranceTravail,
		FetchedAt: start, Identity: profile.IdentityNotReturned}
	if len(p.Data.EmploymentRegistrations) != 1 || p.Data.EmploymentRegistrations[0].Value.Identifier != "4412345A" ||
		len(p.Data.Payments) != 1 || p.Data.Payments[0].Provenance != ftProv {
		t.Fatalf("France Travail data: %+v %+v", p.Data.EmploymentRegistrations, p.Data.Payments)
	}

	// What the platforms received: the identity in the body, the tenant's
	// SIRET as recipient, no query string, no citizen token.
	for _, c := range append(f.caf.Calls(), f.ft.Calls()...) {
		if c.Person.BirthFamilyName != familyName || c.Recipient != tenantSIRET || c.RawQuery != "" || c.Token != "" {
			t.Fatalf("platform call: %+v", c)
		}
	}

	// The journal: one use per démarche, one pull per source; no value.
	j := f.journal(t, f.a.TenantID)
	uses := entries(j, mandate.ActionUseAutorisation)
	var demarches []string
	for _, e := range uses {
		demarches = append(demarches, e.Categories...)
		if e.Outcome != "ok" || !strings.Contains(e.Detail, "mandate="+mid) {
			t.Fatalf("mandate use: %+v", e)
		}
	}
	if slices.Sort(demarches); strings.Join(demarches, ",") != "famille,social,travail" {
		t.Fatalf("démarches used: %v", demarches)
	}
	pulls := entries(j, profile.OpPull)
	if len(pulls) != 2 || pulls[0].Destination != "apiparticulier" || pulls[0].Outcome != "ok" ||
		strings.Join(pulls[0].Categories, ",") != "benefit" || strings.Join(pulls[1].Categories, ",") != "employment" {
		t.Fatalf("pulls: %+v", pulls)
	}
	for _, e := range pulls {
		for _, want := range []string{"profile=" + p.ID, "mandate=" + mid, "person=" + p.PersonRef} {
			if !strings.Contains(e.Detail, want) {
				t.Fatalf("pull entry %q lacks %q", e.Detail, want)
			}
		}
	}
	raw, _ := json.Marshal(j)
	for _, v := range personalValues {
		if strings.Contains(string(raw), v) {
			t.Fatalf("the journal holds %q", v)
		}
	}

	// The prefill reads back as returned, for its tenant only.
	body, err := f.svc.Get(ctx, f.a, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	first, _ := json.Marshal(p)
	if string(body) != string(first) {
		t.Fatalf("stored profile differs:\n%s\n%s", body, first)
	}
	if _, err := f.svc.Get(ctx, f.b, p.ID); !errors.Is(err, profile.ErrNotFound) {
		t.Fatalf("another tenant's read: %v", err)
	}
	if reads := entries(f.journal(t, f.a.TenantID), profile.OpRead); len(reads) != 1 || reads[0].Detail != "profile="+p.ID {
		t.Fatalf("reads journaled: %+v", reads)
	}
}

// TestPartialAnswerBreakerOpen is the acceptance case: France Travail's
// breaker is open, the CAF answers; the lookup returns the CAF data with
// France Travail unavailable, without calling France Travail.
func TestPartialAnswerBreakerOpen(t *testing.T) {
	t.Parallel()
	f := setup(t)
	mid := f.mandate(t, f.a, mandatePerson(), mandate.Famille, mandate.Social, mandate.Travail)
	openBreaker(t, f.ft, f.ftP, "france_travail_statut")
	before := len(f.ft.Calls())

	began := time.Now()
	p := f.lookup(t, f.a, profile.Request{Identity: identity(), MandateID: mid, Sources: both()})
	t.Logf("lookup with France Travail's breaker open took %s", time.Since(began))

	ft := source(t, p, "francetravail")
	if ft.Status != connectors.OutcomeUnavailable || operation(t, ft, "france_travail_statut").Status != connectors.OutcomeUnavailable {
		t.Fatalf("France Travail: %s", statuses(p))
	}
	if caf := source(t, p, "apiparticulier"); caf.Status != connectors.OutcomeOK || len(p.Data.Benefits) != 1 || *p.Data.Benefits[0].Value.Amount != qfValue {
		t.Fatalf("the CAF data is missing: %s %+v", statuses(p), p.Data.Benefits)
	}
	if p.Complete {
		t.Fatal("a partial answer says it is complete")
	}
	if got := f.ft.Calls()[before:]; slices.ContainsFunc(got, func(c profiletest.Call) bool { return c.Operation == "france_travail_statut" }) {
		t.Fatalf("France Travail was called through an open breaker: %+v", got)
	}
	if pulls := entries(f.journal(t, f.a.TenantID), profile.OpPull); len(pulls) != 2 || pulls[1].Outcome != "unavailable" {
		t.Fatalf("pulls journaled: %+v", pulls)
	}
}

// TestMandateChecks: each operation is checked against the mandate; a
// refusal stops only its operations, is journaled, and never reaches the
// platform.
func TestMandateChecks(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// prepare returns the mandate to look up under.
		prepare func(t *testing.T, f *fixture) string
		caller  func(f *fixture) mandate.Caller
		want    string
		// refused is the journal's refused use, "" when none.
		refused string
	}{
		{
			name: "démarche not covered",
			prepare: func(t *testing.T, f *fixture) string {
				return f.mandate(t, f.a, mandatePerson(), mandate.Famille, mandate.Travail)
			},
			want: "apiparticulier:ok[quotient_familial:ok,revenu_solidarite_active:refused(mandate_demarche_not_covered)] " +
				"francetravail:ok[france_travail_statut:ok,france_travail_indemnites:ok]",
			refused: "social reason=mandate_demarche_not_covered",
		},
		{
			name: "revoked",
			prepare: func(t *testing.T, f *fixture) string {
				id := f.mandate(t, f.a, mandatePerson(), mandate.Famille, mandate.Social, mandate.Travail)
				if _, err := f.mandates.Revoke(context.Background(), f.a, id); err != nil {
					t.Fatal(err)
				}
				return id
			},
			want: "apiparticulier:refused[quotient_familial:refused(mandate_revoked),revenu_solidarite_active:refused(mandate_revoked)] " +
				"francetravail:refused[france_travail_statut:refused(mandate_revoked),france_travail_indemnites:refused(mandate_revoked)]",
			refused: "famille reason=mandate_revoked",
		},
		{
			name: "another organisation's",
			prepare: func(t *testing.T, f *fixture) string {
				return f.mandate(t, f.b, mandatePerson(), mandate.Famille, mandate.Social, mandate.Travail)
			},
			want: "apiparticulier:refused[quotient_familial:refused(mandate_other_organisation),revenu_solidarite_active:refused(mandate_other_organisation)] " +
				"francetravail:refused[france_travail_statut:refused(mandate_other_organisation),france_travail_indemnites:refused(mandate_other_organisation)]",
		},
		{
			name: "another person's",
			prepare: func(t *testing.T, f *fixture) string {
				other := mandatePerson()
				other.GivenNames = "Albertine"
				return f.mandate(t, f.a, other, mandate.Famille, mandate.Social, mandate.Travail)
			},
			want: "apiparticulier:refused[quotient_familial:refused(identity_not_covered),revenu_solidarite_active:refused(identity_not_covered)] " +
				"francetravail:refused[france_travail_statut:refused(identity_not_covered),france_travail_indemnites:refused(identity_not_covered)]",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			mid := tc.prepare(t, f)
			p := f.lookup(t, f.a, profile.Request{Identity: identity(), MandateID: mid, Sources: both()})
			if got := statuses(p); got != tc.want {
				t.Fatalf("statuses\n got %s\nwant %s", got, tc.want)
			}
			for _, op := range calls(f.caf) {
				if op != "quotient_familial" {
					t.Fatalf("the platform was called for %s, which was refused", op)
				}
			}
			if tc.refused == "" {
				return
			}
			demarche, reason, _ := strings.Cut(tc.refused, " ")
			uses := entries(f.journal(t, f.a.TenantID), mandate.ActionUseAutorisation)
			if !slices.ContainsFunc(uses, func(e store.JournalEntry) bool {
				return e.Outcome == "refused" && slices.Equal(e.Categories, []string{demarche}) && strings.Contains(e.Detail, reason)
			}) {
				t.Fatalf("no refused use of %s journaled: %+v", tc.refused, uses)
			}
		})
	}
}

// TestConsentChecks: each operation is checked against the consent, and
// each check is journaled as a consent use.
func TestConsentChecks(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name                  string
		categories, platforms []string
		advance               time.Duration
		// identity is the person asked for; nil: the consent's person.
		identity func() mapping.Person
		want     string
	}{
		{
			name: "category missing", categories: []string{"identity", "employment"}, platforms: []string{"apiparticulier", "francetravail"},
			want: "apiparticulier:refused[quotient_familial:refused(consent_category_not_covered),revenu_solidarite_active:refused(consent_category_not_covered)] " +
				"francetravail:ok[france_travail_statut:ok,france_travail_indemnites:ok]",
		},
		{
			// An operation's name is not a data category: it covers nothing.
			name: "operation name as category", categories: []string{"quotient_familial", "france_travail_statut"}, platforms: []string{"apiparticulier", "francetravail"},
			want: "apiparticulier:refused[quotient_familial:refused(consent_category_not_covered),revenu_solidarite_active:refused(consent_category_not_covered)] " +
				"francetravail:refused[france_travail_statut:refused(consent_category_not_covered),france_travail_indemnites:refused(consent_category_not_covered)]",
		},
		{
			name: "platform missing", categories: []string{"benefit", "employment"}, platforms: []string{"apiparticulier"},
			want: "apiparticulier:ok[quotient_familial:ok,revenu_solidarite_active:not_found(not_found)] " +
				"francetravail:refused[france_travail_statut:refused(consent_platform_not_covered),france_travail_indemnites:refused(consent_platform_not_covered)]",
		},
		{
			name: "expired", categories: []string{"benefit", "employment"}, platforms: []string{"apiparticulier", "francetravail"}, advance: 2 * time.Hour,
			want: "apiparticulier:refused[quotient_familial:refused(consent_expired),revenu_solidarite_active:refused(consent_expired)] " +
				"francetravail:refused[france_travail_statut:refused(consent_expired),france_travail_indemnites:refused(consent_expired)]",
		},
		{
			name: "another person", categories: []string{"benefit", "employment"}, platforms: []string{"apiparticulier", "francetravail"},
			identity: func() mapping.Person {
				p := identity()
				p.GivenNames = []string{"Albertine"}
				return p
			},
			want: "apiparticulier:refused[quotient_familial:refused(identity_not_covered),revenu_solidarite_active:refused(identity_not_covered)] " +
				"francetravail:refused[france_travail_statut:refused(identity_not_covered),france_travail_indemnites:refused(identity_not_covered)]",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			cons := f.consent(t, f.a, tc.categories, tc.platforms, time.Hour)
			f.clock.Advance(tc.advance)
			asked := identity()
			if tc.identity != nil {
				asked = tc.identity()
			}
			p := f.lookup(t, f.a, profile.Request{Identity: asked, ConsentID: cons.ID, Sources: both()})
			if got := statuses(p); got != tc.want {
				t.Fatalf("statuses\n got %s\nwant %s", got, tc.want)
			}
			j, err := f.st.ConsentJournal(context.Background(), f.a.TenantID, cons.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(j) != 4 {
				t.Fatalf("%d consent uses journaled, want one per operation: %+v", len(j), j)
			}
			for _, e := range j {
				op := strings.TrimPrefix(e.Detail[strings.Index(e.Detail, "operation="):], "operation=")
				op, reason, _ := strings.Cut(op, " reason=")
				o := operation(t, source(t, p, e.Destination), op)
				if (o.Status == connectors.OutcomeRefused) != (e.Outcome == "refused") || (e.Outcome == "refused" && reason != o.Reason) {
					t.Fatalf("journal entry %+v does not match %+v", e, o)
				}
			}
			if _, err := f.svc.Lookup(context.Background(), f.b, profile.Request{Identity: identity(), ConsentID: cons.ID, Sources: both()}); !isCode(err, profile.CodeBasisNotFound) {
				t.Fatalf("another tenant's consent: %v", err)
			}
		})
	}
}

func isCode(err error, code string) bool {
	re, ok := errors.AsType[*profile.RequestError](err)
	return ok && re.Code == code
}

// TestFranceConnectToken: under a consent whose FranceConnect token is
// alive, the operations that can use it get it; the others never do, and
// it appears in no answer and no journal. Once expired it is not used.
func TestFranceConnectToken(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	cons := f.consent(t, f.a, []string{"benefit", "employment"}, []string{"apiparticulier", "francetravail"}, time.Hour)
	const token = "fc-access-token-5f2b9c7e"
	if err := f.st.SaveConsentToken(ctx, cons, token, start.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	req := profile.Request{Identity: identity(), ConsentID: cons.ID, Sources: both()}
	p := f.lookup(t, f.a, req)
	if !p.Basis.FranceConnect {
		t.Fatalf("basis: %+v", p.Basis)
	}
	for _, c := range f.caf.Calls() {
		if c.Token != token {
			t.Fatalf("API Particulier call without the citizen's token: %+v", c)
		}
	}
	for _, c := range f.ft.Calls() {
		if c.Token != "" {
			t.Fatalf("France Travail was given the citizen's token: %+v", c)
		}
	}
	body, _ := f.svc.Get(ctx, f.a, p.ID)
	raw, _ := json.Marshal(f.journal(t, f.a.TenantID))
	if strings.Contains(string(body), token) || strings.Contains(string(raw), token) {
		t.Fatal("the token leaked into the answer or the journal")
	}

	f.clock.Advance(time.Minute)
	n := len(f.caf.Calls())
	p = f.lookup(t, f.a, req)
	if p.Basis.FranceConnect {
		t.Fatalf("an expired token was used: %+v", p.Basis)
	}
	for _, c := range f.caf.Calls()[n:] {
		if c.Token != "" {
			t.Fatalf("an expired token was sent: %+v", c)
		}
	}
}

// TestDeadline: a source slower than the lookup's deadline is timeout, the
// others answer.
func TestDeadline(t *testing.T) {
	t.Parallel()
	f := setupWith(t, options{cfg: profile.Config{Deadline: 200 * time.Millisecond}})
	f.caf.Set("quotient_familial", profiletest.Answer{Delay: time.Minute})
	mid := f.mandate(t, f.a, mandatePerson(), mandate.Famille, mandate.Travail)
	p := f.lookup(t, f.a, profile.Request{Identity: identity(), MandateID: mid, Sources: []profile.SourceRequest{
		{Name: "apiparticulier", Operations: []string{"quotient_familial"}}, {Name: "francetravail"},
	}})
	if got, want := statuses(p), "apiparticulier:timeout[quotient_familial:timeout(deadline)] francetravail:ok[france_travail_statut:ok,france_travail_indemnites:ok]"; got != want {
		t.Fatalf("statuses\n got %s\nwant %s", got, want)
	}
}

// TestIdentityMismatch: a platform answering about someone else is
// flagged, on the source and on every value, never merged silently.
func TestIdentityMismatch(t *testing.T) {
	t.Parallel()
	f := setup(t)
	a, _ := f.caf.Answer("quotient_familial")
	a.Data.Identity = returnedIdentity()
	a.Data.Identity.BirthDate = "1948-03-15"
	f.caf.Set("quotient_familial", a)
	mid := f.mandate(t, f.a, mandatePerson(), mandate.Famille)
	p := f.lookup(t, f.a, profile.Request{Identity: identity(), MandateID: mid, Sources: []profile.SourceRequest{
		{Name: "apiparticulier", Operations: []string{"quotient_familial"}},
	}})
	caf := source(t, p, "apiparticulier")
	if caf.Identity == nil || caf.Identity.Status != "mismatch" || !slices.Equal(caf.Identity.Mismatched, []string{"birth_date"}) {
		t.Fatalf("identity check: %+v", caf.Identity)
	}
	if len(p.Data.Benefits) != 1 || p.Data.Benefits[0].Provenance.Identity != "mismatch" ||
		len(p.Data.Persons) != 1 || p.Data.Persons[0].Provenance.Identity != "mismatch" {
		t.Fatalf("values not flagged: %+v", p.Data)
	}
}

// TestLookupRequestErrors: requests the service will not run, each with
// its stable code and field; nothing is fetched nor journaled.
func TestLookupRequestErrors(t *testing.T) {
	t.Parallel()
	f := setup(t)
	mid := f.mandate(t, f.a, mandatePerson(), mandate.Famille)
	base := func() profile.Request {
		return profile.Request{Identity: identity(), MandateID: mid, Sources: both()}
	}
	for _, tc := range []struct {
		name        string
		edit        func(r *profile.Request)
		code, field string
	}{
		{"no basis", func(r *profile.Request) { r.MandateID = "" }, profile.CodeBasisRequired, "mandate_id"},
		{"two bases", func(r *profile.Request) { r.ConsentID = "cns_aaaaaaaaaaaaaaaa" }, profile.CodeBasisConflict, "consent_id"},
		{"unknown mandate", func(r *profile.Request) { r.MandateID = "mdt_aaaaaaaaaaaaaaaa" }, profile.CodeBasisNotFound, "mandate_id"},
		{"malformed mandate id", func(r *profile.Request) { r.MandateID = "Lefèvre" }, profile.CodeBasisNotFound, "mandate_id"},
		{"unknown consent", func(r *profile.Request) { r.MandateID, r.ConsentID = "", "cns_aaaaaaaaaaaaaaaa" }, profile.CodeBasisNotFound, "consent_id"},
		{"no sources", func(r *profile.Request) { r.Sources = nil }, profile.CodeSourcesRequired, "sources"},
		{"unknown source", func(r *profile.Request) { r.Sources[1].Name = "dmp" }, profile.CodeUnknownSource, "sources[1].name"},
		{"duplicate source", func(r *profile.Request) { r.Sources[1].Name = "apiparticulier" }, profile.CodeDuplicateSource, "sources[1].name"},
		{"unknown operation", func(r *profile.Request) { r.Sources[0].Operations = []string{"quotient_familial", "dossier_medical"} },
			profile.CodeUnknownOperation, "sources[0].operations[1]"},
		{"duplicate operation", func(r *profile.Request) { r.Sources[0].Operations = []string{"quotient_familial", "quotient_familial"} },
			profile.CodeValidationFailed, "sources[0].operations[1]"},
		{"identity without birth date", func(r *profile.Request) { r.Identity.BirthDate = "" }, profile.CodeValidationFailed, "identity.birth_date"},
		{"identity without given name", func(r *profile.Request) { r.Identity.GivenNames = nil }, profile.CodeValidationFailed, "identity.given_names"},
		{"month", func(r *profile.Request) { r.Month = "2026-13" }, profile.CodeValidationFailed, "month"},
		{"the basis first", func(r *profile.Request) { r.MandateID, r.Sources = "", nil }, profile.CodeBasisRequired, "mandate_id"},
	} {
		req := base()
		tc.edit(&req)
		_, err := f.svc.Lookup(context.Background(), f.a, req)
		re, ok := errors.AsType[*profile.RequestError](err)
		if !ok || re.Code != tc.code || re.Field != tc.field {
			t.Errorf("%s: %v, want %s on %s", tc.name, err, tc.code, tc.field)
			continue
		}
		for _, v := range personalValues {
			if strings.Contains(re.Error()+re.Detail, v) {
				t.Errorf("%s: the error quotes %q", tc.name, v)
			}
		}
	}
	if n := len(f.caf.Calls()) + len(f.ft.Calls()); n != 0 {
		t.Fatalf("%d platform calls for requests refused", n)
	}
	if pulls := entries(f.journal(t, f.a.TenantID), profile.OpPull); len(pulls) != 0 {
		t.Fatalf("refused requests journaled pulls: %+v", pulls)
	}
}

// TestGetUnknownAndMalformed: ids that are not prefills are not found.
func TestGetUnknownAndMalformed(t *testing.T) {
	t.Parallel()
	f := setup(t)
	for _, id := range []string{"prf_aaaaaaaaaaaaaaaa", "", "prf_", "../etc/passwd", "PRF_AAAAAAAAAAAAAAAA"} {
		if _, err := f.svc.Get(context.Background(), f.a, id); !errors.Is(err, profile.ErrNotFound) {
			t.Errorf("Get(%q): %v", id, err)
		}
	}
}

// TestSourceStatus checks how a source's operations sum up.
func TestSourceStatus(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		ops  []connectors.Outcome
		want connectors.Outcome
	}{
		{nil, connectors.OutcomeError},
		{[]connectors.Outcome{"ok", "ok"}, "ok"},
		{[]connectors.Outcome{"not_found", "not_found"}, "not_found"},
		{[]connectors.Outcome{"ok", "unavailable"}, "ok"},
		{[]connectors.Outcome{"refused", "not_found"}, "refused"},
		{[]connectors.Outcome{"not_found", "timeout", "rate_limited"}, "timeout"},
		{[]connectors.Outcome{"refused", "error"}, "error"},
	} {
		ops := make([]profile.OperationResult, len(tc.ops))
		for i, o := range tc.ops {
			ops[i].Status = o
		}
		if got := profile.SourceStatus(ops); got != tc.want {
			t.Errorf("SourceStatus(%v) = %s, want %s", tc.ops, got, tc.want)
		}
	}
}

// TestConfig checks defaults and that Validate names the faulty field.
func TestConfig(t *testing.T) {
	t.Parallel()
	if c := (profile.Config{}).WithDefaults(); c.Deadline != 10*time.Second || c.TTL != 15*time.Minute || c.Validate() != nil {
		t.Fatalf("defaults: %+v", c)
	}
	for _, tc := range []struct {
		cfg   profile.Config
		field string
	}{
		{profile.Config{Deadline: time.Millisecond}, "deadline"},
		{profile.Config{TTL: time.Second}, "ttl"},
		{profile.Config{TTL: 48 * time.Hour}, "ttl"},
		{profile.Config{GoneFor: time.Second}, "gone_for"},
		{profile.Config{PurgeInterval: 2 * time.Hour}, "purge_interval"},
	} {
		err := tc.cfg.WithDefaults().Validate()
		if err == nil || !strings.HasPrefix(err.Error(), tc.field+":") {
			t.Errorf("%+v: %v, want an error naming %s", tc.cfg, err, tc.field)
		}
	}
}

// TestBasisPerson checks which identities a basis can carry.
func TestBasisPerson(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		edit func(p *mapping.Person)
		ok   bool
	}{
		{"full", func(*mapping.Person) {}, true},
		{"born in France", func(p *mapping.Person) { p.BirthCountryCOG, p.BirthPlaceCOG = "", "75056" }, true},
		{"partial date", func(p *mapping.Person) { p.BirthDate = "1948-03" }, false},
		{"unknown sex", func(p *mapping.Person) { p.Sex = mapping.SexUnknown }, false},
		{"unknown birth place", func(p *mapping.Person) { p.BirthCountryCOG = "" }, false},
	} {
		p := identity()
		tc.edit(&p)
		bp, ok := profile.BasisPerson(p)
		if ok != tc.ok || (ok && (bp.GivenNames != givenName+" "+otherGiven || bp.Sex != "female")) {
			t.Errorf("%s: %+v %v", tc.name, bp, ok)
		}
	}
	// The same reference whatever the accents and case.
	p := identity()
	p.BirthFamilyName, p.GivenNames = strings.ToUpper("Lefevre-Quintaval"), []string{"ZOELIE", "MARIE-HELENE"}
	bp, _ := profile.BasisPerson(p)
	if mandate.PersonRef(testPersonKey, bp) != mandate.PersonRef(testPersonKey, mandatePerson()) {
		t.Fatal("the person reference depends on accents and case")
	}
}

// brokenPuller fails in one of the ways a source can.
type brokenPuller struct {
	name string
	pull func(q *connectors.PullQuery) ([]connectors.PullItem, error)
}

func (b brokenPuller) Name() string { return b.name }

func (b brokenPuller) Operations() []connectors.PullOperation {
	return []connectors.PullOperation{{Name: "attestation", Demarche: mapping.DemarcheSocial, Category: mapping.DataBenefit}}
}

func (b brokenPuller) Pull(_ context.Context, q *connectors.PullQuery) ([]connectors.PullItem, error) {
	return b.pull(q)
}

func (b brokenPuller) Status() connectors.Status { return connectors.Status{Name: b.name} }

// TestSourceFailures: however a source fails, it fails alone, with a
// status that says how.
func TestSourceFailures(t *testing.T) {
	t.Parallel()
	f := setupWith(t, options{extra: []connectors.Puller{
		brokenPuller{"panics", func(*connectors.PullQuery) ([]connectors.PullItem, error) { panic("index out of range") }},
		brokenPuller{"nosiret", func(*connectors.PullQuery) ([]connectors.PullItem, error) {
			return nil, fmt.Errorf("the recipient must be a SIRET: %w", connectors.ErrInvalidQuery)
		}},
		brokenPuller{"silent", func(*connectors.PullQuery) ([]connectors.PullItem, error) { return nil, nil }},
		brokenPuller{"ratelimited", func(q *connectors.PullQuery) ([]connectors.PullItem, error) {
			return []connectors.PullItem{{Operation: q.Operations[0], Err: &connectors.Error{Class: connectors.Retryable, Status: 429, Code: "00429"}}}, nil
		}},
	}})
	mid := f.mandate(t, f.a, mandatePerson(), mandate.Famille, mandate.Social)
	p := f.lookup(t, f.a, profile.Request{Identity: identity(), MandateID: mid, Sources: []profile.SourceRequest{
		{Name: "apiparticulier", Operations: []string{"quotient_familial"}},
		{Name: "panics"}, {Name: "nosiret"}, {Name: "silent"}, {Name: "ratelimited"},
	}})
	want := "apiparticulier:ok[quotient_familial:ok] panics:error[attestation:error(source_failed)] " +
		"nosiret:refused[attestation:refused(invalid_query)] silent:error[attestation:error(no_answer)] " +
		"ratelimited:rate_limited[attestation:rate_limited(00429)]"
	if got := statuses(p); got != want {
		t.Fatalf("statuses\n got %s\nwant %s", got, want)
	}
	if len(p.Data.Benefits) != 1 {
		t.Fatalf("the CAF's data is missing: %+v", p.Data)
	}
}

// failingSave is a store whose prefills cannot be saved.
type failingSave struct{ profile.Store }

var errSaveFailed = errors.New("disk full")

func (failingSave) SaveProfile(context.Context, profile.Record, []profile.Access) error {
	return errSaveFailed
}

// TestMandateUsesJournaled: a lookup under a mandate reads the mandate
// once and journals one use per démarche before calling any platform,
// then its pulls with its answer; when the answer cannot be stored, the
// uses stay journaled and the lookup fails.
func TestMandateUsesJournaled(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		failing bool
	}{{"saved", false}, {"save fails", true}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			mid := f.mandate(t, f.a, mandatePerson(), mandate.Famille, mandate.Social, mandate.Travail)
			svc := f.svc
			if tc.failing {
				var err error
				svc, err = profile.NewService(profile.Config{}, profile.Deps{
					Pullers: []connectors.Puller{f.cafP, f.ftP}, Store: failingSave{f.st}, Mandates: f.mandates,
					PersonKey: testPersonKey, Now: f.clock.Now,
					Recipient: func(context.Context, string) (string, error) { return tenantSIRET, nil },
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			_, err := svc.Lookup(context.Background(), f.a, profile.Request{Identity: identity(), MandateID: mid, Sources: both()})
			if tc.failing != errors.Is(err, errSaveFailed) {
				t.Fatalf("Lookup: %v", err)
			}
			j := f.journal(t, f.a.TenantID)
			var got []string
			for _, e := range j {
				if e.Operation == mandate.ActionUseAutorisation || e.Operation == profile.OpPull {
					got = append(got, e.Operation+":"+strings.Join(e.Categories, ",")+":"+e.Destination)
				}
			}
			want := []string{"use_autorisation:famille:", "use_autorisation:social:", "use_autorisation:travail:"}
			if !tc.failing {
				want = append(want, "profile.pull:benefit:apiparticulier", "profile.pull:employment:francetravail")
			}
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Fatalf("journal:\n got %q\nwant %q", got, want)
			}
			for _, e := range entries(j, mandate.ActionUseAutorisation) {
				if e.Outcome != mandate.OutcomeOK || !strings.Contains(e.Detail, "mandate="+mid) {
					t.Fatalf("use: %+v", e)
				}
			}
		})
	}
}

// TestMetricsAndStatuses: each lookup counts its sources by status and
// its duration; the sources' statuses are listed by name.
func TestMetricsAndStatuses(t *testing.T) {
	t.Parallel()
	f := setup(t)
	reg := prometheus.NewRegistry()
	svc, err := profile.NewService(profile.Config{}, profile.Deps{
		Pullers: []connectors.Puller{f.ftP, f.cafP}, Store: f.st, Mandates: f.mandates, PersonKey: testPersonKey, Now: f.clock.Now,
		Recipient: func(context.Context, string) (string, error) { return tenantSIRET, nil }, Metrics: profile.NewMetrics(reg),
	})
	if err != nil {
		t.Fatal(err)
	}
	mid := f.mandate(t, f.a, mandatePerson(), mandate.Famille, mandate.Social) // not Travail: France Travail refused
	if _, err := svc.Lookup(context.Background(), f.a, profile.Request{Identity: identity(), MandateID: mid, Sources: both()}); err != nil {
		t.Fatal(err)
	}
	want := `
# HELP relais_profile_lookups_total Profile lookups answered, complete (every source ok) or partial.
# TYPE relais_profile_lookups_total counter
relais_profile_lookups_total{result="partial"} 1
# HELP relais_profile_source_results_total Sources of profile lookups by status: ok, not_found, unavailable, rate_limited, timeout, refused or error.
# TYPE relais_profile_source_results_total counter
relais_profile_source_results_total{source="apiparticulier",status="ok"} 1
relais_profile_source_results_total{source="francetravail",status="refused"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "relais_profile_lookups_total", "relais_profile_source_results_total"); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(reg, "relais_profile_lookup_duration_seconds"); n != 1 {
		t.Fatalf("lookup duration: %d series", n)
	}
	var names []string
	for _, st := range svc.Statuses() {
		if st.Breaker != "closed" {
			t.Fatalf("status: %+v", st)
		}
		names = append(names, st.Name)
	}
	if strings.Join(names, ",") != "apiparticulier,francetravail" {
		t.Fatalf("statuses: %v", names)
	}
}
