package engine

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"go.yaml.in/yaml/v3"
)

// SchemaSource returns the compiled JSON Schema of a canonical entity
// ("household" for the reference "mapping:household"). In Relais it is
// (*mapping.Schemas).Get.
type SchemaSource func(entity string) (*jsonschema.Schema, error)

// entityScheme prefixes a reference to a canonical entity's schema.
const entityScheme = "mapping:"

// specScheme is the URL scheme of schema files beside a spec.
const specScheme = "spec:/"

// schema is what an input or output is validated against: one schema, or an
// object whose listed keys each have their own schema (and no other key).
type schema struct {
	whole *jsonschema.Schema
	props []propSchema
}

type propSchema struct {
	key string
	sch *jsonschema.Schema
}

// fileLoader reads schema files beside the spec, and nothing else.
type fileLoader struct {
	readFile func(string) ([]byte, error)
}

func (l fileLoader) Load(url string) (any, error) {
	if !strings.HasPrefix(url, specScheme) {
		return nil, errors.New("a schema file may refer only to files beside the spec")
	}
	src, err := l.readFile(strings.TrimPrefix(url, specScheme))
	if err != nil {
		return nil, err
	}
	return jsonschema.UnmarshalJSON(bytes.NewReader(src))
}

// schema compiles input_schema or output_schema: a canonical entity
// ("mapping:household"), a JSON Schema file beside the spec, or a mapping of
// top-level keys to either.
func (c *compiler) schema(n *yaml.Node, key string) *schema {
	if n == nil {
		return nil
	}
	switch n.Kind {
	case yaml.ScalarNode:
		sch := c.schemaRef(n, key)
		if sch == nil {
			return nil
		}
		return &schema{whole: sch}
	case yaml.MappingNode:
		out := &schema{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode || !isIdent(k.Value) {
				c.r.add(k, CodeBadValue, key+": keys are identifiers")
				continue
			}
			if sch := c.schemaRef(v, key); sch != nil {
				out.props = append(out.props, propSchema{k.Value, sch})
			}
		}
		if len(out.props) == 0 {
			return nil
		}
		return out
	}
	c.r.add(n, CodeBadValue, key+": a schema is \"mapping:<entity>\", a file path, or a mapping of keys to those")
	return nil
}

// schemaRef compiles one reference.
func (c *compiler) schemaRef(v *yaml.Node, key string) *jsonschema.Schema {
	if v.Kind != yaml.ScalarNode || v.Value == "" {
		c.r.add(v, CodeBadValue, key+": a schema is \"mapping:<entity>\" or a file path")
		return nil
	}
	if entity, ok := strings.CutPrefix(v.Value, entityScheme); ok {
		if c.opts.Schemas == nil {
			c.r.add(v, CodeBadSchema, key+": no canonical schemas are available to resolve "+v.Value)
			return nil
		}
		sch, err := c.opts.Schemas(entity)
		if err != nil {
			c.r.add(v, CodeBadSchema, key+": "+err.Error())
			return nil
		}
		return sch
	}
	p := path.Clean(v.Value)
	if path.IsAbs(p) || strings.HasPrefix(p, "../") || p == ".." || strings.Contains(v.Value, "://") {
		c.r.add(v, CodeBadSchema, key+": a schema file is named relative to the spec, inside its folder")
		return nil
	}
	comp := jsonschema.NewCompiler()
	comp.DefaultDraft(jsonschema.Draft2020)
	comp.UseLoader(fileLoader{readFile: c.readFile})
	sch, err := comp.Compile(specScheme + p)
	if err != nil {
		c.r.add(v, CodeBadSchema, key+": "+firstLine(err.Error()))
		return nil
	}
	return sch
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// validate checks v against s and returns one Error per failed constraint.
// The messages never quote the value.
func (s *schema) validate(v any, code string, public *readTree) Errors {
	if s.whole != nil {
		return validateWith(s.whole, v, nil, code, public)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return Errors{{Code: code, Message: "type incorrect : attendu objet", Personal: true}}
	}
	var out Errors
	for _, p := range s.props {
		x, found := m[p.key]
		if !found {
			out = append(out, &Error{Path: p.key, Code: code, Message: "champ obligatoire absent", Personal: true})
			continue
		}
		out = append(out, validateWith(p.sch, x, []string{p.key}, code, public)...)
	}
	for k := range m {
		if !slices.ContainsFunc(s.props, func(p propSchema) bool { return p.key == k }) {
			out = append(out, &Error{Path: k, Code: code, Message: "champ non prévu par le schéma", Personal: true})
		}
	}
	slices.SortStableFunc(out, func(a, b *Error) int { return strings.Compare(a.Path, b.Path) })
	return out
}

func validateWith(sch *jsonschema.Schema, v any, prefix []string, code string, public *readTree) Errors {
	err := sch.Validate(v)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return Errors{{Path: instancePath(prefix), Code: code, Message: "validation impossible", Personal: true}}
	}
	var out Errors
	leaves(ve, func(e *jsonschema.ValidationError) {
		if len(out) >= maxErrors {
			return
		}
		loc := append(append([]string(nil), prefix...), e.InstanceLocation...)
		out = append(out, &Error{Path: instancePath(loc), Code: code, Message: schemaMessage(e.ErrorKind), Personal: !coversInstance(public, loc)})
	})
	slices.SortStableFunc(out, func(a, b *Error) int { return strings.Compare(a.Path, b.Path) })
	return out
}

// leaves visits the innermost causes of a validation error.
func leaves(e *jsonschema.ValidationError, visit func(*jsonschema.ValidationError)) {
	if len(e.Causes) == 0 {
		visit(e)
		return
	}
	for _, c := range e.Causes {
		leaves(c, visit)
	}
}

// instancePath writes an instance location as a dotted path with indices.
func instancePath(loc []string) string {
	var b strings.Builder
	for _, s := range loc {
		if _, err := strconv.Atoi(s); err == nil {
			b.WriteString("[" + s + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s)
	}
	return b.String()
}

// coversInstance reports whether t declares the instance location (indices
// standing for elements).
func coversInstance(t *readTree, loc []string) bool {
	if t == nil {
		return false
	}
	p := make(Path, len(loc))
	for i, s := range loc {
		if _, err := strconv.Atoi(s); err == nil {
			p[i] = elemStep
		} else {
			p[i] = s
		}
	}
	return len(p) > 0 && t.covers(p)
}

// schemaMessage says in French what a schema constraint wants, naming
// fields but never the value.
func schemaMessage(k jsonschema.ErrorKind) string {
	switch k := k.(type) {
	case *kind.Required:
		return "champ(s) obligatoire(s) absent(s) : " + strings.Join(k.Missing, ", ")
	case *kind.AdditionalProperties:
		return "champ(s) non prévu(s) par le schéma : " + strings.Join(k.Properties, ", ")
	case *kind.Type:
		return "type incorrect : attendu " + strings.Join(frenchTypes(k.Want), " ou ") + ", reçu " + frenchType(k.Got)
	case *kind.Enum, *kind.Const:
		return "valeur hors de la liste des valeurs autorisées"
	case *kind.Pattern:
		return "format incorrect"
	case *kind.Format:
		return "format incorrect (" + k.Want + ")"
	case *kind.MinLength:
		return "texte trop court"
	case *kind.MaxLength:
		return "texte trop long"
	case *kind.Minimum, *kind.ExclusiveMinimum:
		return "valeur trop petite"
	case *kind.Maximum, *kind.ExclusiveMaximum:
		return "valeur trop grande"
	case *kind.MinItems:
		return "liste trop courte"
	case *kind.MaxItems:
		return "liste trop longue"
	case *kind.UniqueItems:
		return "élément en double dans la liste"
	case *kind.FalseSchema:
		return "champ interdit par le schéma"
	}
	kw := strings.Join(k.KeywordPath(), "/")
	return fmt.Sprintf("valeur non conforme au schéma (%s)", kw)
}

func frenchTypes(ts []string) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = frenchType(t)
	}
	return out
}

func frenchType(t string) string {
	switch t {
	case "string":
		return "texte"
	case "integer":
		return "entier"
	case "number":
		return "nombre"
	case "boolean":
		return "booléen"
	case "object":
		return "objet"
	case "array":
		return "liste"
	case "null":
		return "null"
	}
	return t
}
