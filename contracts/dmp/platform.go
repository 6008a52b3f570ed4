package dmpcontract

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/relais-dev/relais/contracts"
)

// Name is the platform's name in `relais contracts verify --target dmp=URL`.
const Name = "dmp"

// TokenEnv is the environment variable holding the bearer token for a real
// target.
const TokenEnv = "RELAIS_CONTRACT_DMP_TOKEN"

// MockToken is the bearer token our mock (mocks/dmp) accepts by default.
const MockToken = "relais-dmp-sandbox"

// ExampleBinaryID is the Binary the contract's examples retrieve: the
// fixture document of the mock.
const ExampleBinaryID = "bin-000001"

// Platform is the contract and the checks `relais contracts verify` runs:
// the examples of every operation, then the documented errors. Cases that
// rely on the mock's fixtures (its test patients and their documents) are
// MockOnly: no public test environment of the real record is known.
func Platform() contracts.Platform {
	return contracts.Platform{
		Name:        Name,
		Spec:        Spec(),
		Credentials: []contracts.Credential{{Env: TokenEnv, MockDefault: MockToken, Secret: true}},
		Authorize:   contracts.Bearer(TokenEnv),
		Cases:       cases(),
	}
}

func cases() []contracts.Case {
	accept := func(v string) http.Header { return http.Header{"Accept": {v}} }
	return []contracts.Case{
		{Name: "capabilities", Operation: "capabilities", Status: http.StatusOK},
		{Name: "capabilities.xml_not_acceptable", Operation: "capabilities", Header: accept("application/fhir+xml"), Status: http.StatusNotAcceptable},

		{Name: "provide.consultation", Operation: "documents.provide", Status: http.StatusOK, MockOnly: true},
		{Name: "provide.no_credentials", Operation: "documents.provide", Auth: contracts.AuthNone, Status: http.StatusUnauthorized},
		{Name: "provide.invalid_token", Operation: "documents.provide", Auth: contracts.AuthInvalid, Status: http.StatusUnauthorized},
		{Name: "provide.not_a_transaction", Operation: "documents.provide", Status: http.StatusBadRequest,
			Body: bundle(func(b map[string]any) { b["type"] = "batch" })},
		{Name: "provide.xml_body", Operation: "documents.provide", Status: http.StatusUnsupportedMediaType,
			Body: func() (string, io.Reader) {
				return "application/fhir+xml", bytes.NewReader([]byte(`<Bundle xmlns="http://hl7.org/fhir"><type value="transaction"/></Bundle>`))
			}},
		{Name: "provide.missing_binary", Operation: "documents.provide", Status: http.StatusUnprocessableEntity,
			Body: bundle(func(b map[string]any) {
				attachment(b)["url"] = "urn:uuid:00000000-0000-4000-8000-000000000000"
			})},
		{Name: "provide.hash_mismatch", Operation: "documents.provide", Status: http.StatusUnprocessableEntity,
			Body: bundle(func(b map[string]any) { attachment(b)["hash"] = "2jmj7l5rSw0yVb/vlWAYkK/YBwk=" })},
		{Name: "provide.patient_not_ins", Operation: "documents.provide", Status: http.StatusUnprocessableEntity,
			Body: bundle(func(b map[string]any) {
				for _, e := range entries(b) {
					res := e["resource"].(map[string]any)
					if s, ok := res["subject"].(map[string]any); ok {
						s["identifier"] = map[string]any{"system": "urn:oid:1.2.250.1.71.4.2.1", "value": "810002345678"}
					}
				}
			})},
		{Name: "provide.duplicate_master_identifier", Operation: "documents.provide", Status: http.StatusUnprocessableEntity, MockOnly: true,
			// The fixture document's masterIdentifier, with other content.
			Body: bundle(func(b map[string]any) {
				document(b)["masterIdentifier"] = map[string]any{"system": "urn:ietf:rfc:3986", "value": "urn:oid:1.2.250.1.999.2.20241120.1"}
			})},

		{Name: "find.current", Operation: "documents.find", Status: http.StatusOK, MockOnly: true},
		{Name: "find.empty_record", Operation: "documents.find", Status: http.StatusOK, MockOnly: true,
			Query: url.Values{"patient.identifier": {"urn:oid:1.2.250.1.213.1.4.10|252079913901713"}}},
		{Name: "find.unknown_patient", Operation: "documents.find", Status: http.StatusNotFound, MockOnly: true,
			Query: url.Values{"patient.identifier": {"urn:oid:1.2.250.1.213.1.4.10|185057800608491"}, "status": {"current"}}},
		{Name: "find.not_ins", Operation: "documents.find", Status: http.StatusBadRequest,
			Query: url.Values{"patient.identifier": {"urn:oid:1.2.250.1.71.4.2.1|810002345678"}}},
		{Name: "find.bad_status", Operation: "documents.find", Status: http.StatusBadRequest,
			Query: url.Values{"patient.identifier": {"urn:oid:1.2.250.1.213.1.4.10|148117511406227"}, "status": {"archived"}}},
		{Name: "find.no_credentials", Operation: "documents.find", Auth: contracts.AuthNone, Status: http.StatusUnauthorized},

		{Name: "retrieve.binary_resource", Operation: "documents.retrieve", Header: accept("application/fhir+json"), Status: http.StatusOK, MockOnly: true},
		{Name: "retrieve.raw", Operation: "documents.retrieve", Header: accept("application/pdf"), Status: http.StatusOK, MockOnly: true},
		{Name: "retrieve.not_acceptable", Operation: "documents.retrieve", Header: accept("image/png"), Status: http.StatusNotAcceptable, MockOnly: true},
		{Name: "retrieve.unknown", Operation: "documents.retrieve", PathParams: map[string]string{"id": "bin-999999"}, Status: http.StatusNotFound},
		{Name: "retrieve.no_credentials", Operation: "documents.retrieve", Auth: contracts.AuthNone, Status: http.StatusUnauthorized},
	}
}

// ExampleBundle returns the contract's example provide bundle, decoded
// (a fresh copy at each call).
func ExampleBundle() (map[string]any, error) {
	doc, err := Load()
	if err != nil {
		return nil, err
	}
	ex := doc.Components.Examples["ProvideDocumentBundle"]
	if ex == nil || ex.Value == nil {
		return nil, fmt.Errorf("reading the example bundle: the contract has none")
	}
	raw, err := json.Marshal(ex.Value.Value)
	if err != nil {
		return nil, fmt.Errorf("encoding the example bundle: %w", err)
	}
	var b map[string]any
	if err := json.Unmarshal(raw, &b); err != nil {
		return nil, fmt.Errorf("decoding the example bundle: %w", err)
	}
	return b, nil
}

// bundle builds a request body: the example bundle changed by edit. A
// contract without its example is a programming error caught by the
// package's tests.
func bundle(edit func(b map[string]any)) func() (string, io.Reader) {
	return func() (string, io.Reader) {
		b, err := ExampleBundle()
		if err != nil {
			panic(err)
		}
		edit(b)
		raw, err := json.Marshal(b)
		if err != nil {
			panic(fmt.Sprintf("encoding an edited bundle: %v", err))
		}
		return "application/fhir+json", bytes.NewReader(raw)
	}
}

// entries are the entries of a decoded bundle.
func entries(b map[string]any) []map[string]any {
	var out []map[string]any
	for _, e := range b["entry"].([]any) {
		out = append(out, e.(map[string]any))
	}
	return out
}

// document is the first DocumentReference of a decoded bundle.
func document(b map[string]any) map[string]any {
	for _, e := range entries(b) {
		res := e["resource"].(map[string]any)
		if res["resourceType"] == "DocumentReference" {
			return res
		}
	}
	panic("the example bundle holds no DocumentReference")
}

// attachment is the attachment of the first DocumentReference.
func attachment(b map[string]any) map[string]any {
	content := document(b)["content"].([]any)
	return content[0].(map[string]any)["attachment"].(map[string]any)
}
