package indicators

import (
	"bytes"
	_ "embed" // the schema travels with the package
	"encoding/json"
	"fmt"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

//go:embed indicators.schema.json
var schemaJSON []byte

// SchemaURL is the $id of the indicator report's JSON schema.
const SchemaURL = "https://relais-dev.github.io/relais/schemas/indicators/v1.json"

// ContentType is the content type of the indicator report's JSON form.
const ContentType = "application/json"

// Schema returns a copy of the JSON schema (draft 2020-12) of Report.
func Schema() []byte { return bytes.Clone(schemaJSON) }

// CompileSchema compiles the schema, for callers that check reports.
func CompileSchema() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemaJSON))
	if err != nil {
		return nil, fmt.Errorf("reading the indicators schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(SchemaURL, doc); err != nil {
		return nil, fmt.Errorf("adding the indicators schema: %w", err)
	}
	s, err := c.Compile(SchemaURL)
	if err != nil {
		return nil, fmt.Errorf("compiling the indicators schema: %w", err)
	}
	return s, nil
}

// JSON is the report's JSON form, the body an indicators destination
// receives.
func (r *Report) JSON() ([]byte, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encoding the indicator report: %w", err)
	}
	return b, nil
}
