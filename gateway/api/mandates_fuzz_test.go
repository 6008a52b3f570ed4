package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// apiWords is what problems say on their own; an identity made of these
// words is not quoted when a problem says them.
const apiWords = "professional.id is required. birth_date must be a date, YYYY-MM-DD. person.family_name person.given_names " +
	"invalid_format invalid_value validation_failed field(s) are invalid; see errors. Invalid mandate https://relais.dev/problems/"

// FuzzCreateMandate: whatever the body, POST /v1/mandates answers 201 or a
// client problem with a code, never a server error, and a problem never
// quotes the identity sent.
func FuzzCreateMandate(f *testing.F) {
	bnd := setup(f)
	f.Add(encode(f, zoeMandate()))
	f.Add(encode(f, andreMandate()))
	f.Add(encode(f, set(zoeMandate(), "duration_days", 30)))
	f.Add(encode(f, set(zoeMandate(), "demarches", []any{"sante", "sante", "impots"})))
	f.Add(encode(f, set(andreMandate(), "person.birth_place", nil)))
	f.Add([]byte(`{"person":{"family_name":"\ud800"}}`))
	f.Add([]byte(`{"duration_days":1e400}`))
	f.Add([]byte(`[[[[[[[[[[[[[[[[[[[[[[[[[[[[`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/v1/mandates", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", bnd.a.bearer())
		rec := httptest.NewRecorder()
		bnd.server.ServeHTTP(rec, req)
		if rec.Code == http.StatusCreated {
			return
		}
		var p problem
		if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || rec.Code < 400 || rec.Code > 499 || p.Code == "" {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		var sent struct {
			Person map[string]any `json:"person"`
		}
		if json.Unmarshal(body, &sent) == nil {
			for _, k := range []string{"family_name", "given_names", "birth_date"} {
				if s, ok := sent.Person[k].(string); ok && len(s) >= 6 && !bytes.Contains([]byte(apiWords), []byte(s)) &&
					bytes.Contains(rec.Body.Bytes(), []byte(s)) {
					t.Fatalf("the problem quotes %s %q: %s", k, s, rec.Body)
				}
			}
		}
	})
}
