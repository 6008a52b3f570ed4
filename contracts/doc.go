// Package contracts holds each platform's contract (one sub-package per
// platform: the OpenAPI document written by Relais from the platform's public
// facts, and its checks) and the contract verifier:
//
//   - Verify and Diff call a target, our mock or a real sandbox, with each
//     contract's cases, and report every difference (status, content type,
//     headers, body schema, fields added, removed or retyped, with their JSON
//     paths), as text and as JUnit XML; `relais contracts verify|diff` runs them.
//
// A platform's sub-package exports Platform(): its document (Spec), the
// credentials a real target needs (RELAIS_CONTRACT_<PLATFORM>_<WHAT>, each
// with the value our mock accepts), how to authorize (Authorize, e.g. an
// OAuth2 token fetched once per run) and its Cases. Verify builds each
// request from the operation: the path template filled from PathParams or
// the parameters' examples, the query from Query or the examples, the body
// from Body or the request body's example (JSON, form values or multipart
// parts, by its media type). It then checks the answer with
// kin-openapi (openapi3filter.ValidateResponse, every error converted to a
// Violation with its JSONPath), checks the required headers itself (kin stops
// at the first), and walks the JSON body against its schema with Compare:
// the structural diff that names a field renamed, removed or retyped by its
// path ($.data.allocataires[0].nom_naissance). Verify adds its own checks:
// every operation has a case expecting a success, every secured operation
// refuses a call without credentials with its documented 401 (or 403), on
// our mock every operation's input examples alone get a documented 2xx, and
// RateLimit-* headers, where documented, are consistent. A 429 is retried
// after its Retry-After, as a polite client would.
//
// Nothing here reads the filesystem or the environment directly: the caller
// passes getenv, and the reports go to the writers it gives.
//
// The connector conformance suite, which every connector must pass against
// its mock (happy path, documented errors, every fault kind, retries,
// breaker, no duplicate delivery), is in contracts/connectortest, apart, so
// that the binary does not link the testing package.
package contracts
