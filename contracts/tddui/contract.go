package tdduicontract

import (
	"bytes"
	_ "embed" // the contract travels with the binary
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/relais-dev/relais/contracts"
)

//go:embed openapi.yaml
var spec []byte

// Name is the platform's stable name.
const Name = "tddui"

// EnvToken is the environment variable of the bearer token a real receiver
// gave the establishment.
const EnvToken = "RELAIS_CONTRACT_TDDUI_TOKEN"

// MockToken is the token mocks/tddui accepts by default.
const MockToken = "relais-tddui-sandbox-token"

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

// A person, their stay and events, in the shape Relais' mapper sends (no
// profile, no Organization): accepted with warnings.
const (
	patient = `{"resource":{"resourceType":"Patient","identifier":[{"value":"3750000010/DUI312"}],"name":[{"family":"NGUYEN","given":["THI","LAN"]}],"gender":"female","birthDate":"1944-02"},"request":{"method":"POST","url":"Patient"}}`
	sejour  = `{"resource":{"resourceType":"Encounter","identifier":[{"system":"https://identifiant-medicosocial-sejour.esante.gouv.fr","value":"3750000010/DUI312-SEJOUR-2024007"}],"status":"in-progress","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"IMP"},"subject":{"identifier":{"value":"3750000010/DUI312"}},"period":{"start":"2024-02-05"}},"request":{"method":"POST","url":"Encounter"}}`
	event   = `{"resource":{"resourceType":"Encounter","identifier":[{"value":"EVT9"}],"status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"IMP"},"type":[{"text":"Atelier mémoire"}],"period":{"start":"2024-03-11T14:00:00+01:00"%s},"partOf":{"identifier":{"system":"https://identifiant-medicosocial-sejour.esante.gouv.fr","value":"3750000010/DUI312-SEJOUR-2024007"}}},"request":{"method":"POST","url":"Encounter"}}`
	slot    = `{"resource":{"resourceType":"Slot","identifier":[{"system":"https://identifiant-medicosocial-presenceabsence.esante.gouv.fr","value":"%s"}],"serviceType":[{"text":"presence"}],"start":"2024-02-05T00:00:00+01:00","end":"2024-02-11T23:59:59+01:00"},"request":{"method":"POST","url":"Slot"}}`
)

// exampleIdentifier is the Bundle identifier of the ActivityBundle example
// (its version 2): the versioned cases send other versions of it.
const exampleIdentifier = `{"system":"https://relais-dev.github.io/relais/fhir/sid/report-chunk","value":"rpt_01JQ3ZKX8N4T5-1"}`

// versionOf is a Bundle of the example's identifier at version, with
// other entries than the example's.
func versionOf(version int, entries ...string) func() (string, io.Reader) {
	return func() (string, io.Reader) {
		return "application/fhir+json", strings.NewReader(fmt.Sprintf(`{"resourceType":"Bundle","type":"transaction","meta":{"versionId":"%d"},"identifier":%s,"entry":[%s]}`, version, exampleIdentifier, strings.Join(entries, ",")))
	}
}

func bundleOf(typ string, entries ...string) func() (string, io.Reader) {
	return func() (string, io.Reader) {
		return "application/fhir+json", strings.NewReader(`{"resourceType":"Bundle","type":"` + typ + `","entry":[` + strings.Join(entries, ",") + `]}`)
	}
}

func cases() []contracts.Case {
	endOK := fmt.Sprintf(event, `,"end":"2024-03-11T15:00:00+01:00"`)
	return []contracts.Case{
		{Name: "bundle.transaction.activity", Operation: "bundle.transaction", Status: http.StatusOK},
		// After the example (version 2): version 1 is outdated, version 3
		// replaces it. Replayed, version 3 stores nothing more.
		{
			Name: "bundle.transaction.outdated_version", Operation: "bundle.transaction", Status: http.StatusConflict,
			Body: versionOf(1, patient),
		},
		{
			Name: "bundle.transaction.replacement", Operation: "bundle.transaction", Status: http.StatusOK,
			Body: versionOf(3, patient, sejour, endOK),
		},
		{
			Name: "bundle.transaction.mapper_shape", Operation: "bundle.transaction", Status: http.StatusOK,
			Body: bundleOf("transaction", patient, sejour, endOK, fmt.Sprintf(slot, "3750000010/DUI312-PA-1")),
		},
		{
			Name: "bundle.transaction.not_a_transaction", Operation: "bundle.transaction", Status: http.StatusBadRequest,
			Body: bundleOf("batch", patient),
		},
		{
			Name: "bundle.transaction.put_entry", Operation: "bundle.transaction", Status: http.StatusBadRequest,
			Body: bundleOf("transaction", strings.Replace(patient, `"method":"POST"`, `"method":"PUT"`, 1)),
		},
		{
			Name: "bundle.transaction.event_without_end", Operation: "bundle.transaction", Status: http.StatusUnprocessableEntity,
			Body: bundleOf("transaction", patient, sejour, fmt.Sprintf(event, "")),
		},
		{
			Name: "bundle.transaction.presence_id_format", Operation: "bundle.transaction", Status: http.StatusUnprocessableEntity,
			Body: bundleOf("transaction", patient, fmt.Sprintf(slot, "3750000010/DUI312-PRESENCE-1")),
		},
		{
			Name: "bundle.transaction.text_body", Operation: "bundle.transaction", Status: http.StatusUnsupportedMediaType,
			Body: func() (string, io.Reader) { return "text/plain", strings.NewReader("Patient DUI312") },
		},
		{Name: "bundle.transaction.no_token", Operation: "bundle.transaction", Status: http.StatusUnauthorized, Auth: contracts.AuthNone},

		{Name: "task.read.accepted", Operation: "task.read", Status: http.StatusOK, MockOnly: true},
		{
			Name: "task.read.rejected", Operation: "task.read", Status: http.StatusOK, MockOnly: true,
			PathParams: map[string]string{"id": "sandbox-rejected"},
		},
		{
			Name: "task.read.unknown", Operation: "task.read", Status: http.StatusNotFound,
			PathParams: map[string]string{"id": "no-such-task"},
		},
		{Name: "task.read.invalid_token", Operation: "task.read", Status: http.StatusUnauthorized, Auth: contracts.AuthInvalid},
	}
}
