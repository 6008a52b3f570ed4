package prosanteconnectcontract

import (
	"bytes"
	_ "embed" // the contract travels with the binary

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/relais-dev/relais/contracts"
)

//go:embed openapi.yaml
var spec []byte

// Name is the platform's name in `relais contracts verify --target prosanteconnect=URL`.
const Name = "prosanteconnect"

// Spec returns a copy of the OpenAPI 3.1 document, in YAML.
func Spec() []byte {
	return bytes.Clone(spec)
}

// Load parses the document and validates it, examples included.
func Load() (*openapi3.T, error) {
	return contracts.LoadSpec(Name, Spec())
}

// Platform is the contract and the checks `relais contracts verify` runs:
// the provider metadata and the key set (see contracts.IdentityProvider).
func Platform() contracts.Platform {
	return contracts.IdentityProvider(Name, Spec())
}
