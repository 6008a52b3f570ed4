package specs_test

import (
	"os"
	"reflect"
	"testing"

	"github.com/go-json-experiment/json"
)

// TestFranceTravailPaymentsSchema keeps the items of the France Travail
// indemnités output schema the same as the canonical payment: a schema file
// beside a spec cannot refer to the canonical schemas, so it restates one.
func TestFranceTravailPaymentsSchema(t *testing.T) {
	t.Parallel()
	read := func(name string) map[string]any {
		raw, err := os.ReadFile(name) //nolint:gosec // the project's own schemas
		if err != nil {
			t.Fatal(err)
		}
		var v map[string]any
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return v
	}
	payment := read("../schemas/v1/payment.json")
	common := read("../schemas/v1/common.json")
	out := read("apiparticulier/france_travail_indemnites.output.schema.json")

	want := map[string]any{}
	for _, k := range []string{"type", "additionalProperties", "required", "properties"} {
		want[k] = payment[k]
	}
	// Resolve the one reference the canonical payment makes.
	props := map[string]any{}
	for k, v := range payment["properties"].(map[string]any) {
		props[k] = v
	}
	date := map[string]any{}
	for k, v := range common["$defs"].(map[string]any)["date"].(map[string]any) {
		if k != "description" {
			date[k] = v
		}
	}
	props["paid_on"] = date
	want["properties"] = props

	got := out["properties"].(map[string]any)["payments"].(map[string]any)["items"]
	if !reflect.DeepEqual(got, want) {
		gb, _ := json.Marshal(got, json.Deterministic(true))
		wb, _ := json.Marshal(want, json.Deterministic(true))
		t.Errorf("payments[] items differ from the canonical payment:\n got %s\nwant %s", gb, wb)
	}
}
