// Package mapping owns Relais's canonical model and the mapping specs that
// translate it to and from each platform's schema.
//
// # The canonical model
//
// The canonical model is the one vocabulary in which Relais holds the data it
// moves between an establishment's software and the public platforms; every
// connector maps its platform's schema to and from it, so no platform's names
// leak into another's. Its JSON names are English snake_case. The entities:
//
//   - person: a civil-status identity with its INS traits (birth names, given
//     names in order, sex, a partial date of birth, INSEE COG birth place).
//   - household: the allocataires, children and address the CAF or MSA knows.
//   - benefit: a right to a benefit or a family quotient; a quotient of 0 is
//     "not computable", never an amount of 0.
//   - employment_registration and payment: France Travail's registration and
//     payments to a job seeker.
//   - document: a document's description for a digital safe.
//   - establishment, stay, event, presence_absence, activity_report: an
//     establishment's activity as the ANS guide for the transfer of ESMS data
//     (TDDUI) shapes it, with its identifier formats.
//   - mandate and consent: a professional's scoped, expiring, revocable right
//     to act for a person, and a person's consent to an exchange.
//
// Each entity is a Go type with a Validate method returning [FieldError]s:
// the JSON path of the field, a stable English code, an English detail and a
// French message for the people who fix the data. No error ever quotes a
// value: most are personal data.
//
// # Versions
//
// This is version v1 ([SchemaVersion]). A version only grows compatibly: new
// optional fields, new enumeration values. Removing or renaming a field,
// making one required or narrowing a rule makes v2, with its own schemas
// beside v1's, so that stored payloads and specs written against v1 keep
// their meaning.
//
// # Schemas and types in step
//
// Each entity also has a JSON Schema (draft 2020-12), embedded from
// schemas/v1 and served by [Schema]; [CompileSchemas] compiles them, with
// Relais's own formats (partial dates, FINESS, SIRET and NIR keys), for the
// mapping engine to check canonical JSON; [Schemas.Validate] reports the
// problems as field errors that never quote values. Rules:
//
//   - every JSON field of a Go type is a property of its schema and the
//     reverse, recursively, with the same JSON type;
//   - a field is required in the schema exactly when its Go tag has neither
//     omitempty nor omitzero; optional fields whose zero value means
//     something (a boolean, an amount) are omitted when zero, so "absent" and
//     "zero" are the same value on both sides;
//   - objects accept no other property;
//   - Validate checks what the schema checks, on the same fields, and the
//     rules across fields a schema cannot say (an end before its start,
//     identifiers that must agree, references inside a report).
//
// The tests hold this: they walk every Go type and its compiled schema, and
// run testdata/examples/<entity>.json, valid and invalid documents, through
// both the schema and Validate, expecting the same verdict on the same
// fields. The known differences are listed there with their reason: the
// schema rejects an empty string or a null where Go cannot tell them from an
// absent field, and the document's byte limits are checked by Go only.
//
// The canonical document deposit ([DocumentDeposit]) predates the model and
// keeps its own check, [DocumentDeposit.Validate], which leaves out the size
// and digest computed after it.
package mapping
