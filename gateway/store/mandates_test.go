package store_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/relais-dev/relais/gateway/mandate"
	"github.com/relais-dev/relais/gateway/store"
	"github.com/relais-dev/relais/gateway/store/storetest"
)

// TestMandateConformance runs the mandate and consent part of the storage
// suite against every backend.
func TestMandateConformance(t *testing.T) {
	t.Parallel()
	for _, driver := range storetest.Drivers {
		t.Run(storetest.Name(driver), func(t *testing.T) {
			t.Parallel()
			s := storetest.Open(t, driver, nil)
			t.Run("Mandates", func(t *testing.T) { testMandates(t, s) })
			t.Run("Consents", func(t *testing.T) { testConsents(t, s) })
			t.Run("Professionals", func(t *testing.T) { testProfessionals(t, s) })
		})
	}
}

func sampleMandate(tenantID, id string, at time.Time) mandate.Mandate {
	p := mandate.Person{FamilyName: "Lefèvre", GivenNames: "Zoé Marie-Hélène", BirthDate: "1948-03-14", Sex: "female", BirthCountry: "99134"}
	exp := at.Add(15 * time.Minute)
	return mandate.Mandate{
		ID: id, TenantID: tenantID, Professional: mandate.Professional{ID: "pro-17", Name: "Camille Martin"},
		Person: p, Phone: "+33612345678", PersonRef: mandate.PersonRef([]byte("k-0123456789abcdef0123456789abcdef"), p),
		Demarches: []mandate.Demarche{mandate.Social, mandate.Sante}, DurationDays: 31, Consent: mandate.RemoteSMS,
		Status: mandate.StatusDraft, CreatedAt: at, ExpiresAt: mandate.ExpiresAt(at, 31),
		CodeHash: []byte("0123456789abcdef0123456789abcdef"), CodeExpiresAt: &exp, Version: 1,
	}
}

func testMandates(t *testing.T, s *store.Store) {
	ctx := context.Background()
	ten, _ := s.EnsureTenant(ctx, "mandate-tenant")
	other, _ := s.EnsureTenant(ctx, "mandate-other")
	at := time.Date(2026, 3, 2, 9, 15, 0, 0, time.UTC)
	m := sampleMandate(ten.ID, "mdt_aaaaaaaaaaaaaaaa", at)
	ev := func(action, outcome string, seqTenant string) mandate.Event {
		return mandate.Event{At: at, TenantID: seqTenant, APIKeyID: "key_x", Action: action, MandateID: m.ID, PersonRef: m.PersonRef,
			Demarches: m.Demarches, Outcome: outcome}
	}
	sms := &mandate.SMS{ID: "sms_aaaaaaaaaaaaaaaa", TenantID: ten.ID, MandateID: m.ID, To: m.Phone, Body: "Votre code : 123456", CreatedAt: at}
	if err := s.CreateMandate(ctx, m, sms, []mandate.Event{ev(mandate.ActionCreateMandat, mandate.OutcomeOK, ten.ID)}); err != nil {
		t.Fatalf("CreateMandate: %v", err)
	}
	got, err := s.Mandate(ctx, m.ID)
	if err != nil {
		t.Fatalf("Mandate: %v", err)
	}
	if got.Person != m.Person || got.Phone != m.Phone || !slices.Equal(got.Demarches, m.Demarches) || !got.ExpiresAt.Equal(m.ExpiresAt) ||
		!bytes.Equal(got.CodeHash, m.CodeHash) || got.CodeExpiresAt == nil || !got.CodeExpiresAt.Equal(*m.CodeExpiresAt) ||
		got.ConfirmedAt != nil || got.Status != mandate.StatusDraft || got.Version != 1 || got.Professional != m.Professional {
		t.Fatalf("read back %+v\nwant %+v", got, m)
	}
	if _, err := s.Mandate(ctx, "mdt_bbbbbbbbbbbbbbbb"); !errors.Is(err, store.ErrNotFound) || !errors.Is(err, mandate.ErrNotFound) {
		t.Fatalf("unknown mandate: %v", err)
	}

	// Optimistic update.
	now := at.Add(time.Minute)
	upd := got
	upd.Status, upd.ConfirmedAt, upd.CodeHash, upd.CodeExpiresAt, upd.Version = mandate.StatusActive, &now, nil, nil, 2
	if err := s.UpdateMandate(ctx, upd, []mandate.Event{ev(mandate.ActionConfirmMandat, mandate.OutcomeOK, ten.ID)}); err != nil {
		t.Fatalf("UpdateMandate: %v", err)
	}
	if err := s.UpdateMandate(ctx, upd, nil); !errors.Is(err, mandate.ErrVersionConflict) {
		t.Fatalf("stale update: %v", err)
	}
	stolen := upd
	stolen.TenantID, stolen.Version = other.ID, 3
	if err := s.UpdateMandate(ctx, stolen, nil); !errors.Is(err, mandate.ErrVersionConflict) {
		t.Fatalf("another tenant's update: %v", err)
	}
	got, _ = s.Mandate(ctx, m.ID)
	if got.Status != mandate.StatusActive || got.ConfirmedAt == nil || !got.ConfirmedAt.Equal(now) || got.CodeHash != nil || got.Version != 2 {
		t.Fatalf("after update: %+v", got)
	}

	// Listing and the journal, per tenant and person.
	m2 := sampleMandate(ten.ID, "mdt_cccccccccccccccc", at.Add(time.Hour))
	if err := s.CreateMandate(ctx, m2, nil, nil); err != nil {
		t.Fatal(err)
	}
	list, err := s.MandatesByPerson(ctx, ten.ID, m.PersonRef)
	if err != nil || len(list) != 2 || list[0].ID != m.ID || list[1].ID != m2.ID {
		t.Fatalf("MandatesByPerson: %+v, %v", list, err)
	}
	if list, _ := s.MandatesByPerson(ctx, other.ID, m.PersonRef); len(list) != 0 {
		t.Fatalf("another tenant lists them: %+v", list)
	}
	use := ev(mandate.ActionUseAutorisation, mandate.OutcomeRefused, ten.ID)
	use.Demarches, use.Detail = []mandate.Demarche{mandate.Logement}, "reason=mandate_demarche_not_covered"
	if err := s.AppendMandateEvents(ctx, []mandate.Event{use}); err != nil {
		t.Fatal(err)
	}
	evs, err := s.MandateJournal(ctx, ten.ID, m.PersonRef)
	if err != nil || len(evs) != 3 {
		t.Fatalf("MandateJournal: %+v, %v", evs, err)
	}
	for i, want := range []string{"create_mandat", "confirm_mandat", "use_autorisation"} {
		if evs[i].Action != want || evs[i].MandateID != m.ID || evs[i].PersonRef != m.PersonRef || (i > 0 && evs[i].Seq <= evs[i-1].Seq) {
			t.Fatalf("journal[%d] = %+v, want %s", i, evs[i], want)
		}
	}
	if evs[2].Outcome != "refused" || !strings.Contains(evs[2].Detail, "reason=mandate_demarche_not_covered") ||
		!strings.Contains(evs[2].Detail, "mandate="+m.ID) || !slices.Equal(evs[2].Demarches, []mandate.Demarche{mandate.Logement}) {
		t.Fatalf("refused use: %+v", evs[2])
	}
	// The entries are ordinary journal entries: sealed into the chain.
	if _, err := s.SealJournal(ctx, 1000); err != nil {
		t.Fatal(err)
	}
	if n, err := s.VerifyJournal(ctx); err != nil || n < 3 {
		t.Fatalf("VerifyJournal: %d, %v", n, err)
	}

	out, err := s.SMSOutbox(ctx, ten.ID)
	if err != nil || len(out) != 1 || out[0].To != m.Phone || out[0].Body != sms.Body || !out[0].CreatedAt.Equal(at) {
		t.Fatalf("SMSOutbox: %+v, %v", out, err)
	}
	if out, _ := s.SMSOutbox(ctx, other.ID); len(out) != 0 {
		t.Fatalf("another tenant's outbox: %+v", out)
	}
}

func testConsents(t *testing.T, s *store.Store) {
	ctx := context.Background()
	ten, _ := s.EnsureTenant(ctx, "consent-tenant")
	other, _ := s.EnsureTenant(ctx, "consent-other")
	at := time.Date(2026, 3, 2, 9, 15, 0, 0, time.UTC)
	ref := "prs_" + strings.Repeat("a", 32)
	c1, err := mandate.NewConsent(ten.ID, ref, []string{"quotient_familial"}, []string{"apiparticulier", "francetravail"}, at, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c2, _ := mandate.NewConsent(ten.ID, ref, []string{"statut_france_travail"}, []string{"francetravail"}, at.Add(time.Minute), time.Hour)
	for _, c := range []mandate.Consent{c1, c2} {
		if err := s.CreateConsent(ctx, c); err != nil {
			t.Fatalf("CreateConsent: %v", err)
		}
	}
	got, err := s.Consent(ctx, ten.ID, c1.ID)
	if err != nil || got.PersonRef != ref || !slices.Equal(got.Platforms, c1.Platforms) || !got.GrantedAt.Equal(at) || !got.ExpiresAt.Equal(at.Add(time.Hour)) {
		t.Fatalf("Consent: %+v, %v", got, err)
	}
	if _, err := s.Consent(ctx, other.ID, c1.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another tenant's consent: %v", err)
	}
	list, err := s.ConsentsByPerson(ctx, ten.ID, ref)
	if err != nil || len(list) != 2 || list[0].ID != c1.ID || list[1].ID != c2.ID {
		t.Fatalf("ConsentsByPerson: %+v, %v", list, err)
	}
	if list, _ := s.ConsentsByPerson(ctx, other.ID, ref); len(list) != 0 {
		t.Fatalf("another tenant lists them: %+v", list)
	}

	// Withdrawal: for the consent's tenant and person only, once.
	at2 := at.Add(30 * time.Minute)
	if _, err := s.WithdrawConsent(ctx, other.ID, ref, c1.ID, at2); !errors.Is(err, mandate.ErrNotFound) {
		t.Fatalf("another tenant withdraws: %v", err)
	}
	if _, err := s.WithdrawConsent(ctx, ten.ID, "prs_"+strings.Repeat("b", 32), c1.ID, at2); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another person withdraws: %v", err)
	}
	w, err := s.WithdrawConsent(ctx, ten.ID, ref, c1.ID, at2)
	if err != nil || w.WithdrawnAt == nil || !w.WithdrawnAt.Equal(at2) || w.ID != c1.ID || w.ActiveAt(at2) {
		t.Fatalf("WithdrawConsent: %+v, %v", w, err)
	}
	if again, err := s.WithdrawConsent(ctx, ten.ID, ref, c1.ID, at2.Add(time.Minute)); err != nil || !again.WithdrawnAt.Equal(at2) {
		t.Fatalf("withdrawing twice: %+v, %v", again, err)
	}
	if list, _ := s.ConsentsByPerson(ctx, ten.ID, ref); list[0].WithdrawnAt == nil || list[1].WithdrawnAt != nil {
		t.Fatalf("after withdrawal: %+v", list)
	}
	entries, err := s.Journal(ctx, ten.ID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, e := range entries {
		ops = append(ops, e.Operation+":"+strings.Fields(e.Detail)[0])
	}
	want := []string{"grant_consent:consent=" + c1.ID, "grant_consent:consent=" + c2.ID, "withdraw_consent:consent=" + c1.ID}
	if !slices.Equal(ops, want) {
		t.Fatalf("journal %v, want %v", ops, want)
	}
	if n, err := s.SealJournal(ctx, 1000); err != nil || n == 0 {
		t.Fatalf("SealJournal: %d, %v", n, err)
	}
}

func testProfessionals(t *testing.T, s *store.Store) {
	ctx := context.Background()
	ten, _ := s.EnsureTenant(ctx, "directory-tenant")
	other, _ := s.EnsureTenant(ctx, "directory-other")
	at := time.Date(2026, 3, 2, 9, 15, 0, 0, time.UTC)
	for _, p := range []mandate.Professional{{ID: "sub-2", Name: "Lucas PETIT"}, {ID: "sub-1", Name: "Sophie GARNIER"}} {
		if err := s.RecordProfessional(ctx, ten.ID, p, at); err != nil {
			t.Fatalf("RecordProfessional: %v", err)
		}
	}
	// A second sign-in refreshes the name, adds nobody.
	if err := s.RecordProfessional(ctx, ten.ID, mandate.Professional{ID: "sub-1", Name: "Sophie GARNIER-ROUX"}, at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordProfessional(ctx, other.ID, mandate.Professional{ID: "sub-3", Name: "Karim BENALI"}, at); err != nil {
		t.Fatal(err)
	}
	got, err := s.Professionals(ctx, ten.ID)
	want := []mandate.Professional{{ID: "sub-2", Name: "Lucas PETIT"}, {ID: "sub-1", Name: "Sophie GARNIER-ROUX"}}
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("Professionals: %+v, %v; want %+v", got, err, want)
	}
	if got, _ := s.Professionals(ctx, other.ID); len(got) != 1 || got[0].ID != "sub-3" {
		t.Fatalf("the other tenant's directory: %+v", got)
	}
}
