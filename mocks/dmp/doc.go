// Package dmp is a stateful mock of the shared health record (DMP, "Mon
// espace santé") as the ANS PDSm guide describes it: IHE MHD on FHIR R4.
// Whether the production record exposes this interface is unknown; the
// contract in contracts/dmp says what is fact and what Relais designed.
//
// A *Server is an http.Handler built on the shared mock runtime
// (mocks/platform), which routes and validates every request against the
// contract, answers its refusals as OperationOutcome (writeProblem), checks
// bearer tokens (authenticate), deduplicates provide requests that carry an
// Idempotency-Key, injects faults and serves the control API under /_mock/.
// The handlers hold one document store per patient (by INS):
//
//	POST /fhir                      provide.go   ITI-65: parseBundle checks the
//	                                             rules that need no state, then
//	                                             store.commit refuses, replays or
//	                                             stores the submission
//	GET  /fhir/DocumentReference    find.go      ITI-67, by patient.identifier and status
//	GET  /fhir/Binary/{id}          retrieve.go  ITI-68, Binary resource or raw bytes
//	GET  /fhir/metadata             capabilities.go
//
// Deduplication is by masterIdentifier: a bundle that repeats an earlier
// submission (same documents, same contents) gets the earlier answer with
// entry status "200 OK" and is counted in Stats.Replayed; any other reuse of
// a masterIdentifier is refused with 422. A DocumentReference that replaces
// another one (relatesTo replaces) makes it superseded.
//
// The store starts with the fixtures under fixtures/: three test patients
// with INS test NIRs, and one document (a PDF) in the record of one of
// them, loaded through the same checks as a client's submission. The clock
// is Options.Now. The package starts no goroutine.
package dmp
