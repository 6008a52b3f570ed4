package dmpcontract

import (
	"bytes"
	"context"
	_ "embed" // the contract travels with the binary
	"fmt"

	"github.com/getkin/kin-openapi/openapi3"
)

//go:embed openapi.yaml
var spec []byte

// Spec returns a copy of the OpenAPI 3.1 document, in YAML.
func Spec() []byte {
	return bytes.Clone(spec)
}

// Load parses the document and validates it, examples included. External
// references are not followed: the document is self-contained.
func Load() (*openapi3.T, error) {
	doc, err := openapi3.NewLoader().LoadFromData(Spec())
	if err != nil {
		return nil, fmt.Errorf("loading the dmp contract: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("validating the dmp contract: %w", err)
	}
	return doc, nil
}
