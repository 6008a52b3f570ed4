package mandate_test

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/relais-dev/relais/connectors/clock"
	"github.com/relais-dev/relais/gateway/mandate"
	"github.com/relais-dev/relais/gateway/store"
	"github.com/relais-dev/relais/gateway/store/storetest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var personKey = []byte("test-person-key-0123456789abcdef0123")

// zoe is born abroad, with a compound given name and accents.
func zoe() mandate.Person {
	return mandate.Person{
		FamilyName: "Lefèvre", GivenNames: "Zoé Marie-Hélène", BirthDate: "1948-03-14", Sex: "female", BirthCountry: "99134",
	}
}

// andre is born in France (Rennes).
func andre() mandate.Person {
	return mandate.Person{
		FamilyName: "Le Guével", GivenNames: "André", BirthDate: "1961-11-02", Sex: "male", BirthPlace: "35238", BirthCountry: "99100",
	}
}

type fixture struct {
	svc   *mandate.Service
	store *store.Store
	clock *clock.Fake
	a, b  mandate.Caller
}

func setup(t testing.TB) *fixture {
	t.Helper()
	s := storetest.Open(t, "sqlite", nil)
	f := &fixture{store: s, clock: clock.NewFake(time.Date(2026, 3, 2, 9, 15, 0, 0, time.UTC))}
	svc, err := mandate.NewService(s, mandate.Config{PersonKey: personKey, Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	f.svc = svc
	for name, c := range map[string]*mandate.Caller{"ehpad-les-tilleuls": &f.a, "ccas-de-rennes": &f.b} {
		ten, err := s.EnsureTenant(context.Background(), name)
		if err != nil {
			t.Fatal(err)
		}
		*c = mandate.Caller{TenantID: ten.ID, APIKeyID: "key_" + ten.ID}
	}
	return f
}

func inPerson(p mandate.Person, days int, ds ...mandate.Demarche) mandate.NewMandate {
	return mandate.NewMandate{
		Professional: mandate.Professional{ID: "pro-17", Name: "Camille Martin"}, Person: p, Demarches: ds,
		DurationDays: days, Consent: mandate.InPerson, AttestationSHA256: mandate.AttestationSHA256([]byte("attestation signée")),
	}
}

func TestPersonRef(t *testing.T) {
	t.Parallel()
	p := zoe()
	ref := mandate.PersonRef(personKey, p)
	if !mandate.ValidPersonRef(ref) {
		t.Fatalf("ref %q has not the documented shape", ref)
	}
	same := p
	same.FamilyName, same.GivenNames = "  LEFEVRE ", "zoe   marie-helene"
	if got := mandate.PersonRef(personKey, same); got != ref {
		t.Fatalf("case, accents and spaces changed the ref: %q != %q", got, ref)
	}
	other := p
	other.BirthDate = "1948-03-15"
	if mandate.PersonRef(personKey, other) == ref {
		t.Fatal("another birth date gave the same ref")
	}
	if mandate.PersonRef([]byte("another-key-0123456789abcdef012345"), p) == ref {
		t.Fatal("another key gave the same ref")
	}
	if strings.Contains(strings.ToUpper(ref), "LEFEVRE") {
		t.Fatal("the ref quotes the name")
	}
}

func TestDurationsAndDemarches(t *testing.T) {
	t.Parallel()
	f := setup(t)
	for _, days := range []int{1, 31, 182, 365} {
		m, err := f.svc.Create(context.Background(), f.a, inPerson(zoe(), days, mandate.Social))
		if err != nil {
			t.Fatalf("%d days: %v", days, err)
		}
		if want := f.clock.Now().Add(time.Duration(days) * 24 * time.Hour); !m.ExpiresAt.Equal(want) {
			t.Fatalf("%d days: expires %v, want %v", days, m.ExpiresAt, want)
		}
	}
	for _, days := range []int{0, 2, 30, 366, -1} {
		_, err := f.svc.Create(context.Background(), f.a, inPerson(zoe(), days, mandate.Social))
		wantFields(t, err, "duration_days")
	}
	if len(mandate.Demarches()) != 11 || !mandate.Sante.Valid() || mandate.Demarche("impots").Valid() {
		t.Fatalf("démarches: %v", mandate.Demarches())
	}
	_, err := f.svc.Create(context.Background(), f.a, inPerson(zoe(), 31, mandate.Social, "impots", mandate.Social))
	wantFields(t, err, "demarches[1]", "demarches[2]")
	_, err = f.svc.Create(context.Background(), f.a, inPerson(zoe(), 31))
	wantFields(t, err, "demarches")
}

func TestValidation(t *testing.T) {
	t.Parallel()
	f := setup(t)
	bad := inPerson(mandate.Person{FamilyName: "", GivenNames: "A", BirthDate: "14/03/1948", Sex: "f", BirthPlace: "35238", BirthCountry: "FR"}, 31, mandate.Social)
	bad.Professional.ID = ""
	bad.AttestationSHA256 = "ABC"
	_, err := f.svc.Create(context.Background(), f.a, bad)
	wantFields(t, err, "professional.id", "person.family_name", "person.birth_date", "person.sex", "person.birth_country",
		"person.birth_place", "attestation_sha256")

	noPlace := inPerson(andre(), 31, mandate.Social)
	noPlace.Person.BirthPlace = ""
	_, err = f.svc.Create(context.Background(), f.a, noPlace)
	wantFields(t, err, "person.birth_place")

	sms := inPerson(zoe(), 31, mandate.Social)
	sms.Consent, sms.Phone = mandate.RemoteSMS, "0612345678"
	_, err = f.svc.Create(context.Background(), f.a, sms)
	wantFields(t, err, "phone", "attestation_sha256")
	for _, m := range []string{"paper", ""} {
		n := inPerson(zoe(), 31, mandate.Social)
		n.Consent = mandate.ConsentMethod(m)
		_, err = f.svc.Create(context.Background(), f.a, n)
		wantFields(t, err, "consent_method")
	}
}

func wantFields(t *testing.T, err error, fields ...string) {
	t.Helper()
	var ve *mandate.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %v, want a validation error on %v", err, fields)
	}
	var got []string
	for _, fe := range ve.Fields {
		got = append(got, fe.Field)
		if fe.Code == "" || fe.Detail == "" {
			t.Fatalf("field error without code or detail: %+v", fe)
		}
	}
	if strings.Join(got, ",") != strings.Join(fields, ",") {
		t.Fatalf("invalid fields %v, want %v", got, fields)
	}
}

// TestAuthorizeRefusals causes each refusal and checks its code, its
// sentinel and its journal entry.
func TestAuthorizeRefusals(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	m, err := f.svc.Create(ctx, f.a, inPerson(zoe(), 1, mandate.Social, mandate.Logement))
	if err != nil {
		t.Fatal(err)
	}
	use, err := f.svc.Authorize(ctx, m.ID, f.a, mandate.Social, f.clock.Now())
	if err != nil || use.Person != zoe() || use.PersonRef != m.PersonRef || use.Demarche != mandate.Social {
		t.Fatalf("a good use: %+v, %v", use, err)
	}

	sms := inPerson(andre(), 31, mandate.Travail)
	sms.Consent, sms.AttestationSHA256, sms.Phone = mandate.RemoteSMS, "", "+33612345678"
	draft, err := f.svc.Create(ctx, f.a, sms)
	if err != nil {
		t.Fatal(err)
	}
	revoked, _ := f.svc.Create(ctx, f.a, inPerson(zoe(), 31, mandate.Social))
	if _, err := f.svc.Revoke(ctx, f.a, revoked.ID); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name     string
		id       string
		caller   mandate.Caller
		demarche mandate.Demarche
		at       time.Time
		code     string
		sentinel error
	}{
		{"not covered", m.ID, f.a, mandate.Sante, f.clock.Now(), mandate.CodeDemarcheNotCovered, mandate.ErrDemarcheNotCovered},
		{"other organisation", m.ID, f.b, mandate.Social, f.clock.Now(), mandate.CodeOtherOrganisation, mandate.ErrOtherOrganisation},
		{"expired", m.ID, f.a, mandate.Social, m.ExpiresAt, mandate.CodeExpired, mandate.ErrExpired},
		{"revoked", revoked.ID, f.a, mandate.Social, f.clock.Now(), mandate.CodeRevoked, mandate.ErrRevoked},
		{"draft", draft.ID, f.a, mandate.Travail, f.clock.Now(), mandate.CodeNotActive, mandate.ErrNotActive},
	} {
		_, err := f.svc.Authorize(ctx, tc.id, tc.caller, tc.demarche, tc.at)
		var re *mandate.RefusedError
		if !errors.As(err, &re) || re.Code != tc.code || !errors.Is(err, tc.sentinel) || re.MandateID != tc.id {
			t.Fatalf("%s: %v, want %s", tc.name, err, tc.code)
		}
		for _, other := range []error{mandate.ErrExpired, mandate.ErrRevoked, mandate.ErrOtherOrganisation, mandate.ErrDemarcheNotCovered, mandate.ErrNotActive} {
			if other != tc.sentinel && errors.Is(err, other) {
				t.Fatalf("%s: also matches %v", tc.name, other)
			}
		}
	}
	if _, err := f.svc.Authorize(ctx, "mdt_aaaaaaaaaaaaaaaa", f.a, mandate.Social, f.clock.Now()); !errors.Is(err, mandate.ErrNotFound) {
		t.Fatalf("unknown mandate: %v", err)
	}

	// Zoé's journal, for tenant a: creation, one autorisation per
	// démarche, the use, then each refusal in order (the other
	// organisation's attempt is journaled for the holder, naming the caller).
	evs, err := f.svc.Journal(ctx, f.a.TenantID, m.PersonRef)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range evs {
		got = append(got, e.Action+":"+e.Outcome+":"+reason(e.Detail))
	}
	want := []string{
		"create_mandat:ok:", "create_autorisation:ok:", "create_autorisation:ok:", "use_autorisation:ok:",
		"create_mandat:ok:", "create_autorisation:ok:", "cancel_mandat:ok:", // the revoked mandate, same person
		"use_autorisation:refused:mandate_demarche_not_covered", "use_autorisation:refused:mandate_other_organisation",
		"use_autorisation:refused:mandate_expired", "use_autorisation:refused:mandate_revoked",
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("journal:\n got %q\nwant %q", got, want)
	}
	for i, e := range evs {
		if i > 0 && e.Seq <= evs[i-1].Seq {
			t.Fatalf("journal out of order at %d", i)
		}
		if strings.Contains(e.Detail, "Lef") || strings.Contains(e.Detail, "1948") {
			t.Fatalf("journal entry quotes the identity: %q", e.Detail)
		}
	}
	if !strings.Contains(evs[8].Detail, "caller_tenant="+f.b.TenantID) || evs[8].APIKeyID != f.b.APIKeyID {
		t.Fatalf("other organisation's attempt: %+v", evs[8])
	}
	if other, _ := f.svc.Journal(ctx, f.b.TenantID, m.PersonRef); len(other) != 0 {
		t.Fatalf("tenant b sees a's journal: %+v", other)
	}
}

var reasonPattern = regexp.MustCompile(`reason=([a-z_]+)`)

func reason(detail string) string {
	if m := reasonPattern.FindStringSubmatch(detail); m != nil {
		return m[1]
	}
	return ""
}

func TestRemoteSMS(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	n := inPerson(andre(), 182, mandate.Travail, mandate.Argent)
	n.Consent, n.AttestationSHA256, n.Phone = mandate.RemoteSMS, "", "+33712345678"
	m, err := f.svc.Create(ctx, f.a, n)
	if err != nil || m.Status != mandate.StatusDraft || m.ConfirmedAt != nil {
		t.Fatalf("draft: %+v, %v", m, err)
	}
	out, err := f.store.SMSOutbox(ctx, f.a.TenantID)
	if err != nil || len(out) != 1 || out[0].To != "+33712345678" || out[0].MandateID != m.ID {
		t.Fatalf("outbox: %+v, %v", out, err)
	}
	code := regexp.MustCompile(`\b[0-9]{6}\b`).FindString(out[0].Body)
	if code == "" || !strings.Contains(out[0].Body, "Camille Martin") {
		t.Fatalf("sms body %q", out[0].Body)
	}
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	if _, err := f.svc.Confirm(ctx, f.b, m.ID, code); !errors.Is(err, mandate.ErrNotFound) {
		t.Fatalf("another tenant confirmed: %v", err)
	}
	if _, err := f.svc.Confirm(ctx, f.a, m.ID, wrong); !errors.Is(err, mandate.ErrInvalidCode) {
		t.Fatalf("wrong code: %v", err)
	}
	got, err := f.svc.Confirm(ctx, f.a, m.ID, code)
	if err != nil || got.Status != mandate.StatusActive || got.ConfirmedAt == nil || got.CodeHash != nil {
		t.Fatalf("confirm: %+v, %v", got, err)
	}
	if _, err := f.svc.Confirm(ctx, f.a, m.ID, code); !errors.Is(err, mandate.ErrNotDraft) {
		t.Fatalf("confirm twice: %v", err)
	}
	// Every attempt is journaled: a refusal that changes the mandate (a
	// wrong code counts) and one that does not (already confirmed) alike.
	evs, err := f.svc.Journal(ctx, f.a.TenantID, m.PersonRef)
	if err != nil {
		t.Fatal(err)
	}
	var confirms []string
	for _, e := range evs {
		if e.MandateID == m.ID && e.Action == mandate.ActionConfirmMandat {
			confirms = append(confirms, e.Outcome+":"+reason(e.Detail))
		}
	}
	if want := []string{"refused:invalid_confirmation_code", "ok:", "refused:mandate_not_draft"}; !slices.Equal(confirms, want) {
		t.Fatalf("confirmations journaled %v, want %v", confirms, want)
	}
	if _, err := f.svc.Authorize(ctx, m.ID, f.a, mandate.Argent, f.clock.Now()); err != nil {
		t.Fatalf("use after confirmation: %v", err)
	}

	// Codes die after their attempts and after their lifetime.
	m2, _ := f.svc.Create(ctx, f.a, n)
	for range 5 {
		if _, err := f.svc.Confirm(ctx, f.a, m2.ID, "99999x"); !errors.Is(err, mandate.ErrInvalidCode) {
			t.Fatalf("wrong code: %v", err)
		}
	}
	out, _ = f.store.SMSOutbox(ctx, f.a.TenantID)
	code2 := regexp.MustCompile(`\b[0-9]{6}\b`).FindString(out[1].Body)
	if _, err := f.svc.Confirm(ctx, f.a, m2.ID, code2); !errors.Is(err, mandate.ErrCodeExpired) {
		t.Fatalf("right code after 5 wrong ones: %v", err)
	}
	m3, _ := f.svc.Create(ctx, f.a, n)
	out, _ = f.store.SMSOutbox(ctx, f.a.TenantID)
	code3 := regexp.MustCompile(`\b[0-9]{6}\b`).FindString(out[2].Body)
	f.clock.Advance(15 * time.Minute)
	if _, err := f.svc.Confirm(ctx, f.a, m3.ID, code3); !errors.Is(err, mandate.ErrCodeExpired) {
		t.Fatalf("right code too late: %v", err)
	}
}

func TestLifecycle(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	m, _ := f.svc.Create(ctx, f.a, inPerson(zoe(), 31, mandate.Famille))
	if _, err := f.svc.Get(ctx, f.b.TenantID, m.ID); !errors.Is(err, mandate.ErrNotFound) {
		t.Fatalf("another tenant read it: %v", err)
	}
	if _, err := f.svc.Revoke(ctx, f.b, m.ID); !errors.Is(err, mandate.ErrNotFound) {
		t.Fatalf("another tenant revoked it: %v", err)
	}
	f.clock.Advance(40 * 24 * time.Hour)
	if _, err := f.svc.Transfer(ctx, f.a, m.ID, mandate.Professional{ID: "pro-18", Name: "Inès Roux"}); !errors.Is(err, mandate.ErrExpired) {
		t.Fatalf("transfer of an expired mandate: %v", err)
	}
	renewed, err := f.svc.Renew(ctx, f.a, m.ID)
	if err != nil || !renewed.ExpiresAt.Equal(f.clock.Now().Add(31*24*time.Hour)) || renewed.StatusAt(f.clock.Now()) != mandate.StatusActive {
		t.Fatalf("renew: %+v, %v", renewed, err)
	}
	moved, err := f.svc.Transfer(ctx, f.a, m.ID, mandate.Professional{ID: "pro-18", Name: "Inès Roux"})
	if err != nil || moved.Professional.ID != "pro-18" || moved.TenantID != f.a.TenantID {
		t.Fatalf("transfer: %+v, %v", moved, err)
	}
	if _, err := f.svc.Transfer(ctx, f.a, m.ID, mandate.Professional{}); err == nil {
		t.Fatal("transfer to nobody")
	}
	revoked, err := f.svc.Revoke(ctx, f.a, m.ID)
	if err != nil || revoked.RevokedAt == nil || revoked.StatusAt(f.clock.Now()) != mandate.StatusRevoked {
		t.Fatalf("revoke: %+v, %v", revoked, err)
	}
	again, err := f.svc.Revoke(ctx, f.a, m.ID)
	if err != nil || !again.RevokedAt.Equal(*revoked.RevokedAt) {
		t.Fatalf("revoke twice: %+v, %v", again, err)
	}
	if _, err := f.svc.Renew(ctx, f.a, m.ID); !errors.Is(err, mandate.ErrRevoked) {
		t.Fatalf("renew a revoked mandate: %v", err)
	}
	evs, _ := f.svc.Journal(ctx, f.a.TenantID, m.PersonRef)
	var actions []string
	for _, e := range evs {
		actions = append(actions, e.Action)
	}
	if got := strings.Join(actions, " "); got != "create_mandat create_autorisation renew_mandat transfer_mandat cancel_mandat" {
		t.Fatalf("journal %q", got)
	}
}

func TestConsent(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	ref := f.svc.PersonRef(zoe())
	c, err := mandate.NewConsent(f.a.TenantID, ref, []string{"quotient_familial", "statut_france_travail"}, []string{"apiparticulier"}, f.clock.Now(), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.store.CreateConsent(ctx, c); err != nil {
		t.Fatal(err)
	}
	got, err := f.store.Consent(ctx, f.a.TenantID, c.ID)
	if err != nil || got.PersonRef != ref || len(got.Categories) != 2 || !got.ExpiresAt.Equal(c.ExpiresAt) || !got.ActiveAt(f.clock.Now()) {
		t.Fatalf("consent: %+v, %v", got, err)
	}
	if got.ActiveAt(c.ExpiresAt) {
		t.Fatal("active at its expiry")
	}
	if _, err := f.store.Consent(ctx, f.b.TenantID, c.ID); !errors.Is(err, mandate.ErrNotFound) {
		t.Fatalf("another tenant's consent: %v", err)
	}
	_, err = mandate.NewConsent(f.a.TenantID, "Zoé", nil, []string{"API Particulier"}, f.clock.Now(), 0)
	wantFields(t, err, "person_ref", "categories", "platforms[0]", "expires_at")
}

// TestConsentWithdrawn: a withdrawn consent is not active from its
// withdrawal on, whatever its expiry; withdrawal is for its person and
// tenant only, journaled once.
func TestConsentWithdrawn(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	ref := f.svc.PersonRef(zoe())
	c, err := mandate.NewConsent(f.a.TenantID, ref, []string{"quotient_familial"}, []string{"apiparticulier"}, f.clock.Now(), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.store.CreateConsent(ctx, c); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Hour)
	for name, try := range map[string]struct{ tenant, ref, id string }{
		"another tenant": {f.b.TenantID, ref, c.ID},
		"another person": {f.a.TenantID, f.svc.PersonRef(andre()), c.ID},
		"no such id":     {f.a.TenantID, ref, "cns_aaaaaaaaaaaaaaaa"},
	} {
		if _, err := f.store.WithdrawConsent(ctx, try.tenant, try.ref, try.id, f.clock.Now()); !errors.Is(err, mandate.ErrNotFound) {
			t.Fatalf("withdrawal by %s: %v, want ErrNotFound", name, err)
		}
	}
	at := f.clock.Now()
	w, err := f.store.WithdrawConsent(ctx, f.a.TenantID, ref, c.ID, at)
	if err != nil || w.WithdrawnAt == nil || !w.WithdrawnAt.Equal(at) {
		t.Fatalf("withdraw: %+v, %v", w, err)
	}
	for _, tc := range []struct {
		at   time.Time
		want bool
	}{
		{c.GrantedAt, true},
		{at.Add(-time.Microsecond), true},
		{at, false},
		{at.Add(time.Minute), false},
		{c.ExpiresAt.Add(time.Hour), false},
	} {
		if got := w.ActiveAt(tc.at); got != tc.want {
			t.Errorf("ActiveAt(%v) = %v, want %v", tc.at, got, tc.want)
		}
	}
	f.clock.Advance(time.Minute)
	again, err := f.store.WithdrawConsent(ctx, f.a.TenantID, ref, c.ID, f.clock.Now())
	if err != nil || !again.WithdrawnAt.Equal(at) {
		t.Fatalf("withdraw twice: %+v, %v", again, err)
	}
	entries, err := f.store.Journal(ctx, f.a.TenantID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, e := range entries {
		ops = append(ops, e.Operation)
		if e.APIKeyID != mandate.ActorPerson || !strings.Contains(e.Detail, "consent="+c.ID) || strings.Contains(e.Detail, "Lefèvre") {
			t.Errorf("journal entry %+v", e)
		}
	}
	if got := strings.Join(ops, " "); got != "grant_consent withdraw_consent" {
		t.Fatalf("journal %q, want the grant then one withdrawal", got)
	}
}

// TestProfessionalCaller: a professional signed in creates mandates they
// hold themself, and the journal names them.
func TestProfessionalCaller(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	pro := mandate.Caller{TenantID: f.a.TenantID, ProfessionalID: "b6b1a2f4-4c1e-4a7d-9a53-5e0f1b7e2c01"}
	n := inPerson(zoe(), 31, mandate.Social)
	_, err := f.svc.Create(ctx, pro, n)
	wantFields(t, err, "professional.id")
	n.Professional = mandate.Professional{ID: pro.ProfessionalID, Name: "Sophie GARNIER"}
	m, err := f.svc.Create(ctx, pro, n)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Renew(ctx, pro, m.ID); err != nil {
		t.Fatal(err)
	}
	evs, _ := f.svc.Journal(ctx, f.a.TenantID, m.PersonRef)
	if len(evs) != 3 {
		t.Fatalf("journal %+v", evs)
	}
	for _, e := range evs {
		if e.APIKeyID != "pro:"+pro.ProfessionalID {
			t.Errorf("%s journaled as done by %q", e.Action, e.APIKeyID)
		}
	}
	for _, c := range []struct {
		caller mandate.Caller
		want   string
	}{
		{f.a, f.a.APIKeyID},
		{pro, "pro:" + pro.ProfessionalID},
		{mandate.Caller{TenantID: "t", APIKeyID: "key_1", ProfessionalID: "p"}, "key_1"},
	} {
		if got := c.caller.Actor(); got != c.want {
			t.Errorf("Actor(%+v) = %q, want %q", c.caller, got, c.want)
		}
	}
}

func TestPersonValidate(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 2, 9, 15, 0, 0, time.UTC)
	if err := zoe().Validate(now); err != nil {
		t.Fatalf("zoe: %v", err)
	}
	if err := andre().Validate(now); err != nil {
		t.Fatalf("andre: %v", err)
	}
	bad := andre()
	bad.BirthPlace, bad.Sex, bad.BirthDate = "", "x", "2027-01-01"
	wantFields(t, bad.Validate(now), "birth_date", "sex", "birth_place")
}

// countingStore counts the mandate reads and journal writes.
type countingStore struct {
	mandate.Store
	reads, writes int
}

func (s *countingStore) Mandate(ctx context.Context, id string) (mandate.Mandate, error) {
	s.reads++
	return s.Store.Mandate(ctx, id)
}

func (s *countingStore) AppendMandateEvents(ctx context.Context, events []mandate.Event) error {
	s.writes++
	return s.Store.AppendMandateEvents(ctx, events)
}

// TestAuthorizeAll checks a batch authorisation: one read and one write,
// the same refusals as Authorize for each démarche, one use_autorisation
// entry per distinct démarche in order, in the journal's hash chain.
func TestAuthorizeAll(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	cs := &countingStore{Store: f.store}
	svc, err := mandate.NewService(cs, mandate.Config{PersonKey: personKey, Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	m, err := f.svc.Create(ctx, f.a, inPerson(zoe(), 1, mandate.Social, mandate.Logement))
	if err != nil {
		t.Fatal(err)
	}
	revoked, _ := f.svc.Create(ctx, f.a, inPerson(zoe(), 31, mandate.Social))
	if _, err := f.svc.Revoke(ctx, f.a, revoked.ID); err != nil {
		t.Fatal(err)
	}
	sms := inPerson(andre(), 31, mandate.Travail)
	sms.Consent, sms.AttestationSHA256, sms.Phone = mandate.RemoteSMS, "", "+33612345678"
	draft, err := f.svc.Create(ctx, f.a, sms)
	if err != nil {
		t.Fatal(err)
	}

	all := []mandate.Demarche{mandate.Social, mandate.Sante, mandate.Logement, mandate.Social}
	for _, tc := range []struct {
		name   string
		id     string
		caller mandate.Caller
		at     time.Time
		// codes are the decisions' refusal codes, "" for granted, for
		// Social, Sante and Logement (the repeated Social is decided once).
		codes []string
	}{
		{"covered and not", m.ID, f.a, f.clock.Now(), []string{"", mandate.CodeDemarcheNotCovered, ""}},
		{"other organisation", m.ID, f.b, f.clock.Now(), []string{mandate.CodeOtherOrganisation, mandate.CodeOtherOrganisation, mandate.CodeOtherOrganisation}},
		{"expired", m.ID, f.a, m.ExpiresAt, []string{mandate.CodeExpired, mandate.CodeExpired, mandate.CodeExpired}},
		{"revoked", revoked.ID, f.a, f.clock.Now(), []string{mandate.CodeRevoked, mandate.CodeRevoked, mandate.CodeRevoked}},
		{"draft", draft.ID, f.a, f.clock.Now(), []string{mandate.CodeNotActive, mandate.CodeNotActive, mandate.CodeNotActive}},
	} {
		cs.reads, cs.writes = 0, 0
		decs, err := svc.AuthorizeAll(ctx, tc.id, tc.caller, all, tc.at)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if cs.reads != 1 || cs.writes != 1 {
			t.Fatalf("%s: %d reads and %d writes, want 1 and 1", tc.name, cs.reads, cs.writes)
		}
		if len(decs) != len(tc.codes) {
			t.Fatalf("%s: %d decisions, want %d", tc.name, len(decs), len(tc.codes))
		}
		for i, d := range decs {
			if d.Demarche != all[i] {
				t.Fatalf("%s: decision %d is about %s, want %s", tc.name, i, d.Demarche, all[i])
			}
			// The same answer as Authorize one by one.
			use, aerr := f.svc.Authorize(ctx, tc.id, tc.caller, d.Demarche, tc.at)
			if tc.codes[i] == "" {
				if d.Err != nil || aerr != nil || d.Use != use || d.Use.Demarche != d.Demarche || d.Use.PersonRef != m.PersonRef {
					t.Fatalf("%s: %s granted %+v %v, Authorize %+v %v", tc.name, d.Demarche, d.Use, d.Err, use, aerr)
				}
				continue
			}
			re, ok := errors.AsType[*mandate.RefusedError](d.Err)
			are, aok := errors.AsType[*mandate.RefusedError](aerr)
			if !ok || re.Code != tc.codes[i] || re.Demarche != d.Demarche || re.MandateID != tc.id || !aok || *are != *re {
				t.Fatalf("%s: %s refused %v, want %s (Authorize: %v)", tc.name, d.Demarche, d.Err, tc.codes[i], aerr)
			}
		}
	}
	cs.reads, cs.writes = 0, 0
	if _, err := svc.AuthorizeAll(ctx, "mdt_aaaaaaaaaaaaaaaa", f.a, all, f.clock.Now()); !errors.Is(err, mandate.ErrNotFound) || cs.writes != 0 {
		t.Fatalf("unknown mandate: %v, %d writes", err, cs.writes)
	}

	// Zoé's journal for tenant a, after her two mandates' creation: each
	// batch's three entries, then Authorize's three, in démarche order.
	evs, err := f.svc.Journal(ctx, f.a.TenantID, m.PersonRef)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range evs[6:] {
		got = append(got, e.MandateID[:4]+":"+string(e.Demarches[0])+":"+e.Outcome+":"+reason(e.Detail))
	}
	batch := func(id string, codes ...string) []string {
		var out []string
		for i, d := range all[:3] {
			out = append(out, id[:4]+":"+string(d)+":"+map[bool]string{true: "ok", false: "refused"}[codes[i] == ""]+":"+codes[i])
		}
		return out
	}
	var want []string
	for _, b := range [][]string{
		batch(m.ID, "", mandate.CodeDemarcheNotCovered, ""),
		batch(m.ID, mandate.CodeOtherOrganisation, mandate.CodeOtherOrganisation, mandate.CodeOtherOrganisation),
		batch(m.ID, mandate.CodeExpired, mandate.CodeExpired, mandate.CodeExpired),
		batch(revoked.ID, mandate.CodeRevoked, mandate.CodeRevoked, mandate.CodeRevoked),
	} {
		want = append(append(want, b...), b...) // the batch, then Authorize one by one
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("journal:\n got %q\nwant %q", got, want)
	}
	for i, e := range evs {
		if i > 0 && e.Seq <= evs[i-1].Seq {
			t.Fatalf("journal out of order at %d", i)
		}
	}
	// Sealed into the journal's hash chain, which verifies.
	if _, err := f.store.SealJournal(ctx, 1000); err != nil {
		t.Fatal(err)
	}
	if n, err := f.store.VerifyJournal(ctx); err != nil || n < len(evs) {
		t.Fatalf("VerifyJournal: %d entries, %v", n, err)
	}
}
