package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/relais-dev/relais/gateway/mandate"
	"github.com/relais-dev/relais/gateway/profile"
	"github.com/relais-dev/relais/gateway/store"
	"github.com/relais-dev/relais/gateway/store/storetest"
)

// TestProfileConformance runs the profile part of the storage suite
// (prefills, their purge, consent tokens, consent uses) against every
// backend.
func TestProfileConformance(t *testing.T) {
	t.Parallel()
	for _, driver := range storetest.Drivers {
		t.Run(storetest.Name(driver), func(t *testing.T) {
			t.Parallel()
			s := storetest.Open(t, driver, nil)
			t.Run("Prefills", func(t *testing.T) { testPrefills(t, s) })
			t.Run("ConsentTokens", func(t *testing.T) { testConsentTokens(t, s) })
			t.Run("ConsentUses", func(t *testing.T) { testConsentUses(t, s) })
		})
	}
}

func testPrefills(t *testing.T, s *store.Store) {
	ctx := context.Background()
	ten, _ := s.EnsureTenant(ctx, "profile-tenant")
	other, _ := s.EnsureTenant(ctx, "profile-other")
	at := time.Date(2026, 3, 2, 9, 15, 0, 0, time.UTC)
	rec := func(id string, ttl time.Duration) profile.Record {
		return profile.Record{ID: id, TenantID: ten.ID, CreatedAt: at, ExpiresAt: at.Add(ttl), Body: []byte(`{"id":"` + id + `","qf":987.65}`)}
	}
	short, long := rec("prf_aaaaaaaaaaaaaaaa", 15*time.Minute), rec("prf_bbbbbbbbbbbbbbbb", time.Hour)
	access := profile.Access{At: at, TenantID: ten.ID, APIKeyID: "key_x", Operation: profile.OpPull, Source: "apiparticulier",
		Categories: []string{"benefit", "identity"}, Outcome: "ok", Detail: "profile=" + short.ID + " mandate=mdt_x person=prs_x"}
	if err := s.SaveProfile(ctx, short, []profile.Access{access}); err != nil {
		t.Fatalf("SaveProfile: %v", err)
	}
	if err := s.SaveProfile(ctx, long, nil); err != nil {
		t.Fatalf("SaveProfile: %v", err)
	}
	if err := s.SaveProfile(ctx, short, nil); err == nil {
		t.Fatal("a second prefill with the same id was stored")
	}
	for _, tc := range []struct {
		name     string
		tenantID string
		id       string
		now      time.Time
		want     error
	}{
		{"live", ten.ID, short.ID, at.Add(14 * time.Minute), nil},
		{"other tenant", other.ID, short.ID, at, profile.ErrNotFound},
		{"unknown", ten.ID, "prf_cccccccccccccccc", at, profile.ErrNotFound},
		{"at expiry", ten.ID, short.ID, at.Add(15 * time.Minute), profile.ErrExpired},
	} {
		got, err := s.Profile(ctx, tc.tenantID, tc.id, tc.now)
		switch {
		case tc.want == nil && (err != nil || string(got.Body) != string(short.Body) || !got.ExpiresAt.Equal(short.ExpiresAt)):
			t.Errorf("%s: %+v, %v", tc.name, got, err)
		case tc.want != nil && !errors.Is(err, tc.want):
			t.Errorf("%s: error %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, err := s.Profile(ctx, other.ID, short.ID, at); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another tenant's prefill: %v, want store.ErrNotFound too", err)
	}
	journal, err := s.Journal(ctx, ten.ID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(journal, func(e store.JournalEntry) bool { return e.Operation == profile.OpPull }); i < 0 ||
		journal[i].Destination != "apiparticulier" || strings.Join(journal[i].Categories, ",") != "benefit,identity" || journal[i].Detail != access.Detail {
		t.Fatalf("the pull was not journaled with the prefill: %+v", journal)
	}

	// The purge erases what has expired, keeps a tombstone, then drops it.
	goneFor := 24 * time.Hour
	res, err := s.PurgeProfiles(ctx, at.Add(20*time.Minute), goneFor)
	if err != nil || res.Profiles != 1 || res.Tombstones != 0 {
		t.Fatalf("first purge: %+v, %v", res, err)
	}
	if _, err := s.Profile(ctx, ten.ID, short.ID, at); !errors.Is(err, profile.ErrExpired) {
		t.Fatalf("a purged prefill read with a clock before its expiry: %v, want ErrExpired (its data is gone)", err)
	}
	if got, err := s.Profile(ctx, ten.ID, long.ID, at.Add(20*time.Minute)); err != nil || string(got.Body) != string(long.Body) {
		t.Fatalf("the prefill still alive was purged: %v", err)
	}
	if res, err := s.PurgeProfiles(ctx, at.Add(20*time.Minute), goneFor); err != nil || res != (store.PurgeResult{}) {
		t.Fatalf("second purge at the same time: %+v, %v", res, err)
	}
	res, err = s.PurgeProfiles(ctx, at.Add(goneFor+time.Hour), goneFor)
	if err != nil || res.Profiles != 1 || res.Tombstones != 2 {
		t.Fatalf("late purge: %+v, %v", res, err)
	}
	if _, err := s.Profile(ctx, ten.ID, short.ID, at); !errors.Is(err, profile.ErrNotFound) {
		t.Fatalf("after its tombstone went: %v, want ErrNotFound", err)
	}
	if n, err := s.VerifyJournal(ctx); err != nil {
		t.Fatalf("journal after purges (%d checked): %v", n, err)
	}
}

func testConsentTokens(t *testing.T, s *store.Store) {
	ctx := context.Background()
	ten, _ := s.EnsureTenant(ctx, "token-tenant")
	other, _ := s.EnsureTenant(ctx, "token-other")
	at := time.Date(2026, 3, 2, 9, 15, 0, 0, time.UTC)
	c, err := mandate.NewConsent(ten.ID, "prs_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", []string{"benefit"}, []string{"apiparticulier"}, at, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateConsent(ctx, c); err != nil {
		t.Fatalf("CreateConsent: %v", err)
	}
	if err := s.SaveConsentToken(ctx, c, "fc-token-0123456789", at.Add(time.Minute)); err != nil {
		t.Fatalf("SaveConsentToken: %v", err)
	}
	for _, tc := range []struct {
		name     string
		tenantID string
		now      time.Time
		want     string
	}{
		{"alive", ten.ID, at.Add(59 * time.Second), "fc-token-0123456789"},
		{"expired", ten.ID, at.Add(time.Minute), ""},
		{"other tenant", other.ID, at, ""},
	} {
		got, err := s.ConsentToken(ctx, tc.tenantID, c.ID, tc.now)
		if err != nil || got.Reveal() != tc.want {
			t.Errorf("%s: %q, %v; want %q", tc.name, got.Reveal(), err, tc.want)
		}
	}
	// Saving again replaces; a token without expiry is not kept.
	if err := s.SaveConsentToken(ctx, c, "fc-token-renewed", at.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.ConsentToken(ctx, ten.ID, c.ID, at.Add(90*time.Second)); got.Reveal() != "fc-token-renewed" {
		t.Fatalf("replaced token: %q", got.Reveal())
	}
	if err := s.SaveConsentToken(ctx, c, "fc-token-forever", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.ConsentToken(ctx, ten.ID, c.ID, at); got.Reveal() != "fc-token-renewed" {
		t.Fatalf("a token without expiry replaced the kept one: %q", got.Reveal())
	}
	res, err := s.PurgeProfiles(ctx, at.Add(2*time.Minute), time.Hour)
	if err != nil || res.Tokens != 1 {
		t.Fatalf("purge: %+v, %v", res, err)
	}
	if got, _ := s.ConsentToken(ctx, ten.ID, c.ID, at); got != "" {
		t.Fatalf("the purged token is still read: %q", got.Reveal())
	}

	// Withdrawing a consent deletes its token at once, and only its own.
	var kept [2]mandate.Consent
	for i := range kept {
		if kept[i], err = mandate.NewConsent(ten.ID, c.PersonRef, []string{"household"}, []string{"apiparticulier"}, at, time.Hour); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateConsent(ctx, kept[i]); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveConsentToken(ctx, kept[i], fmt.Sprintf("fc-token-%d", i), at.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.WithdrawConsent(ctx, ten.ID, c.PersonRef, kept[0].ID, at.Add(time.Minute)); err != nil {
		t.Fatalf("WithdrawConsent: %v", err)
	}
	for i, want := range []string{"", "fc-token-1"} {
		if got, err := s.ConsentToken(ctx, ten.ID, kept[i].ID, at.Add(2*time.Minute)); err != nil || got.Reveal() != want {
			t.Fatalf("token of consent %d after the first's withdrawal: %q, %v; want %q", i, got.Reveal(), err, want)
		}
	}
	if res, err := s.PurgeProfiles(ctx, at.Add(2*time.Minute), time.Hour); err != nil || res.Tokens != 0 {
		t.Fatalf("purge after withdrawal: %+v, %v (the withdrawn consent's token should be gone already)", res, err)
	}
}

func testConsentUses(t *testing.T, s *store.Store) {
	ctx := context.Background()
	ten, _ := s.EnsureTenant(ctx, "use-tenant")
	at := time.Date(2026, 3, 2, 9, 15, 0, 0, time.UTC)
	c, err := mandate.NewConsent(ten.ID, "prs_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", []string{"benefit"}, []string{"apiparticulier"}, at, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateConsent(ctx, c); err != nil {
		t.Fatal(err)
	}
	uses := []profile.ConsentUse{
		{At: at, TenantID: ten.ID, APIKeyID: "key_x", ConsentID: c.ID, PersonRef: c.PersonRef, Source: "apiparticulier",
			Operation: "quotient_familial", Category: "benefit", Outcome: profile.UseOK},
		{At: at, TenantID: ten.ID, APIKeyID: "key_x", ConsentID: c.ID, PersonRef: c.PersonRef, Source: "francetravail",
			Operation: "france_travail_statut", Category: "employment", Outcome: profile.UseRefused, Reason: profile.ReasonConsentPlatform},
	}
	if err := s.AppendConsentUses(ctx, uses); err != nil {
		t.Fatalf("AppendConsentUses: %v", err)
	}
	got, err := s.ConsentJournal(ctx, ten.ID, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Operation != profile.OpConsentUse || got[0].Outcome != "ok" || got[0].Destination != "apiparticulier" ||
		got[1].Outcome != "refused" || !strings.Contains(got[1].Detail, "consent="+c.ID) ||
		!strings.Contains(got[1].Detail, "person="+c.PersonRef) || !strings.Contains(got[1].Detail, "reason=consent_platform_not_covered") ||
		strings.Join(got[1].Categories, ",") != "employment" {
		t.Fatalf("consent journal: %+v", got)
	}
	// Hash-chained like every entry.
	if _, err := s.SealJournal(ctx, 1000); err != nil {
		t.Fatal(err)
	}
	if _, err := s.VerifyJournal(ctx); err != nil {
		t.Fatalf("journal with consent uses: %v", err)
	}
	if got, _ := s.ConsentJournal(ctx, ten.ID, c.ID); got[1].ChainPos == nil {
		t.Fatalf("consent use not sealed: %+v", got[1])
	}
}

// TestPeriodicPurgeJob checks the River job purges on its own: a prefill
// expired by the store's clock is erased once the workers run.
func TestPeriodicPurgeJob(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	at := time.Date(2026, 3, 2, 9, 15, 0, 0, time.UTC)
	s, err := store.Open(ctx, store.Options{Driver: "sqlite", DSN: storetest.DSN(t, "sqlite"), Keyring: storetest.Keyring(t),
		Now: func() time.Time { return at.Add(time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	ten, _ := s.EnsureTenant(ctx, "periodic")
	r := profile.Record{ID: "prf_aaaaaaaaaaaaaaaa", TenantID: ten.ID, CreatedAt: at, ExpiresAt: at.Add(15 * time.Minute), Body: []byte(`{}`)}
	if err := s.SaveProfile(ctx, r, nil); err != nil {
		t.Fatal(err)
	}
	workers := river.NewWorkers()
	job, worker := s.PeriodicPurgeJob(time.Hour, 24*time.Hour)
	river.AddWorker(workers, worker)
	stop, err := s.StartWorkers(ctx, store.QueueConfig{Workers: workers, PeriodicJobs: []*river.PeriodicJob{job}, FetchCooldown: 5 * time.Millisecond,
		FetchPollInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = stop(context.WithoutCancel(ctx)) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := s.Profile(ctx, ten.ID, r.ID, at)
		if errors.Is(err, profile.ErrExpired) {
			return // erased: read before its expiry, it still answers expired
		}
		if time.Now().After(deadline) {
			t.Fatalf("the periodic job did not purge within 30s: %v", err)
		}
		time.Sleep(20 * time.Millisecond) // bounded poll
	}
}
