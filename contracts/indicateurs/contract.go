package indicateurscontract

import (
	"bytes"
	_ "embed" // the contract travels with the binary
	"io"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/relais-dev/relais/contracts"
)

//go:embed openapi.yaml
var spec []byte

// Name is the platform's stable name.
const Name = "indicateurs"

// EnvToken is the environment variable of the API key a real endpoint
// gave Relais.
const EnvToken = "RELAIS_CONTRACT_INDICATEURS_TOKEN"

// MockToken is the API key mocks/indicateurs accepts by default.
const MockToken = "relais-indicateurs-sandbox-key"

// Spec returns a copy of the OpenAPI 3.1 document, in YAML.
func Spec() []byte {
	return bytes.Clone(spec)
}

// Load parses the document and validates it (examples included). External
// references are not followed: the document is self-contained.
func Load() (*openapi3.T, error) {
	return contracts.LoadSpec(Name, Spec())
}

// Platform returns the checks of the contract.
func Platform() contracts.Platform {
	return contracts.Platform{
		Name:        Name,
		Spec:        Spec(),
		Credentials: []contracts.Credential{{Env: EnvToken, MockDefault: MockToken, Secret: true}},
		Authorize:   contracts.Bearer(EnvToken),
		Cases:       cases(),
	}
}

// report is a small indicator report of 750000010 over period (start and
// end dates), with days days of presence.
func report(finess, start, end, days string) string {
	return `{"schema":"relais.indicators/v1","finess":"` + finess + `","period":{"start":"` + start + `","end":"` + end + `"},` +
		`"days_in_period":365,"capacity":null,"occupancy_rate":null,"days_of_presence":` + days + `,"stay_days":` + days + `,"absence_days":0,` +
		`"persons":{"total":1,"by_sex":{"F":0,"M":1,"U":0},"by_age_band":[]},"stays":{"total":1,"entries":1,"exits":0,"average_length_days":null},` +
		`"absences":{"total":0,"days":0,"by_reason":[]},"presences":{"total":3,"hours":24},"events":{},` +
		`"psu":{"months":[],"totals":{"billed_hours":0,"attended_hours":0,"psu_hours":0,"opening_days":0,"billing_rate":null}}}`
}

func body(s string) func() (string, io.Reader) {
	return func() (string, io.Reader) { return "application/json", strings.NewReader(s) }
}

func version(v string) http.Header { return http.Header{"Report-Version": {v}} }

func cases() []contracts.Case {
	const op, list = "reports.submit", "reports.list"
	// The cases of 2026 build a history in order: version 1, its replay,
	// version 2, then an outdated version 1 and another content under
	// version 2.
	y2026 := map[string]string{"finess": "750000010", "year": "2026"}
	v1 := report("750000010", "2026-01-01", "2026-12-31", "300")
	v2 := report("750000010", "2026-01-01", "2026-12-31", "310")
	return []contracts.Case{
		{Name: "reports.submit.example", Operation: op, Status: http.StatusCreated},
		{Name: "reports.submit.first_version", Operation: op, Status: http.StatusCreated, PathParams: y2026, Header: version("1"), Body: body(v1)},
		{Name: "reports.submit.replay", Operation: op, Status: http.StatusOK, PathParams: y2026, Header: version("1"), Body: body(v1)},
		{Name: "reports.submit.correction", Operation: op, Status: http.StatusCreated, PathParams: y2026, Header: version("2"), Body: body(v2)},
		{Name: "reports.submit.outdated_version", Operation: op, Status: http.StatusConflict, PathParams: y2026, Header: version("1"), Body: body(report("750000010", "2026-01-01", "2026-12-31", "305"))},
		{Name: "reports.submit.version_conflict", Operation: op, Status: http.StatusConflict, PathParams: y2026, Header: version("2"), Body: body(v1)},
		{Name: "reports.submit.no_version", Operation: op, Status: http.StatusBadRequest, PathParams: y2026, Header: http.Header{"Report-Version": nil}, Body: body(v1)},
		{Name: "reports.submit.finess_mismatch", Operation: op, Status: http.StatusUnprocessableEntity, PathParams: y2026, Header: version("3"), Body: body(report("750012346", "2026-01-01", "2026-12-31", "300"))},
		{Name: "reports.submit.period_outside_year", Operation: op, Status: http.StatusUnprocessableEntity, PathParams: y2026, Header: version("3"), Body: body(report("750000010", "2025-12-01", "2026-11-30", "300"))},
		{Name: "reports.submit.invalid_finess", Operation: op, Status: http.StatusUnprocessableEntity, PathParams: map[string]string{"finess": "750000011", "year": "2026"}, Header: version("1"), Body: body(report("750000011", "2026-01-01", "2026-12-31", "300"))},
		{Name: "reports.submit.missing_field", Operation: op, Status: http.StatusBadRequest, PathParams: y2026, Header: version("3"), Body: body(strings.Replace(v1, `"days_of_presence":300,`, "", 1))},
		{Name: "reports.submit.no_token", Operation: op, Status: http.StatusUnauthorized, Auth: contracts.AuthNone},

		{Name: "reports.list.history", Operation: list, Status: http.StatusOK, PathParams: y2026},
		{Name: "reports.list.sandbox", Operation: list, Status: http.StatusOK, MockOnly: true, PathParams: map[string]string{"finess": "750000010", "year": "2023"}},
		{Name: "reports.list.unknown", Operation: list, Status: http.StatusNotFound, PathParams: map[string]string{"finess": "750000010", "year": "2019"}},
		{Name: "reports.list.invalid_token", Operation: list, Status: http.StatusUnauthorized, Auth: contracts.AuthInvalid},
	}
}
