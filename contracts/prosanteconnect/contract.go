package prosanteconnectcontract

import (
	"bytes"
	"context"
	_ "embed" // the contract travels with the binary
	"fmt"
	"net/http"

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
	doc, err := openapi3.NewLoader().LoadFromData(Spec())
	if err != nil {
		return nil, fmt.Errorf("loading the prosanteconnect contract: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("validating the prosanteconnect contract: %w", err)
	}
	return doc, nil
}

// Platform is the contract and the checks `relais contracts verify` runs:
// the provider metadata and the key set. Both documents are public: no
// credential is needed, against our mock or the real provider.
func Platform() contracts.Platform {
	return contracts.Platform{
		Name: Name,
		Spec: Spec(),
		Cases: []contracts.Case{
			{Name: "discovery", Operation: "discovery", Auth: contracts.AuthNone, Status: http.StatusOK},
			{Name: "jwks", Operation: "jwks", Auth: contracts.AuthNone, Status: http.StatusOK},
		},
	}
}
