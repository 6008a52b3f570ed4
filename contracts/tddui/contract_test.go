package tdduicontract_test

import (
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/relais-dev/relais/contracts"
	"github.com/relais-dev/relais/contracts/connectortest"
	tdduicontract "github.com/relais-dev/relais/contracts/tddui"
	"github.com/relais-dev/relais/mocks/tddui"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestContractDocument(t *testing.T) {
	t.Parallel()
	doc, err := tdduicontract.Load()
	if err != nil {
		t.Fatalf("loading: %v", err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("openapi = %q, want 3.1", doc.OpenAPI)
	}
	desc := strings.Join(strings.Fields(doc.Info.Description), " ")
	for _, phrase := range []string{"Facts from the TDDUI guide", "Designed by Relais (the receiving system and its endpoint are UNKNOWN)", "^3[0-9]{9}/[A-Za-z0-9]+-PA-[A-Za-z0-9]+$", "NOT part of this contract"} {
		if !strings.Contains(desc, phrase) {
			t.Errorf("info.description does not say %q", phrase)
		}
	}
	post := doc.Paths.Find("/fhir").Post
	if post.Extensions["x-relais-idempotent"] != true {
		t.Error("the submission is not marked x-relais-idempotent")
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.OperationID == "" || op.Summary == "" || len(op.Tags) == 0 {
				t.Errorf("%s %s lacks an operationId, a summary or tags", method, path)
			}
			for _, status := range []string{"401", "429", "500", "503"} {
				if op.Responses.Value(status) == nil {
					t.Errorf("%s does not document %s", op.OperationID, status)
				}
			}
		}
	}
}

func TestVerifyAgainstMock(t *testing.T) {
	t.Parallel()
	mock := tddui.New(tddui.Options{})
	p := tdduicontract.Platform()
	target := connectortest.MockTarget(t, p.Name, mock)
	for range 2 { // the second run replays the example Bundle by its identifier
		connectortest.RequirePass(t, p, contracts.Verify(t.Context(), p, target, nil))
	}
	st := mock.Stats()
	if st.ResponseViolations != 0 {
		t.Errorf("the mock broke its contract %d times", st.ResponseViolations)
	}
	// Refused by the runtime: not a transaction, a PUT entry, a text body;
	// twice.
	if st.Violations != 6 {
		t.Errorf("violations = %d, want 6", st.Violations)
	}
	// The cases store the example (version 2) and its replacement
	// (version 3, version 1 is refused); the examples check then sends the
	// example Bundle with the Idempotency-Key example: its content replays
	// version 2 by identifier the first time, by key the second time (run
	// 2), when the example's case and the replacement replay by identifier.
	c := mock.Counts()
	if c.Submissions != 4 || c.Duplicates != 3 || c.Replacements != 1 || st.Duplicates != 1 {
		t.Errorf("counts %+v, key replays %d: want 4 Bundles stored (the example, its replacement, the mapper's shape twice), 1 replacement, 3 replays by identifier and 1 by key", c, st.Duplicates)
	}
	if per := mock.StoredPerIdentifier(); len(per) != 1 || per["rpt_01JQ3ZKX8N4T5-1"] != 2 {
		t.Errorf("stored per identifier %v, want the example's two versions", per)
	}
}
