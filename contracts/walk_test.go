package contracts_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/relais-dev/relais/contracts"
)

// walkSchemas are the schemas the walker tests use, in a 3.1 document (and
// one 3.0-style nullable).
const walkSchemas = `openapi: 3.1.0
info: {title: walker, version: '1'}
paths: {}
components:
  schemas:
    QuotientFamilial:
      type: object
      required: [data]
      properties:
        data:
          type: object
          required: [quotient_familial, allocataires]
          properties:
            quotient_familial:
              type: object
              required: [valeur, annee, mois]
              properties:
                fournisseur: {type: string, enum: [CNAF, MSA]}
                valeur: {type: integer}
                annee: {type: integer}
                mois: {type: integer}
                mois_calcul: {type: [integer, 'null']}
            allocataires:
              type: array
              items: {$ref: '#/components/schemas/Personne'}
            enfants:
              type: array
              items: {$ref: '#/components/schemas/Personne'}
            adresse:
              type: [object, 'null']
              properties:
                code_postal: {type: string}
    Personne:
      type: object
      required: [nom_naissance, prenoms]
      properties:
        nom_naissance: {type: string}
        nom_usage: {type: [string, 'null']}
        prenoms: {type: array, items: {type: string}}
        sexe: {type: string, enum: [M, F]}
    Shape:
      oneOf:
        - $ref: '#/components/schemas/Circle'
        - $ref: '#/components/schemas/Square'
    Circle:
      type: object
      required: [kind, radius]
      properties:
        kind: {const: circle}
        radius: {type: number}
    Square:
      type: object
      required: [kind, side]
      properties:
        kind: {const: square}
        side: {type: number}
    Either:
      anyOf:
        - {type: string}
        - {type: array, items: {$ref: '#/components/schemas/Shape'}}
    Merged:
      allOf:
        - $ref: '#/components/schemas/Circle'
        - type: object
          properties:
            colour: {type: string}
    Legacy:
      type: object
      properties:
        note:
          type: string
          nullable: true
    Free:
      type: object
      additionalProperties: {type: integer}
    Patterned:
      type: object
      properties:
        id: {type: string}
      patternProperties:
        '^x-': {type: string}
    OpenEnded:
      type: object
      required: [resourceType]
      properties:
        resourceType: {type: string}
      additionalProperties: true
    Extensible:
      type: object
      properties:
        id: {type: string}
      additionalProperties:
        type: object
        required: [url]
        properties:
          url: {type: string}
    Closed:
      type: object
      additionalProperties: false
    ClosedWithPatterns:
      type: object
      properties:
        id: {type: string}
      patternProperties:
        '^_': {type: object}
      additionalProperties: false
    OpenAllOf:
      allOf:
        - $ref: '#/components/schemas/Circle'
        - type: object
          properties:
            colour: {type: string}
          additionalProperties: true
    Unevaluated:
      allOf:
        - $ref: '#/components/schemas/Circle'
      unevaluatedProperties: {type: string}
    Tree:
      type: object
      properties:
        name: {type: string}
        children:
          type: array
          items: {$ref: '#/components/schemas/Tree'}
    SelfOneOf:
      oneOf:
        - $ref: '#/components/schemas/SelfOneOf'
        - {type: string}
`

func loadSchemas(t testing.TB) openapi3.Schemas {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData([]byte(walkSchemas))
	if err != nil {
		t.Fatalf("loading the schemas: %v", err)
	}
	return doc.Components.Schemas
}

const qfBody = `{"data":{"quotient_familial":{"fournisseur":"CNAF","valeur":1250,"annee":2024,"mois":3,"mois_calcul":null},
"allocataires":[{"nom_naissance":"DUPONT","nom_usage":null,"prenoms":["Jean","Éloïse"],"sexe":"M"},
{"nom_naissance":"MARTIN","prenoms":["Léa"],"sexe":"F"}],"adresse":null}}`

func TestCompare(t *testing.T) {
	t.Parallel()
	schemas := loadSchemas(t)
	for name, tc := range map[string]struct {
		schema   string
		body     string
		examples []string
		want     []string // "kind path want→got"
	}{
		"conforming body": {schema: "QuotientFamilial", body: qfBody},
		"retyped nested value": {
			schema: "QuotientFamilial",
			body:   strings.Replace(qfBody, `"valeur":1250`, `"valeur":"1250"`, 1),
			want:   []string{"retyped $.data.quotient_familial.valeur integer→string"},
		},
		"float where an integer is wanted": {
			schema: "QuotientFamilial",
			body:   strings.Replace(qfBody, `"valeur":1250`, `"valeur":1250.5`, 1),
			want:   []string{"retyped $.data.quotient_familial.valeur integer→number"},
		},
		"integral float is an integer": {
			schema: "QuotientFamilial",
			body:   strings.Replace(qfBody, `"valeur":1250`, `"valeur":1250.0`, 1),
		},
		"renamed field in an array element": {
			schema: "QuotientFamilial",
			body:   strings.Replace(qfBody, `{"nom_naissance":"MARTIN"`, `{"nomNaissance":"MARTIN"`, 1),
			want: []string{
				"removed $.data.allocataires[1].nom_naissance string→absent",
				"added $.data.allocataires[1].nomNaissance absent→string",
			},
		},
		"removed required object": {
			schema: "QuotientFamilial",
			body:   `{"data":{"allocataires":[]}}`,
			want:   []string{"removed $.data.quotient_familial object→absent"},
		},
		"null allowed by a type array": {
			schema: "QuotientFamilial",
			body:   strings.Replace(qfBody, `"annee":2024,"mois":3,"mois_calcul":null`, `"annee":2024,"mois":3,"mois_calcul":7`, 1),
		},
		"null not allowed": {
			schema: "QuotientFamilial",
			body:   strings.Replace(qfBody, `"mois":3`, `"mois":null`, 1),
			want:   []string{"retyped $.data.quotient_familial.mois integer→null"},
		},
		"object where an array is wanted": {
			schema: "QuotientFamilial",
			body:   strings.Replace(qfBody, `"adresse":null`, `"enfants":{"nom_naissance":"X"}`, 1),
			want:   []string{"retyped $.data.enfants array→object"},
		},
		"retyped value in an array of strings": {
			schema: "QuotientFamilial",
			body:   strings.Replace(qfBody, `["Léa"]`, `["Léa",7]`, 1),
			want:   []string{"retyped $.data.allocataires[1].prenoms[1] string→integer"},
		},
		"field of the example missing": {
			schema:   "Personne",
			body:     `{"nom_naissance":"DUPONT","prenoms":[]}`,
			examples: []string{`{"nom_naissance":"X","nom_usage":"Y","prenoms":["Z"],"sexe":"F"}`},
			want:     []string{"removed $.nom_usage null|string→absent", "removed $.sexe string→absent"},
		},
		"only fields every example has are expected": {
			schema:   "Personne",
			body:     `{"nom_naissance":"DUPONT","prenoms":[],"sexe":"M"}`,
			examples: []string{`{"nom_naissance":"X","nom_usage":"Y","prenoms":["Z"],"sexe":"F"}`, `{"nom_naissance":"X","prenoms":["Z"],"sexe":"F","inconnu":1}`},
		},
		"example fields are expected in every array element": {
			schema:   "QuotientFamilial",
			body:     qfBody,
			examples: []string{`{"data":{"allocataires":[{"nom_naissance":"X","prenoms":[],"sexe":"M","nom_usage":null}]}}`},
			want:     []string{"removed $.data.allocataires[1].nom_usage null|string→absent"},
		},
		"oneOf picks the closest branch": {
			schema: "Shape",
			body:   `{"kind":"square","side":"2"}`,
			want:   []string{"retyped $.side number→string"},
		},
		"oneOf with an extra field": {
			schema: "Shape",
			body:   `{"kind":"circle","radius":1,"colour":"red"}`,
			want:   []string{"added $.colour absent→string"},
		},
		"oneOf where no branch fits well": {
			schema: "Shape",
			body:   `{"kind":"circle"}`,
			want:   []string{"removed $.radius number→absent"},
		},
		"anyOf of a string or an array of oneOf": {
			schema: "Either",
			body:   `[{"kind":"circle","radius":1},{"kind":"square","side":1,"x":true}]`,
			want:   []string{"added $[1].x absent→boolean"},
		},
		"anyOf with no matching type": {
			schema: "Either",
			body:   `42`,
			want:   []string{"retyped $ string→integer"},
		},
		"allOf merged": {
			schema: "Merged",
			body:   `{"kind":"circle","radius":1,"colour":"red","size":3}`,
			want:   []string{"added $.size absent→integer"},
		},
		"3.0 nullable": {
			schema: "Legacy",
			body:   `{"note":null}`,
		},
		"additionalProperties checks values": {
			schema: "Free",
			body:   `{"a":1,"b":"deux"}`,
			want:   []string{"retyped $.b integer→string"},
		},
		"patternProperties are declared": {
			schema: "Patterned",
			body:   `{"id":"1","x-trace":"a","x-n":2,"other":1}`,
			want:   []string{"added $.other absent→integer", "retyped $['x-n'] string→integer"},
		},
		"additionalProperties true allows other fields": {
			schema: "OpenEnded",
			body:   `{"resourceType":"Patient","id":"p1","meta":{"versionId":"2"},"active":true}`,
		},
		"additionalProperties true still checks the declared ones": {
			schema: "OpenEnded",
			body:   `{"resourceType":7,"id":"p1"}`,
			want:   []string{"retyped $.resourceType string→integer"},
		},
		"additionalProperties true still finds removed fields": {
			schema:   "OpenEnded",
			body:     `{"id":"p1"}`,
			examples: []string{`{"resourceType":"Patient","id":"p0"}`},
			want:     []string{"removed $.resourceType string→absent"},
		},
		"additionalProperties schema walks the other fields": {
			schema: "Extensible",
			body:   `{"id":"1","ext-a":{"url":"http://x","extra":1},"ext-b":{"uri":"http://y"},"ext-c":"z"}`,
			want: []string{
				"added $['ext-a'].extra absent→integer",
				"removed $['ext-b'].url string→absent",
				"added $['ext-b'].uri absent→string",
				"retyped $['ext-c'] object→string",
			},
		},
		"additionalProperties false adds every other field": {
			schema: "Closed",
			body:   `{"a":1}`,
			want:   []string{"added $.a absent→integer"},
		},
		"patternProperties beside additionalProperties false": {
			schema: "ClosedWithPatterns",
			body:   `{"id":"1","_meta":{},"_bad":3,"other":true}`,
			want:   []string{"retyped $._bad object→integer", "added $.other absent→boolean"},
		},
		"additionalProperties true in an allOf member": {
			schema: "OpenAllOf",
			body:   `{"kind":"circle","radius":1,"colour":"red","size":3}`,
		},
		"unevaluatedProperties schema": {
			schema: "Unevaluated",
			body:   `{"kind":"circle","radius":1,"label":"a","size":3}`,
			want:   []string{"retyped $.size string→integer"},
		},
		"recursive schema": {
			schema: "Tree",
			body:   `{"name":"a","children":[{"name":"b","children":[{"name":3}]}]}`,
			want:   []string{"retyped $.children[0].children[0].name string→integer"},
		},
		"schema that includes itself": {
			schema: "SelfOneOf",
			body:   `{"a":1}`,
			want:   []string{"retyped $ string→object"},
		},
		"odd keys": {
			schema: "Personne",
			body:   `{"nom_naissance":"X","prenoms":[],"it's":1,"a b":2}`,
			want:   []string{`added $['a b'] absent→integer`, `added $['it\'s'] absent→integer`},
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ref := schemas[tc.schema]
			if ref == nil {
				t.Fatalf("no schema %s", tc.schema)
			}
			var examples []any
			for _, e := range tc.examples {
				examples = append(examples, decode(t, e))
			}
			var got []string
			for _, c := range contracts.Compare(ref, examples, decode(t, tc.body)) {
				got = append(got, fmt.Sprintf("%s %s %s→%s", c.Kind, c.Path, c.Want, c.Got))
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("changes\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
		})
	}
}

func decode(t testing.TB, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("decoding %s: %v", s, err)
	}
	return v
}

func FuzzCompare(f *testing.F) {
	schemas := loadSchemas(f)
	names := []string{"QuotientFamilial", "Personne", "Shape", "Either", "Merged", "Legacy", "Free", "Patterned", "OpenEnded", "Extensible", "Closed", "ClosedWithPatterns", "OpenAllOf", "Unevaluated", "Tree", "SelfOneOf"}
	for _, seed := range []string{qfBody, `{}`, `[]`, `null`, `1.5e300`, `{"kind":"square","side":"2"}`, `[{"kind":"circle"},"x",[[[]]]]`, `{"children":[{"children":[{}]}]}`} {
		f.Add(seed, seed)
	}
	f.Fuzz(func(t *testing.T, body, example string) {
		var v, ex any
		if json.Unmarshal([]byte(body), &v) != nil {
			return
		}
		_ = json.Unmarshal([]byte(example), &ex)
		for _, name := range names {
			for _, c := range contracts.Compare(schemas[name], []any{ex}, v) {
				if !strings.HasPrefix(c.Path, "$") || c.Kind == "" || c.Want == "" || c.Got == "" {
					t.Fatalf("%s: malformed change %+v", name, c)
				}
			}
		}
		// A nil schema allows everything.
		if got := contracts.Compare(nil, nil, v); len(got) != 0 {
			t.Fatalf("nil schema: %+v", got)
		}
	})
}

func BenchmarkCompare(b *testing.B) {
	schemas := loadSchemas(b)
	// A page of 100 allocataires.
	var page strings.Builder
	page.WriteString(`{"data":{"quotient_familial":{"fournisseur":"CNAF","valeur":1250,"annee":2024,"mois":3},"allocataires":[`)
	for i := range 100 {
		if i > 0 {
			page.WriteByte(',')
		}
		fmt.Fprintf(&page, `{"nom_naissance":"DUPONT-%d","nom_usage":null,"prenoms":["Jean","Éloïse"],"sexe":"M"}`, i)
	}
	page.WriteString(`]}}`)
	body := decode(b, page.String())
	shapes := decode(b, `[{"kind":"circle","radius":1},{"kind":"square","side":1},{"kind":"square","side":2}]`)
	b.Run("quotient_familial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if len(contracts.Compare(schemas["QuotientFamilial"], nil, body)) != 0 {
				b.Fatal("changes")
			}
		}
	})
	b.Run("oneOf", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if len(contracts.Compare(schemas["Either"], nil, shapes)) != 0 {
				b.Fatal("changes")
			}
		}
	})
}
