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
//	  -> transaction (state.go): decode, replay, replace or refuse a
//	     known Bundle.identifier, analyze (check.go), store, answer the
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
// A Bundle.identifier names one chunk of one report across its versions
// (Bundle.meta.versionId, none counting as 0). The same content as any
// version received is a replay (its first answer, nothing stored); a
// higher version replaces the current one: stored with its own Task, the
// resources it sends again updated, those only the replaced version held
// removed, and the replaced Task cancelled ("remplacée"); a lower version
// is refused with 409 (issue code conflict), another content under the
// same version too (issue code duplicate). Counts, StoredPerIdentifier and
// StoredPerKey let tests check that nothing was duplicated.
//
// Two sandbox submissions are received at start and on reset: Task
// sandbox-accepted (the mapper's output for two persons) and
// sandbox-rejected (an absence without reason).
//
// The mock starts no goroutine.
package tddui
