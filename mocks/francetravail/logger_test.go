package francetravail_test

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/relais-dev/relais/contracts/connectortest"
	"github.com/relais-dev/relais/mocks/francetravail"
)

func TestLoggerIsWarnedOfAnswersThatBreakTheContract(t *testing.T) {
	t.Parallel()
	var logs connectortest.LogBuffer
	persons := francetravail.SandboxPersons()
	persons[0].Civility = "Mlle" // not among the contract's M. and MME
	f := setup(t, func(o *francetravail.Options) {
		o.Persons = persons
		o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	if persons[0].SandboxToken == "" {
		t.Fatal("the first sandbox person has no standing person token")
	}
	a := f.get(f.token(), persons[0].SandboxToken, "/situation-usager/v1/inscription")
	if a.status != http.StatusOK {
		t.Fatalf("registration: %d %s", a.status, a.body)
	}
	if n := f.mock.Stats().ResponseViolations; n != 1 {
		t.Errorf("response violations = %d, want 1", n)
	}
	out := logs.String()
	for _, want := range []string{"level=WARN", "mock answer breaks the contract", "operation=situation.registration"} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %q:\n%s", want, out)
		}
	}
}
