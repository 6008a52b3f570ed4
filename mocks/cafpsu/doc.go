// Package cafpsu is a stateful mock of a service for the activity
// declarations of crèches (EAJE) funded by the CAF's PSU. The CAF has no
// such API (its partners use web forms): contracts/cafpsu holds the
// interface Relais designed, built on the CAF's public calendar and
// figures, and the shared runtime of mocks/platform enforces it (routing,
// validation, Idempotency-Key, faults, the self-check of every answer).
//
// The path of one request:
//
//	platform.Server (route, fault, bearer token, validate, Idempotency-Key)
//	  -> token (auth.go), getStructure (structures.go), createDeclaration,
//	     listDeclarations, getDeclaration (declarations.go)
//	  -> problem details for every refusal (errors.go).
//
// A declaration is checked against its structure (SIRET, FINESS), the
// calendar of calendar.go in Paris time by the injected clock (Options.Now),
// its months and figures; declaring the same year and kind again creates a
// new version that supersedes the last, and every version keeps its
// number. A client may act only for the structures it manages.
//
// The sandbox structures (fixtures.go) come with a history: Les Lucioles
// (75012345) has an actual of 2024 in two versions, a forecast and a June
// update of 2025; the sandbox structure 99000001 takes declarations at any
// date, so that examples work whatever the day.
//
// The mock starts no goroutine.
package cafpsu
