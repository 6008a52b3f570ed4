package mapping

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
)

// SchemaVersion is the version of the canonical model this package holds.
const SchemaVersion = "v1"

// SchemaBaseURL is the base of the schemas' $id: an entity's schema is
// SchemaBaseURL + entity + ".json". The schemas refer to one another (and
// to "common.json", their shared definitions) relative to it.
const SchemaBaseURL = "https://relais-dev.github.io/relais/schemas/" + SchemaVersion + "/"

// CommonSchema names the schema of the definitions the entities share; it
// is not an entity, but Schema returns it so that the schemas can be
// published together.
const CommonSchema = "common"

//go:embed schemas/v1/*.json
var schemaFiles embed.FS

// Entity is a value of the canonical model.
type Entity interface {
	// Validate returns every problem found, in field order; nil when the
	// value is valid.
	Validate() []*FieldError
}

// entities lists the canonical entities in a stable order, each with a
// constructor of its Go type.
var entities = []struct {
	name string
	new  func() Entity
}{
	{"person", func() Entity { return new(Person) }},
	{"household", func() Entity { return new(Household) }},
	{"benefit", func() Entity { return new(Benefit) }},
	{"employment_registration", func() Entity { return new(EmploymentRegistration) }},
	{"payment", func() Entity { return new(Payment) }},
	{"document", func() Entity { return new(Document) }},
	{"establishment", func() Entity { return new(Establishment) }},
	{"stay", func() Entity { return new(Stay) }},
	{"event", func() Entity { return new(Event) }},
	{"presence_absence", func() Entity { return new(PresenceAbsence) }},
	{"activity_report", func() Entity { return new(ActivityReport) }},
	{"mandate", func() Entity { return new(Mandate) }},
	{"consent", func() Entity { return new(Consent) }},
}

// Compile-time checks that every entity type has Validate.
var (
	_ Entity = (*Person)(nil)
	_ Entity = (*Household)(nil)
	_ Entity = (*Benefit)(nil)
	_ Entity = (*EmploymentRegistration)(nil)
	_ Entity = (*Payment)(nil)
	_ Entity = (*Document)(nil)
	_ Entity = (*Establishment)(nil)
	_ Entity = (*Stay)(nil)
	_ Entity = (*Event)(nil)
	_ Entity = (*PresenceAbsence)(nil)
	_ Entity = (*ActivityReport)(nil)
	_ Entity = (*Mandate)(nil)
	_ Entity = (*Consent)(nil)
)

// ErrUnknownEntity is returned (wrapped) for a name that is not a canonical
// entity.
var ErrUnknownEntity = errors.New("unknown canonical entity")

// Entities returns the names of the canonical entities, in a stable order.
func Entities() []string {
	names := make([]string, len(entities))
	for i, e := range entities {
		names[i] = e.name
	}
	return names
}

// NewEntity returns a pointer to a zero value of the entity's Go type, to
// decode canonical JSON into.
func NewEntity(entity string) (Entity, error) {
	for _, e := range entities {
		if e.name == entity {
			return e.new(), nil
		}
	}
	return nil, fmt.Errorf("%w: %q", ErrUnknownEntity, entity)
}

// Schema returns the JSON Schema (draft 2020-12) of an entity, or of the
// shared definitions when entity is CommonSchema. The bytes are a copy.
func Schema(entity string) ([]byte, error) {
	if entity != CommonSchema && !slices.Contains(Entities(), entity) {
		return nil, fmt.Errorf("%w: %q", ErrUnknownEntity, entity)
	}
	b, err := schemaFiles.ReadFile("schemas/" + SchemaVersion + "/" + entity + ".json")
	if err != nil {
		return nil, fmt.Errorf("reading schema of %s: %w", entity, err)
	}
	return b, nil
}

// Schemas holds the compiled schemas of every entity. It is safe for
// concurrent use.
type Schemas struct {
	byEntity map[string]*jsonschema.Schema
}

// CompileSchemas compiles the schema of every entity. Formats are asserted,
// including the model's own, which the published schemas name but other
// validators ignore: "partial-date", "fr-finess", "fr-siret" and "fr-nir"
// (the check keys).
func CompileSchemas() (*Schemas, error) {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	for _, f := range []*jsonschema.Format{
		{Name: "partial-date", Validate: formatOf(func(s string) bool { return PartialDate(s).Valid() })},
		{Name: "fr-finess", Validate: formatOf(ValidFINESS)},
		{Name: "fr-siret", Validate: formatOf(ValidSIRET)},
		{Name: "fr-nir", Validate: formatOf(ValidNIR)},
	} {
		c.RegisterFormat(f)
	}
	files, err := fs.Glob(schemaFiles, "schemas/"+SchemaVersion+"/*.json")
	if err != nil {
		return nil, fmt.Errorf("listing schemas: %w", err)
	}
	for _, f := range files {
		b, err := schemaFiles.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("reading schema %s: %w", f, err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("decoding schema %s: %w", f, err)
		}
		name := strings.TrimSuffix(f[strings.LastIndexByte(f, '/')+1:], ".json")
		if err := c.AddResource(SchemaBaseURL+name+".json", doc); err != nil {
			return nil, fmt.Errorf("adding schema %s: %w", f, err)
		}
	}
	s := &Schemas{byEntity: make(map[string]*jsonschema.Schema, len(entities))}
	for _, e := range entities {
		sch, err := c.Compile(SchemaBaseURL + e.name + ".json")
		if err != nil {
			return nil, fmt.Errorf("compiling schema of %s: %w", e.name, err)
		}
		s.byEntity[e.name] = sch
	}
	return s, nil
}

// formatOf turns a string predicate into a format check; values of other
// types are left to the "type" keyword.
func formatOf(valid func(string) bool) func(any) error {
	return func(v any) error {
		if s, ok := v.(string); ok && !valid(s) {
			return errFormat
		}
		return nil
	}
}

var errFormat = errors.New("invalid value")

// Get returns the compiled schema of an entity.
func (s *Schemas) Get(entity string) (*jsonschema.Schema, error) {
	sch, ok := s.byEntity[entity]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownEntity, entity)
	}
	return sch, nil
}

// ValidateJSON validates a canonical JSON document against an entity's
// schema; see Validate.
func (s *Schemas) ValidateJSON(entity string, data []byte) ([]*FieldError, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("decoding %s: %w", entity, err)
	}
	return s.Validate(entity, doc)
}

// Validate validates a decoded JSON value (as jsonschema.UnmarshalJSON or
// encoding/json give it) against an entity's schema. The problems come back
// as field errors sorted by field, which, unlike the schema library's own
// messages, never quote the value. The error is for an unknown entity only.
//
// The schema checks shapes, formats and the rules JSON Schema can say; the
// Go types' Validate checks the same and the rules across fields it cannot
// say (an end before its start, identifiers that must agree). Run both.
func (s *Schemas) Validate(entity string, instance any) ([]*FieldError, error) {
	sch, err := s.Get(entity)
	if err != nil {
		return nil, err
	}
	err = sch.Validate(instance)
	if err == nil {
		return nil, nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return nil, fmt.Errorf("validating %s: %w", entity, err)
	}
	var out []*FieldError
	collectLeaves(ve, &out)
	slices.SortStableFunc(out, func(a, b *FieldError) int {
		if c := strings.Compare(a.Field, b.Field); c != 0 {
			return c
		}
		return strings.Compare(a.Code, b.Code)
	})
	return slices.CompactFunc(out, func(a, b *FieldError) bool { return a.Field == b.Field && a.Code == b.Code }), nil
}

func collectLeaves(e *jsonschema.ValidationError, out *[]*FieldError) {
	if len(e.Causes) > 0 {
		for _, c := range e.Causes {
			collectLeaves(c, out)
		}
		return
	}
	at := fieldPath(e.InstanceLocation)
	child := func(name string) string {
		if at == "" {
			return name
		}
		return at + "." + name
	}
	add := func(field, code string) {
		d := schemaDetails[code]
		*out = append(*out, &FieldError{Field: field, Code: code, Detail: d.detail,
			Message: fmt.Sprintf(d.message, displayField(field))})
	}
	switch k := e.ErrorKind.(type) {
	case *kind.Required:
		for _, m := range k.Missing {
			add(child(m), "required")
		}
	case *kind.DependentRequired:
		for _, m := range k.Missing {
			add(child(m), "required")
		}
	case *kind.AdditionalProperties:
		for _, p := range k.Properties {
			add(child(p), "unknown_field")
		}
	case *kind.Type:
		add(at, "invalid_type")
	case *kind.Enum, *kind.Const:
		add(at, "invalid_value")
	case *kind.Pattern, *kind.Format:
		add(at, "invalid_format")
	case *kind.MinLength, *kind.MinItems, *kind.MinProperties:
		add(at, "too_short")
	case *kind.MaxLength, *kind.MaxItems, *kind.MaxProperties:
		add(at, "too_long")
	case *kind.Minimum, *kind.Maximum, *kind.ExclusiveMinimum, *kind.ExclusiveMaximum, *kind.MultipleOf:
		add(at, "out_of_range")
	case *kind.UniqueItems:
		add(at, "duplicate")
	case *kind.FalseSchema:
		add(at, "not_allowed")
	default:
		add(at, "invalid")
	}
}

var schemaDetails = map[string]struct{ detail, message string }{
	"required":      {"is required", "Le champ %s est obligatoire."},
	"unknown_field": {"is not a field of the canonical model", "Le champ %s n'existe pas dans le modèle canonique."},
	"invalid_type":  {"has the wrong JSON type", "Le champ %s n'a pas le bon type."},
	"invalid_value": {"is not one of the allowed values", "Le champ %s n'a pas une valeur permise."},
	"invalid_format": {"does not have the expected format",
		"Le champ %s n'a pas le format attendu."},
	"too_short":    {"is too short or has too few entries", "Le champ %s est trop court ou compte trop peu d'éléments."},
	"too_long":     {"is too long or has too many entries", "Le champ %s est trop long ou compte trop d'éléments."},
	"out_of_range": {"is out of range", "Le champ %s est hors des limites permises."},
	"duplicate":    {"must not repeat an entry", "Le champ %s répète un élément."},
	"not_allowed":  {"must be absent here", "Le champ %s ne doit pas être renseigné ici."},
	"invalid":      {"is invalid", "Le champ %s n'est pas valide."},
}

// fieldPath turns a JSON pointer's tokens into a field path: "a.b[0].c".
// No property of the model is all digits, so such tokens are indexes.
func fieldPath(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		if t != "" && strings.Trim(t, "0123456789") == "" {
			b.WriteString("[" + t + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(t)
	}
	return b.String()
}

func displayField(field string) string {
	if field == "" {
		return "racine"
	}
	return "« " + field + " »"
}
