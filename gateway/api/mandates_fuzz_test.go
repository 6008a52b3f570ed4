package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
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
		problem := bnd.postFuzzed(t, "/v1/mandates", body)
		var sent struct {
			Person map[string]any `json:"person"`
		}
		if problem == nil || json.Unmarshal(body, &sent) != nil {
			return
		}
		wantUnquoted(t, problem, apiWords, sent.Person["family_name"], sent.Person["given_names"], sent.Person["birth_date"])
	})
}

// postFuzzed posts a fuzzed JSON body to path as tenant a and fails t
// unless the answer is 201 or a client problem (4xx) with a code. It
// returns the problem's body, nil for a 201.
func (bnd *bundle) postFuzzed(t *testing.T, path string, body []byte) []byte {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", bnd.a.bearer())
	rec := httptest.NewRecorder()
	bnd.server.ServeHTTP(rec, req)
	if rec.Code == http.StatusCreated {
		return nil
	}
	var p problem
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || rec.Code < 400 || rec.Code > 499 || p.Code == "" {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	return rec.Body.Bytes()
}

// wantUnquoted fails t when a problem quotes one of the values sent: a
// string of 6 bytes or more that words, what the problems say on their
// own, does not hold. Values that are not strings are ignored.
func wantUnquoted(t *testing.T, problem []byte, words string, values ...any) {
	t.Helper()
	for _, v := range values {
		if s, ok := v.(string); ok && len(s) >= 6 && !strings.Contains(words, s) && bytes.Contains(problem, []byte(s)) {
			t.Fatalf("the problem quotes %q: %s", s, problem)
		}
	}
}
