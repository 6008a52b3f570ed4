package mapping

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// compiled compiles the schemas once for the package's tests.
var compiled = sync.OnceValues(CompileSchemas)

func schemas(t testing.TB) *Schemas {
	t.Helper()
	s, err := compiled()
	if err != nil {
		t.Fatalf("CompileSchemas: %v", err)
	}
	return s
}

func TestSchemaFiles(t *testing.T) {
	t.Parallel()
	files, err := fs.Glob(schemaFiles, "schemas/v1/*.json")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, strings.TrimSuffix(filepath.Base(f), ".json"))
	}
	want := append(Entities(), CommonSchema)
	sort.Strings(names)
	sort.Strings(want)
	if !slices.Equal(names, want) {
		t.Fatalf("schema files %v, want one per entity plus common: %v", names, want)
	}
	for _, name := range want {
		b, err := Schema(name)
		if err != nil {
			t.Fatalf("Schema(%q): %v", name, err)
		}
		var head struct {
			Schema string `json:"$schema"`
			ID     string `json:"$id"`
		}
		if err := json.Unmarshal(b, &head); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if head.Schema != "https://json-schema.org/draft/2020-12/schema" {
			t.Errorf("%s: $schema = %q, want draft 2020-12", name, head.Schema)
		}
		if head.ID != SchemaBaseURL+name+".json" {
			t.Errorf("%s: $id = %q, want %q", name, head.ID, SchemaBaseURL+name+".json")
		}
	}
	for _, bad := range []string{"", "nope", "../schema", "Person"} {
		if _, err := Schema(bad); !errors.Is(err, ErrUnknownEntity) {
			t.Errorf("Schema(%q) error = %v, want ErrUnknownEntity", bad, err)
		}
		if _, err := NewEntity(bad); !errors.Is(err, ErrUnknownEntity) {
			t.Errorf("NewEntity(%q) error = %v, want ErrUnknownEntity", bad, err)
		}
		if _, err := schemas(t).Get(bad); !errors.Is(err, ErrUnknownEntity) {
			t.Errorf("Get(%q) error = %v, want ErrUnknownEntity", bad, err)
		}
	}
	if _, err := NewEntity(CommonSchema); !errors.Is(err, ErrUnknownEntity) {
		t.Errorf("NewEntity(common) error = %v, want ErrUnknownEntity", err)
	}
}

// TestSchemasMatchGoTypes keeps the Go types and the schemas in step: for
// every entity, recursively, the JSON fields of the Go struct are exactly the
// schema's properties, a field is required in the schema exactly when its
// tag has neither omitempty nor omitzero, JSON types agree, every object
// schema forbids other properties, and conditional rules only name declared
// properties.
func TestSchemasMatchGoTypes(t *testing.T) {
	t.Parallel()
	s := schemas(t)
	for _, name := range Entities() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e, err := NewEntity(name)
			if err != nil {
				t.Fatal(err)
			}
			sch, err := s.Get(name)
			if err != nil {
				t.Fatal(err)
			}
			inStep(t, name, reflect.TypeOf(e).Elem(), sch)
		})
	}
}

var (
	timeType        = reflect.TypeFor[time.Time]()
	partialDateType = reflect.TypeFor[PartialDate]()
	dateType        = reflect.TypeFor[Date]()
)

// views lists a schema and what it refers to ($ref, allOf), where keywords
// that apply to the same value may sit.
func views(s *jsonschema.Schema) []*jsonschema.Schema {
	var out []*jsonschema.Schema
	for s != nil {
		out = append(out, s)
		for _, a := range s.AllOf {
			out = append(out, views(a)...)
		}
		s = s.Ref
	}
	return out
}

func schemaTypes(vs []*jsonschema.Schema) []string {
	for _, v := range vs {
		if v.Types != nil && !v.Types.IsEmpty() {
			return v.Types.ToStrings()
		}
	}
	return nil
}

func schemaFormat(vs []*jsonschema.Schema) string {
	for _, v := range vs {
		if v.Format != nil {
			return v.Format.Name
		}
	}
	return ""
}

func inStep(t *testing.T, path string, typ reflect.Type, sch *jsonschema.Schema) {
	t.Helper()
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	vs := views(sch)
	types := schemaTypes(vs)
	wantType := func(want string) {
		t.Helper()
		if !slices.Equal(types, []string{want}) {
			t.Errorf("%s: schema type %v, Go type %v wants %q", path, types, typ, want)
		}
	}
	wantFormat := func(want string) {
		t.Helper()
		if got := schemaFormat(vs); got != want {
			t.Errorf("%s: schema format %q, Go type %v wants %q", path, got, typ, want)
		}
	}
	switch {
	case typ == timeType:
		wantType("string")
		wantFormat("date-time")
		return
	case typ == partialDateType:
		wantType("string")
		wantFormat("partial-date")
		return
	case typ == dateType:
		wantType("string")
		wantFormat("date")
		return
	}
	switch typ.Kind() {
	case reflect.String:
		wantType("string")
	case reflect.Bool:
		wantType("boolean")
	case reflect.Int, reflect.Int64:
		wantType("integer")
	case reflect.Float64:
		wantType("number")
	case reflect.Slice:
		wantType("array")
		var items *jsonschema.Schema
		for _, v := range vs {
			if v.Items2020 != nil {
				items = v.Items2020
				break
			}
		}
		if items == nil {
			t.Errorf("%s: array schema without items", path)
			return
		}
		inStep(t, path+"[]", typ.Elem(), items)
	case reflect.Struct:
		wantType("object")
		inStepObject(t, path, typ, vs)
	default:
		t.Errorf("%s: Go type %v has no JSON Schema counterpart in this test", path, typ)
	}
}

func inStepObject(t *testing.T, path string, typ reflect.Type, vs []*jsonschema.Schema) {
	t.Helper()
	props := map[string]*jsonschema.Schema{}
	required := map[string]bool{}
	closed := false
	for _, v := range vs {
		for k, p := range v.Properties {
			if _, dup := props[k]; !dup {
				props[k] = p
			}
		}
		for _, r := range v.Required {
			required[r] = true
		}
		if b, ok := v.AdditionalProperties.(bool); ok && !b {
			closed = true
		}
	}
	if !closed {
		t.Errorf("%s: object schema allows additional properties", path)
	}
	fields := map[string]bool{}
	for i := range typ.NumField() {
		f := typ.Field(i)
		if !f.IsExported() {
			continue
		}
		tag, ok := f.Tag.Lookup("json")
		if !ok {
			t.Errorf("%s: Go field %s has no json tag", path, f.Name)
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		fields[name] = true
		optional := slices.Contains(strings.Split(opts, ","), "omitempty") || slices.Contains(strings.Split(opts, ","), "omitzero")
		p, ok := props[name]
		if !ok {
			t.Errorf("%s: Go field %s (%q) is not a property of the schema", path, f.Name, name)
			continue
		}
		if required[name] == optional {
			t.Errorf("%s.%s: required in schema = %v, but Go tag %q says optional = %v", path, name, required[name], tag, optional)
		}
		inStep(t, path+"."+name, f.Type, p)
	}
	for name := range props {
		if !fields[name] {
			t.Errorf("%s: schema property %q has no Go field", path, name)
		}
	}
	for name := range required {
		if !fields[name] {
			t.Errorf("%s: schema requires %q, which has no Go field", path, name)
		}
	}
	// Conditional rules may only speak of declared properties.
	var conditional func(where string, s *jsonschema.Schema)
	conditional = func(where string, s *jsonschema.Schema) {
		if s == nil {
			return
		}
		for k := range s.Properties {
			if !fields[k] {
				t.Errorf("%s: %s names unknown property %q", path, where, k)
			}
		}
		for _, r := range s.Required {
			if !fields[r] {
				t.Errorf("%s: %s requires unknown property %q", path, where, r)
			}
		}
		conditional(where+"/not", s.Not)
		for _, a := range s.AnyOf {
			conditional(where+"/anyOf", a)
		}
		for _, a := range s.OneOf {
			conditional(where+"/oneOf", a)
		}
	}
	for _, v := range vs {
		conditional("if", v.If)
		conditional("then", v.Then)
		conditional("else", v.Else)
		conditional("not", v.Not)
		for k, deps := range v.DependentRequired {
			for _, d := range append([]string{k}, deps...) {
				if !fields[d] {
					t.Errorf("%s: dependentRequired names unknown property %q", path, d)
				}
			}
		}
	}
}

// An example is a canonical document and what the Go type and the schema
// make of it. testdata/examples/<entity>.json holds a list of them.
type example struct {
	Name     string          `json:"name"`
	Document json.RawMessage `json:"document"`
	// Errors are the [field, code] pairs Validate returns, in order; none
	// for a valid document.
	Errors [][2]string `json:"errors"`
	// DecodeError: the document does not decode into the Go type (a wrong
	// JSON type, an unknown field); the schema must reject it too.
	DecodeError bool `json:"decode_error"`
	// SchemaFields, when set, are the fields the schema rejects, if they
	// differ from the fields of Errors; Why says why they differ.
	SchemaFields *[]string `json:"schema_fields"`
	Why          string    `json:"why"`
}

func TestExamples(t *testing.T) {
	t.Parallel()
	s := schemas(t)
	for _, name := range Entities() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b, err := os.ReadFile(filepath.Join("testdata", "examples", name+".json"))
			if err != nil {
				t.Fatalf("every entity needs examples: %v", err)
			}
			var examples []example
			dec := json.NewDecoder(bytes.NewReader(b))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&examples); err != nil {
				t.Fatalf("decoding examples: %v", err)
			}
			valid, invalid := 0, 0
			for _, ex := range examples {
				checkExample(t, s, name, ex)
				if len(ex.Errors) == 0 && !ex.DecodeError {
					valid++
				} else {
					invalid++
				}
			}
			if valid < 1 || invalid < 3 {
				t.Errorf("%d valid and %d invalid examples, want at least 1 and 3", valid, invalid)
			}
		})
	}
}

func checkExample(t *testing.T, s *Schemas, entity string, ex example) {
	t.Helper()
	if ex.SchemaFields != nil && ex.Why == "" {
		t.Errorf("%s: schema_fields without a why", ex.Name)
	}

	// The Go side: strict decoding, then Validate.
	e, _ := NewEntity(entity)
	dec := json.NewDecoder(bytes.NewReader(ex.Document))
	dec.DisallowUnknownFields()
	decodeErr := dec.Decode(e)
	if (decodeErr != nil) != ex.DecodeError {
		t.Errorf("%s: decode error %v, want error = %v", ex.Name, decodeErr, ex.DecodeError)
		return
	}
	var goFields []string
	if decodeErr == nil {
		var got [][2]string
		for _, fe := range e.Validate() {
			got = append(got, [2]string{fe.Field, fe.Code})
			goFields = append(goFields, fe.Field)
			if fe.Detail == "" || fe.Message == "" {
				t.Errorf("%s: %s %s has no detail or message", ex.Name, fe.Field, fe.Code)
			}
		}
		if !slices.Equal(got, ex.Errors) {
			t.Errorf("%s: Validate() = %v, want %v", ex.Name, got, ex.Errors)
		}
		if len(got) == 0 && (ex.SchemaFields == nil || len(*ex.SchemaFields) == 0) {
			roundTrip(t, ex, e)
		}
	}

	// The schema side: the same verdict, on the same fields.
	schemaErrs, err := s.ValidateJSON(entity, ex.Document)
	if err != nil {
		t.Fatalf("%s: %v", ex.Name, err)
	}
	var gotFields []string
	for _, fe := range schemaErrs {
		gotFields = append(gotFields, fe.Field)
	}
	gotFields = sortedSet(gotFields)
	switch {
	case ex.SchemaFields != nil:
		if want := sortedSet(*ex.SchemaFields); !slices.Equal(gotFields, want) {
			t.Errorf("%s: schema rejects %v, want %v", ex.Name, gotFields, want)
		}
	case ex.DecodeError:
		if len(gotFields) == 0 {
			t.Errorf("%s: Go cannot decode it, the schema accepts it", ex.Name)
		}
	default:
		if want := sortedSet(goFields); !slices.Equal(gotFields, want) {
			t.Errorf("%s: schema rejects %v, Validate rejects %v", ex.Name, gotFields, want)
		}
	}
}

// roundTrip checks that a valid document survives decoding and encoding
// unchanged: no field lost, none added.
func roundTrip(t *testing.T, ex example, e Entity) {
	t.Helper()
	out, err := json.Marshal(e)
	if err != nil {
		t.Errorf("%s: encoding: %v", ex.Name, err)
		return
	}
	var want, got any
	if err := json.Unmarshal(ex.Document, &want); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: round trip gives\n%s\nwant\n%s", ex.Name, out, ex.Document)
	}
}

func sortedSet(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}

// TestErrorsNeverQuoteValues fills every field of a person with a canary
// and checks that neither Validate nor the schema repeats it.
func TestErrorsNeverQuoteValues(t *testing.T) {
	t.Parallel()
	const canary = "ZQXCANARY"
	doc := fmt.Sprintf(`{
		"birth_family_name": " %[1]s", "used_name": "%[1]s\n", "given_names": ["%[1]s ", ""],
		"sex": "%[1]s", "birth_date": "%[1]s", "birth_place_cog": "%[1]s", "birth_country_cog": "%[1]s",
		"ins": {"value": "%[1]s", "system": "%[1]s"}, "identifiers": [{"system": "%[1]s", "value": " %[1]s"}]
	}`, canary)
	var p Person
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		t.Fatal(err)
	}
	goErrs := p.Validate()
	schemaErrs, err := schemas(t).ValidateJSON("person", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(goErrs) < 10 || len(schemaErrs) < 10 {
		t.Fatalf("got %d and %d errors, want every field rejected", len(goErrs), len(schemaErrs))
	}
	for _, fe := range append(goErrs, schemaErrs...) {
		for _, text := range []string{fe.Field, fe.Code, fe.Detail, fe.Message, fe.Error()} {
			if strings.Contains(text, canary) {
				t.Errorf("%s %s quotes the value: %q", fe.Field, fe.Code, text)
			}
		}
	}
}

func TestSchemasValidateDecodedValues(t *testing.T) {
	t.Parallel()
	s := schemas(t)
	// Values from encoding/json (float64 numbers) work as well as those of
	// jsonschema.UnmarshalJSON.
	var doc any
	if err := json.Unmarshal([]byte(`{"paid_on":"2021-01-01","total":123.4,"allowances":123.4}`), &doc); err != nil {
		t.Fatal(err)
	}
	if errs, err := s.Validate("payment", doc); err != nil || len(errs) != 0 {
		t.Errorf("Validate(payment) = %v, %v; want valid", errs, err)
	}
	if _, err := s.ValidateJSON("payment", []byte(`{`)); err == nil {
		t.Error("ValidateJSON of broken JSON: no error")
	}
	if _, err := s.Validate("nope", doc); !errors.Is(err, ErrUnknownEntity) {
		t.Errorf("Validate(nope) error = %v, want ErrUnknownEntity", err)
	}
}
