// Package indicateurs is a stateful mock of the reporting endpoint that
// receives an establishment's yearly activity indicators (the indicator
// report of mapping/indicators). The real import format is UNKNOWN:
// contracts/indicateurs holds the interface Relais designed, and the
// shared runtime of mocks/platform enforces it (routing, validation of
// the report against its schema, API key, Idempotency-Key, faults, the
// self-check of every answer).
//
// The path of one request:
//
//	platform.Server (route, fault, API key, validate, Idempotency-Key)
//	  -> submit (reports.go): the FINESS, the period within the year,
//	     then the version rules; store and answer the receipt
//	  -> list (reports.go): the versions of a report, oldest first
//	  -> problem details for every refusal (errors.go).
//
// A report is kept per establishment and year, with all its versions. The
// same content as any version received is a replay (200 and that version's
// receipt, nothing stored); a higher version than the current one is
// stored and supersedes it; a lower version is refused (409
// OUTDATED_VERSION), another content under the current version too (409
// VERSION_CONFLICT). Counts, StoredPerKey and Versions let tests check
// that nothing was duplicated.
//
// The sandbox holds, from start and after a reset, the 2023 report of
// 750000010 in two versions.
//
// The mock starts no goroutine.
package indicateurs
