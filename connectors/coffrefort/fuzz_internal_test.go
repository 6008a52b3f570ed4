package coffrefort

import (
	"encoding/json"
	"testing"
)

// FuzzDecodeAnswers decodes any answer into the connector's wire types:
// errors, never panics, and identifiers kept as text.
func FuzzDecodeAnswers(f *testing.F) {
	f.Add([]byte(`{"id":12,"name":"Attestation","private":true,"created_at":"2026-03-02T09:00:00Z","hash_algorithm":"SHA-256","hash":"00","size":3}`))
	f.Add([]byte(`[{"id":"b-7","distant_id":null,"external_links":[{"distant_id":"ESMS-1"}]}]`))
	f.Add([]byte(`{"type":"/errors/409","status":409,"existing_id":4}`))
	f.Add([]byte(`{"id":1e400}`))
	f.Add([]byte(`{"id":{"nested":true}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var doc document
		_ = json.Unmarshal(data, &doc)
		var bens []beneficiary
		if json.Unmarshal(data, &bens) == nil {
			for i := range bens {
				_ = bens[i].holds("ESMS-1")
			}
		}
		var cf conflict
		_ = json.Unmarshal(data, &cf)
		var id remoteID
		if json.Unmarshal(data, &id) == nil && len(id) > len(data) {
			t.Fatalf("identifier %q longer than its input", id)
		}
	})
}
