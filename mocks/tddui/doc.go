// Package tddui is a stateful mock of a system that receives an
// establishment's activity as the ANS "transfert de données DUI" guide
// (TDDUI) describes it: FHIR R4 transaction Bundles POSTed to /fhir. The
// receiving system is UNKNOWN; contracts/tddui holds the interface Relais
// designed for it, which the shared runtime of mocks/platform enforces
// (routing, validation, idempotency keys, faults, the self-check of every
// answer).
//
// The path of one request:
//
//	platform.Server (route, fault, bearer token, validate, Idempotency-Key)
//	  -> transaction (state.go): decode, replay or refuse a known
//	     Bundle.identifier, analyze (check.go), store, answer the
//	     transaction-response with the Task's Location
//	  -> readTask (state.go): the Task as of the injected clock.
//
// analyze splits its findings three ways: what refuses the Bundle at once
// (422: identifier formats, profiles, periods), what rejects it during
// processing (an absence without reason, references to persons or stays
// the receiver never got, a FINESS that is not the Organization's) and
// warnings (no meta.profile, no Organization, a Slot without status or
// schedule: what Relais' mapper leaves out today). A submission's Task is
// received, then in-progress, then completed or rejected as
// Options.ProcessingDelay passes on Options.Now; nothing runs in the
// background. Resources are kept by business identifier, so a person sent
// again is updated (200 OK, version 2), not duplicated.
//
// Two sandbox submissions are received at start and on reset: Task
// sandbox-accepted (the mapper's output for two persons) and
// sandbox-rejected (an absence without reason).
//
// The mock starts no goroutine.
package tddui
