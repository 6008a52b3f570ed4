package mapping

import (
	"slices"
	"testing"
	"time"
)

func TestNewQuotientFamilial(t *testing.T) {
	t.Parallel()
	period := BenefitPeriod{Year: 2024, Month: 9, ComputedYear: 2024, ComputedMonth: 9}
	zero := NewQuotientFamilial(ProviderCNAF, 0, period)
	if zero.Status != StatusNotComputable || zero.Amount != nil {
		t.Errorf("a quotient of 0 gives status %q, amount %v; want not_computable and no amount", zero.Status, zero.Amount)
	}
	qf := NewQuotientFamilial(ProviderMSA, 150, period)
	if qf.Status != StatusBeneficiary || qf.Amount == nil || *qf.Amount != 150 {
		t.Errorf("a quotient of 150 gives status %q, amount %v", qf.Status, qf.Amount)
	}
	for _, b := range []Benefit{zero, qf} {
		if errs := b.Validate(); len(errs) > 0 {
			t.Errorf("NewQuotientFamilial gives an invalid benefit: %v", errs)
		}
	}
}

func TestPersonHelpers(t *testing.T) {
	t.Parallel()
	p := Person{GivenNames: []string{"Jean-Pierre", "Marie"}, BirthCountryCOG: "99330"}
	if got := p.FirstGivenName(); got != "Jean-Pierre" {
		t.Errorf("FirstGivenName() = %q", got)
	}
	if !p.BornAbroad() {
		t.Error("99330: BornAbroad() = false")
	}
	for _, country := range []string{"", CountryFrance} {
		if (&Person{BirthCountryCOG: country}).BornAbroad() {
			t.Errorf("%q: BornAbroad() = true", country)
		}
	}
	if (&Person{}).FirstGivenName() != "" {
		t.Error("FirstGivenName() of no given name is not empty")
	}
}

func TestMandateActiveAt(t *testing.T) {
	t.Parallel()
	created := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	m := Mandate{CreatedAt: created, ExpiresAt: created.AddDate(0, 0, 31), Demarches: []Demarche{DemarcheSocial}}
	for _, tt := range []struct {
		at   time.Time
		want bool
	}{
		{created.Add(-time.Second), false},
		{created, true},
		{created.AddDate(0, 0, 30), true},
		{created.AddDate(0, 0, 31), false},
	} {
		if got := m.ActiveAt(tt.at); got != tt.want {
			t.Errorf("ActiveAt(%v) = %v, want %v", tt.at, got, tt.want)
		}
	}
	m.RevokedAt = created.AddDate(0, 0, 2)
	if m.ActiveAt(created.AddDate(0, 0, 3)) {
		t.Error("a revoked mandate is active")
	}
	if !m.Covers(DemarcheSocial) || m.Covers(DemarcheArgent) {
		t.Error("Covers does not follow Demarches")
	}
}

func TestConsentActiveAt(t *testing.T) {
	t.Parallel()
	given := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	c := Consent{GivenAt: given}
	if !c.ActiveAt(given.AddDate(5, 0, 0)) {
		t.Error("a consent without expiry lapses")
	}
	if c.ActiveAt(given.Add(-time.Second)) {
		t.Error("a consent is active before it is given")
	}
	c.ExpiresAt = given.AddDate(1, 0, 0)
	if c.ActiveAt(c.ExpiresAt) {
		t.Error("a consent is active at its expiry")
	}
	c.WithdrawnAt = given.AddDate(0, 1, 0)
	if c.ActiveAt(given.AddDate(0, 2, 0)) {
		t.Error("a withdrawn consent is active")
	}
}

// TestDocumentDepositUnchanged pins what the gateway relies on: the deposit's
// fields, codes and details, now with a French message, and no check of the
// size and digest computed after it.
func TestDocumentDepositUnchanged(t *testing.T) {
	t.Parallel()
	d := DocumentDeposit{
		Beneficiary: Beneficiary{DistantID: "DUI 451", FirstName: "Zoé", LastName: "Lefèvre", BirthDate: "1948-02-30"},
		Document:    Document{Kind: "cni", Title: "CNI", FileName: "a/b.pdf", MediaType: "application/pdf", Visibility: "public"},
	}
	var got [][3]string
	for _, fe := range d.Validate("document_deposit.") {
		got = append(got, [3]string{fe.Field, fe.Code, fe.Detail})
		if fe.Message == "" {
			t.Errorf("%s: no message", fe.Field)
		}
	}
	want := [][3]string{
		{"document_deposit.beneficiary.distant_id", "invalid_format", "must be 1 to 128 letters, digits or ._:-"},
		{"document_deposit.beneficiary.birth_date", "invalid_date", "must be a date in the form YYYY-MM-DD"},
		{"document_deposit.document.file_name", "invalid_format", "must not contain a path separator"},
		{"document_deposit.document.visibility", "invalid_value", `must be "private" or "shared"`},
	}
	if !slices.Equal(got, want) {
		t.Errorf("Validate() =\n%v\nwant\n%v", got, want)
	}
}
