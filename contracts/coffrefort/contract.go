package coffrefortcontract

import (
	"bytes"
	_ "embed" // the contract travels with the binary

	"github.com/relais-dev/relais/contracts"

	"github.com/getkin/kin-openapi/openapi3"
)

//go:embed openapi.yaml
var spec []byte

// Spec returns a copy of the OpenAPI 3.1 document, in YAML.
func Spec() []byte {
	return bytes.Clone(spec)
}

// Load parses the document and validates it. External references are not
// followed: the document is self-contained.
func Load() (*openapi3.T, error) {
	return contracts.LoadSpec(Name, Spec())
}
