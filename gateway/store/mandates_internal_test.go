package store

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/relais-dev/relais/gateway/mandate"
)

// TestMandateIdentitySealed reads the raw rows: the identity and the phone
// are in no column in clear, and a sealed identity cannot be moved to
// another mandate's row.
func TestMandateIdentitySealed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTestStore(t, nil)
	ten, _ := s.EnsureTenant(ctx, "t")
	at := time.Date(2026, 3, 2, 9, 15, 0, 0, time.UTC)
	p := mandate.Person{FamilyName: "Lefèvre", GivenNames: "Zoé", BirthDate: "1948-03-14", Sex: "female", BirthCountry: "99134"}
	for _, id := range []string{"mdt_aaaaaaaaaaaaaaaa", "mdt_bbbbbbbbbbbbbbbb"} {
		m := mandate.Mandate{ID: id, TenantID: ten.ID, Person: p, Phone: "+33612345678", PersonRef: "prs_x",
			Demarches: []mandate.Demarche{mandate.Social}, DurationDays: 1, Consent: mandate.InPerson, Status: mandate.StatusActive,
			CreatedAt: at, ExpiresAt: at.Add(24 * time.Hour), Version: 1}
		sms := &mandate.SMS{ID: "sms_" + id[4:], TenantID: ten.ID, MandateID: id, To: m.Phone, Body: "code 123456", CreatedAt: at}
		if err := s.CreateMandate(ctx, m, sms, nil); err != nil {
			t.Fatal(err)
		}
	}
	r, err := s.b.query(ctx, `SELECT m.id, m.professional_name, m.person_ref, m.person, o.message FROM relais_mandates m JOIN relais_sms_outbox o ON o.mandate_id = m.id ORDER BY m.id`)
	if err != nil {
		t.Fatal(err)
	}
	var sealed [][]byte
	for r.Next() {
		var id, name, ref string
		var person, msg []byte
		if err := r.Scan(&id, &name, &ref, &person, &msg); err != nil {
			t.Fatal(err)
		}
		for _, clear := range []string{"Lef", "1948", "+3361"} {
			if bytes.Contains(person, []byte(clear)) || bytes.Contains(msg, []byte(clear)) {
				t.Fatalf("%s: %q stored in clear", id, clear)
			}
		}
		sealed = append(sealed, person)
	}
	r.Close()
	if len(sealed) != 2 {
		t.Fatalf("%d rows", len(sealed))
	}
	if _, err := s.b.exec(ctx, `UPDATE relais_mandates SET person = $1 WHERE id = 'mdt_bbbbbbbbbbbbbbbb'`, sealed[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Mandate(ctx, "mdt_bbbbbbbbbbbbbbbb"); err == nil {
		t.Fatal("a sealed identity moved to another row opened")
	}
}
