package api_test

import (
	"encoding/json"
	"testing"

	"github.com/relais-dev/relais/gateway/mandate"
)

// lookupWords is what the lookup's problems say on their own; an identity
// made of these words is not quoted when a problem says them.
const lookupWords = "identity.birth_family_name identity.given_names identity.birth_date is required must be a partial date: " +
	"YYYY, YYYY-MM or YYYY-MM-DD Invalid lookup validation_failed basis_required sources_required unknown_source " +
	"https://relais.dev/problems/ Give the legal basis: mandate_id or consent_id. List at least one source."

// FuzzLookupProfile: whatever the body, POST /v1/profiles:lookup answers
// 201 or a client problem with a code, never a server error, and a problem
// never quotes the identity sent.
func FuzzLookupProfile(f *testing.F) {
	pb := setupProfiles(f)
	mid := pb.mandate(f, pb.a, mandate.Famille, mandate.Travail)
	f.Add(encode(f, lookupBody("mandate_id", mid)))
	f.Add(encode(f, lookupBody("consent_id", "cns_aaaaaaaaaaaaaaaa")))
	f.Add(encode(f, set(lookupBody("mandate_id", mid), "identity.birth_date", "1948-02-30")))
	f.Add(encode(f, set(lookupBody("mandate_id", mid), "identity.given_names", []any{"", "Zoélie"})))
	f.Add(encode(f, set(lookupBody("mandate_id", mid), "month", "2026-3")))
	f.Add(encode(f, set(lookupBody("mandate_id", mid), "sources", []any{map[string]any{"name": "apiparticulier", "operations": nil}})))
	f.Add([]byte(`{"identity":{"birth_family_name":"\ud800"},"mandate_id":"` + mid + `","sources":[{"name":"francetravail"}]}`))
	f.Add([]byte(`{"sources":[{"name":"apiparticulier","operations":[1e400]}]}`))
	f.Add([]byte(`[[[[[[[[[[[[[[[[[[[[[[[[[[[[`))
	f.Fuzz(func(t *testing.T, body []byte) {
		problem := pb.postFuzzed(t, "/v1/profiles:lookup", body)
		var sent struct {
			Identity map[string]any `json:"identity"`
		}
		if problem == nil || json.Unmarshal(body, &sent) != nil {
			return
		}
		values := []any{sent.Identity["birth_family_name"], sent.Identity["used_name"], sent.Identity["birth_date"]}
		if names, ok := sent.Identity["given_names"].([]any); ok {
			values = append(values, names...)
		}
		wantUnquoted(t, problem, lookupWords, values...)
	})
}
