package cafpsucontract_test

import (
	"strings"
	"testing"

	"go.uber.org/goleak"

	cafpsucontract "github.com/relais-dev/relais/contracts/cafpsu"
	"github.com/relais-dev/relais/contracts/connectortest"
	"github.com/relais-dev/relais/mocks/cafpsu"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestContractDocument(t *testing.T) {
	t.Parallel()
	doc, err := cafpsucontract.Load()
	if err != nil {
		t.Fatalf("loading: %v", err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("openapi = %q, want 3.1", doc.OpenAPI)
	}
	desc := strings.Join(strings.Fields(doc.Info.Description), " ")
	for _, phrase := range []string{"Facts from the CAF's public material", "NO public API or file format (UNKNOWN)", "Designed by Relais", "by 10 July", "NOT part of this contract"} {
		if !strings.Contains(desc, phrase) {
			t.Errorf("info.description does not say %q", phrase)
		}
	}
	if create := doc.Paths.Find("/v1/structures/{partner_number}/declarations").Post; create.Extensions["x-relais-idempotent"] != true {
		t.Error("declarations.create is not marked x-relais-idempotent")
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.OperationID == "" || op.Summary == "" || len(op.Tags) == 0 {
				t.Errorf("%s %s lacks an operationId, a summary or tags", method, path)
			}
			for _, status := range []string{"400", "429", "500", "503"} {
				if op.Responses.Value(status) == nil {
					t.Errorf("%s does not document %s", op.OperationID, status)
				}
			}
		}
	}
}

func TestVerifyAgainstMock(t *testing.T) {
	t.Parallel()
	mock := cafpsu.New(cafpsu.Options{})
	p := cafpsucontract.Platform()
	connectortest.RequirePass(t, p, connectortest.VerifyMock(t, p, mock))
	st := mock.Stats()
	if st.ResponseViolations != 0 {
		t.Errorf("the mock broke its contract %d times", st.ResponseViolations)
	}
	// Refused by the runtime: a malformed partner number, negative hours,
	// an unknown kind.
	if st.Violations != 3 {
		t.Errorf("violations = %d, want 3", st.Violations)
	}
	if mock.Declared() != 2 {
		t.Errorf("declared %d, want 2 (the sandbox example, by its case and by the examples check)", mock.Declared())
	}
}
