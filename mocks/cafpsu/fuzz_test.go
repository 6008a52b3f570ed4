package cafpsu

import (
	"encoding/json"
	"testing"
	"time"
)

// FuzzCheck feeds the business rules arbitrary declaration bodies, without
// the runtime's validation in front: nothing may panic, and a body the
// rules accept covers exactly the months of its kind.
func FuzzCheck(f *testing.F) {
	f.Add([]byte(`{"year":2025,"kind":"actualisation_juin","establishment":{"siret":"99000001000019","finess":null},"months":[{"month":"2025-01","billed_hours":1,"attended_hours":1,"psu_hours":1,"children":1,"opening_days":1}]}`))
	f.Add([]byte(`{"year":2025,"kind":"reel","months":[{"month":"2025-13"},{"month":"x"},{"month":"2025-00","opening_days":40}]}`))
	f.Add([]byte(`{"kind":"previsionnel","months":[]}`))
	s := New(Options{Now: func() time.Time { return time.Date(2025, 7, 5, 10, 0, 0, 0, time.UTC) }})
	sandbox := s.structures[PartnerSandbox]
	f.Fuzz(func(t *testing.T, body []byte) {
		var req declarationRequest
		if json.Unmarshal(body, &req) != nil {
			return
		}
		code, _, errs := s.check(sandbox, req, s.opts.Now())
		if code != "" && len(errs) == 0 {
			t.Fatalf("%s without field errors", code)
		}
		if code == "" && len(req.Months) != req.Kind.months() {
			t.Fatalf("accepted %d months for %s", len(req.Months), req.Kind)
		}
	})
}

func TestLuhn(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{"21759901800017": true, "21759901800018": false, "217599018": true, "": false, "2175990180001a": false} {
		if luhn(s) != want {
			t.Errorf("luhn(%q) = %v", s, !want)
		}
	}
}
