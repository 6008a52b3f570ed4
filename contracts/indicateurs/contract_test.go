package indicateurscontract_test

import (
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/relais-dev/relais/contracts/connectortest"
	indicateurscontract "github.com/relais-dev/relais/contracts/indicateurs"
	"github.com/relais-dev/relais/mocks/indicateurs"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestContractDocument(t *testing.T) {
	t.Parallel()
	doc, err := indicateurscontract.Load()
	if err != nil {
		t.Fatalf("loading: %v", err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("openapi = %q, want 3.1", doc.OpenAPI)
	}
	desc := strings.Join(strings.Fields(doc.Info.Description), " ")
	for _, phrase := range []string{"Designed by Relais (the real import format is UNKNOWN)", "import format is UNKNOWN", "Versions replace", "NOT part of this contract"} {
		if !strings.Contains(desc, phrase) {
			t.Errorf("info.description does not say %q", phrase)
		}
	}
	if post := doc.Paths.Find("/v1/establishments/{finess}/indicator-reports/{year}").Post; post.Extensions["x-relais-idempotent"] != true {
		t.Error("reports.submit is not marked x-relais-idempotent")
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.OperationID == "" || op.Summary == "" || len(op.Tags) == 0 {
				t.Errorf("%s %s lacks an operationId, a summary or tags", method, path)
			}
			for _, status := range []string{"400", "401", "429", "500", "503"} {
				if op.Responses.Value(status) == nil {
					t.Errorf("%s does not document %s", op.OperationID, status)
				}
			}
		}
	}
}

func TestVerifyAgainstMock(t *testing.T) {
	t.Parallel()
	mock := indicateurs.New(indicateurs.Options{})
	p := indicateurscontract.Platform()
	connectortest.RequirePass(t, p, connectortest.VerifyMock(t, p, mock))
	st := mock.Stats()
	if st.ResponseViolations != 0 {
		t.Errorf("the mock broke its contract %d times", st.ResponseViolations)
	}
	// Refused by the runtime: no Report-Version, a missing field.
	if st.Violations != 2 {
		t.Errorf("violations = %d, want 2", st.Violations)
	}
	// Stored: the example, versions 1 and 2 of 2026; the examples check
	// replays the example by its content.
	c := mock.Counts()
	if c.Stored != 3 || c.Replacements != 1 || c.Replays != 2 {
		t.Errorf("counts %+v: want 3 stored, 1 replacement, 2 replays", c)
	}
	if v := mock.Versions("750000010", 2026); len(v) != 2 || v[0] != 1 || v[1] != 2 {
		t.Errorf("versions of 2026: %v", v)
	}
}
