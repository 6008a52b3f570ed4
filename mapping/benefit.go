package mapping

import (
	"fmt"
	"regexp"
)

// BenefitKind names a benefit, or the family quotient, as API Particulier
// names its routes.
type BenefitKind string

// Benefit kinds.
const (
	KindQuotientFamilial             BenefitKind = "quotient_familial"
	KindRevenuSolidariteActive       BenefitKind = "revenu_solidarite_active"
	KindPrimeActivite                BenefitKind = "prime_activite"
	KindAllocationAdulteHandicape    BenefitKind = "allocation_adulte_handicape"
	KindAllocationEnfantHandicape    BenefitKind = "allocation_enfant_handicape"
	KindAllocationSoutienFamilial    BenefitKind = "allocation_soutien_familial"
	KindComplementaireSanteSolidaire BenefitKind = "complementaire_sante_solidaire"
	KindParticipationFamilialeEAJE   BenefitKind = "participation_familiale_eaje"
)

var benefitKinds = []BenefitKind{
	KindQuotientFamilial, KindRevenuSolidariteActive, KindPrimeActivite,
	KindAllocationAdulteHandicape, KindAllocationEnfantHandicape, KindAllocationSoutienFamilial,
	KindComplementaireSanteSolidaire, KindParticipationFamilialeEAJE,
}

// Provider is the body that pays a benefit or computes a quotient.
type Provider string

// Providers.
const (
	ProviderCNAF          Provider = "CNAF"
	ProviderMSA           Provider = "MSA"
	ProviderFranceTravail Provider = "FRANCE_TRAVAIL"
)

// BenefitStatus is what the provider says of the person and the benefit.
type BenefitStatus string

// Benefit statuses.
const (
	StatusBeneficiary    BenefitStatus = "beneficiary"
	StatusNotBeneficiary BenefitStatus = "not_beneficiary"
	// StatusNotComputable: the provider could not compute the right; a
	// family quotient of 0 means this, never an income of zero.
	StatusNotComputable BenefitStatus = "not_computable"
)

// BenefitPeriod is the month a right is for and, for a family quotient, the
// month it was computed in.
type BenefitPeriod struct {
	Year          int `json:"year"`
	Month         int `json:"month"`
	ComputedYear  int `json:"computed_year,omitempty"`
	ComputedMonth int `json:"computed_month,omitempty"`
}

// Benefit is a right to a benefit, or a family quotient.
type Benefit struct {
	Kind     BenefitKind   `json:"kind"`
	Provider Provider      `json:"provider"`
	Status   BenefitStatus `json:"status"`
	// Amount is in euros, or the family quotient's value. It is set only
	// for a beneficiary, and is then positive: never 0.
	Amount *float64      `json:"amount,omitempty"`
	Period BenefitPeriod `json:"period"`
	// StartDate is the first day of the right.
	StartDate Date `json:"start_date,omitempty"`
	// Increased reports a "majoration" (single parent, for instance).
	Increased bool `json:"increased,omitempty"`
}

// NewQuotientFamilial builds the family quotient benefit from the value the
// CNAF or the MSA returns: a value of 0 means "not computable", so it gives
// StatusNotComputable and no amount.
func NewQuotientFamilial(provider Provider, value float64, period BenefitPeriod) Benefit {
	b := Benefit{Kind: KindQuotientFamilial, Provider: provider, Status: StatusNotComputable, Period: period}
	if value > 0 {
		b.Status = StatusBeneficiary
		b.Amount = &value
	}
	return b
}

// Validate checks the benefit: the amount only for a beneficiary, and
// required for a family quotient there.
func (b *Benefit) Validate() []*FieldError {
	c := newChecker("")
	enum(c, "kind", "Le type de prestation", b.Kind, benefitKinds...)
	enum(c, "provider", "L'organisme", b.Provider, ProviderCNAF, ProviderMSA, ProviderFranceTravail)
	enum(c, "status", "Le statut", b.Status, StatusBeneficiary, StatusNotBeneficiary, StatusNotComputable)
	switch {
	case b.Amount != nil && b.Status != StatusBeneficiary:
		c.add("amount", "not_allowed", "must be absent unless the status is beneficiary",
			"Le montant ne doit être renseigné que pour un bénéficiaire.")
	case b.Amount != nil && !(*b.Amount > 0):
		c.add("amount", "out_of_range", "must be greater than 0; a quotient of 0 is the status not_computable",
			"Le montant doit être supérieur à 0 ; un quotient familial de 0 signifie « non calculable ».")
	case b.Amount != nil && *b.Amount > maxAmount:
		c.add("amount", "out_of_range", "must be at most 1000000000", "Le montant dépasse 1 000 000 000.")
	case b.Amount == nil && b.Status == StatusBeneficiary && b.Kind == KindQuotientFamilial:
		c.add("amount", "required", "is required for a computed family quotient",
			"La valeur du quotient familial est obligatoire lorsqu'il est calculé.")
	}
	if b.Period == (BenefitPeriod{}) {
		c.missing("period", "La période du droit")
	} else {
		b.Period.validate(c.at("period"))
	}
	c.date("start_date", "La date d'ouverture du droit", b.StartDate, false)
	return c.result()
}

func (p *BenefitPeriod) validate(c *checker) {
	c.within("year", "L'année", p.Year, 1900, 2999)
	c.within("month", "Le mois", p.Month, 1, 12)
	if p.ComputedYear != 0 {
		c.within("computed_year", "L'année de calcul", p.ComputedYear, 1900, 2999)
	}
	switch {
	case p.ComputedMonth == 0:
	case p.ComputedYear == 0:
		c.add("computed_year", "required", "is required with computed_month",
			"L'année de calcul est obligatoire avec le mois de calcul.")
	}
	if p.ComputedMonth != 0 {
		c.within("computed_month", "Le mois de calcul", p.ComputedMonth, 1, 12)
	}
}

// CNAVCertification is the state of the certification of a job seeker's
// identity by the CNAV, as France Travail passes it on.
type CNAVCertification string

// CNAV certification codes: the first three count as certified.
const (
	CNAVCertified            CNAVCertification = "VC"
	CNAVAssimilatedCertified CNAVCertification = "IC"
	CNAVPartlyCertified      CNAVCertification = "PC"
	CNAVAwaitingReply        CNAVCertification = "AC"
	CNAVRequestSent          CNAVCertification = "DC"
	CNAVCertificationFailed  CNAVCertification = "EC"
	CNAVProposalRefused      CNAVCertification = "RC"
)

// EmploymentRegistration is a registration with France Travail as a job
// seeker.
type EmploymentRegistration struct {
	// Identifier is the person's France Travail user name.
	Identifier string `json:"identifier"`
	StartDate  Date   `json:"start_date"`
	EndDate    Date   `json:"end_date,omitempty"`
	// CategoryCode is the registration category, "1" to "8" (the API
	// gives 1 to 5).
	CategoryCode  string `json:"category_code,omitempty"`
	CategoryLabel string `json:"category_label,omitempty"`
	// CNAVCertificationCode is one of the CNAV constants; empty means the
	// identity is not certified.
	CNAVCertificationCode CNAVCertification `json:"cnav_certification_code,omitempty"`
}

var (
	franceTravailIDPattern = regexp.MustCompile(`^\S{1,128}$`)
	categoryCodePattern    = regexp.MustCompile(`^[1-8]$`)
)

// Validate checks the registration.
func (r *EmploymentRegistration) Validate() []*FieldError {
	c := newChecker("")
	switch {
	case r.Identifier == "":
		c.missing("identifier", "L'identifiant France Travail")
	case !franceTravailIDPattern.MatchString(r.Identifier):
		c.add("identifier", "invalid_format", "must be 1 to 128 characters without spaces",
			"L'identifiant France Travail doit compter 1 à 128 caractères, sans espace.")
	}
	c.date("start_date", "La date d'inscription", r.StartDate, true)
	c.date("end_date", "La date de fin d'inscription", r.EndDate, false)
	if r.EndDate.before(r.StartDate) {
		c.add("end_date", "before_start", "must not be before start_date",
			"La date de fin d'inscription ne peut pas précéder la date d'inscription.")
	}
	if r.CategoryCode != "" && !categoryCodePattern.MatchString(r.CategoryCode) {
		c.add("category_code", "invalid_format", "must be a digit from 1 to 8",
			"La catégorie d'inscription doit être un chiffre de 1 à 8.")
	}
	c.text("category_label", "Le libellé de la catégorie", r.CategoryLabel, false, 200)
	if r.CategoryLabel != "" && r.CategoryCode == "" {
		c.add("category_code", "required", "is required with category_label",
			"La catégorie d'inscription est obligatoire avec son libellé.")
	}
	if r.CNAVCertificationCode != "" {
		enum(c, "cnav_certification_code", "Le code de certification CNAV", r.CNAVCertificationCode,
			CNAVCertified, CNAVAssimilatedCertified, CNAVPartlyCertified, CNAVAwaitingReply, CNAVRequestSent,
			CNAVCertificationFailed, CNAVProposalRefused)
	}
	return c.result()
}

// Payment is a payment France Travail made to a job seeker. Amounts are in
// euros; the parts are omitted when 0.
type Payment struct {
	PaidOn Date `json:"paid_on"`
	// Total is the amount paid, greater than 0.
	Total      float64 `json:"total"`
	Allowances float64 `json:"allowances,omitempty"`
	Aids       float64 `json:"aids,omitempty"`
	Other      float64 `json:"other,omitempty"`
}

const maxAmount = 1e9

// Validate checks the payment.
func (p *Payment) Validate() []*FieldError {
	c := newChecker("")
	c.date("paid_on", "La date de versement", p.PaidOn, true)
	if !(p.Total > 0 && p.Total <= maxAmount) {
		c.add("total", "out_of_range", "must be greater than 0 and at most 1000000000",
			"Le montant total doit être supérieur à 0 et au plus 1 000 000 000.")
	}
	for _, part := range []struct {
		field, label string
		v            float64
	}{
		{"allowances", "Le montant des allocations", p.Allowances},
		{"aids", "Le montant des aides", p.Aids},
		{"other", "Le montant des autres versements", p.Other},
	} {
		if !(part.v >= 0 && part.v <= maxAmount) {
			c.add(part.field, "out_of_range", "must be between 0 and 1000000000",
				fmt.Sprintf("%s doit être compris entre 0 et 1 000 000 000.", part.label))
		}
	}
	return c.result()
}
