package mandate_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/relais-dev/relais/gateway/mandate"
)

// The person reference ignores case, accents and spacing, so staff can
// type a name as they like and still find the person's mandates.
func ExamplePersonRef() {
	key := []byte("example-key-0123456789abcdef012345")
	a := mandate.PersonRef(key, mandate.Person{FamilyName: "Lefèvre", GivenNames: "Zoé", BirthDate: "1948-03-14", Sex: "female", BirthCountry: "99134"})
	b := mandate.PersonRef(key, mandate.Person{FamilyName: "LEFEVRE ", GivenNames: "zoe", BirthDate: "1948-03-14", Sex: "female", BirthCountry: "99134"})
	fmt.Println(mandate.ValidPersonRef(a), a == b)
	// Output: true true
}

// The journal names who acted: an API key, or a professional signed in
// through ProConnect in the professional space.
func ExampleCaller_Actor() {
	key := mandate.Caller{TenantID: "ten_1", APIKeyID: "key_abc"}
	pro := mandate.Caller{TenantID: "ten_1", ProfessionalID: "b6b1a2f4-4c1e-4a7d-9a53-5e0f1b7e2c01"}
	fmt.Println(key.Actor())
	fmt.Println(pro.Actor())
	// Output:
	// key_abc
	// pro:b6b1a2f4-4c1e-4a7d-9a53-5e0f1b7e2c01
}

// A consent is no longer in force from its withdrawal on, whatever its
// expiry.
func ExampleConsent_ActiveAt() {
	granted := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	withdrawn := granted.Add(time.Hour)
	c := mandate.Consent{GrantedAt: granted, ExpiresAt: granted.Add(24 * time.Hour), WithdrawnAt: &withdrawn}
	fmt.Println(c.ActiveAt(granted.Add(time.Minute)), c.ActiveAt(withdrawn), c.ActiveAt(granted.Add(2*time.Hour)))
	// Output: true false false
}

// Person.Validate checks traits typed in a form before they become a
// person reference.
func ExamplePerson_Validate() {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	err := mandate.Person{FamilyName: "Le Guével", GivenNames: "André", BirthDate: "1961-11-02", Sex: "male", BirthCountry: "99100"}.Validate(now)
	var ve *mandate.ValidationError
	if errors.As(err, &ve) {
		for _, f := range ve.Fields {
			fmt.Println(f.Field, f.Code)
		}
	}
	// Output: birth_place invalid_format
}

// A refusal has a stable code for programs and a French explanation for
// the staff, the same in the API's problems and the professional space.
func ExampleRefusedError_Explanation() {
	var err error = &mandate.RefusedError{Code: mandate.CodeExpired, MandateID: "mdt_aaaaaaaaaaaaaaaa"}
	if re, ok := errors.AsType[*mandate.RefusedError](err); ok {
		fmt.Println(re.Code, errors.Is(err, mandate.ErrExpired))
		fmt.Println(re.Explanation())
	}
	// Output:
	// mandate_expired true
	// Ce mandat a expiré : renouvelez-le avec la personne.
}
