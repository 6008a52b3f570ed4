// Package tddui delivers one chunk of an establishment's activity report
// (a connectors.ReportDelivery of kind tddui_bundle, its body the FHIR
// transaction Bundle mapping/tddui made) to a TDDUI receiver, as Relais
// designed its interface (contracts/tddui; mocks/tddui serves it).
//
// One Deliver is one call: POST {base_url}/fhir with the Bundle as
// application/fhir+json, the delivery's Idempotency-Key and the
// establishment's bearer token (the stack's auth). The receipt's RemoteID
// is the id of the transaction-response, which is also the id of the Task
// that follows the processing (GET /fhir/Task/{id}); its time is the
// answer's timestamp.
//
// Corrections need nothing from the connector: every version of a chunk
// carries the same Bundle.identifier and its version in
// Bundle.meta.versionId, and the receiver takes a higher version as the
// replacement of the current one (the previous Task is cancelled,
// resources are updated, not duplicated). A replay of the same content
// gets the first answer again. Before sending, the connector checks that
// the body is a transaction Bundle with an identifier and the delivery's
// version, so a mix-up never replaces the wrong chunk.
//
// Refusals are FHIR OperationOutcomes: the error keeps the body, and its
// Code is the first error issue's code (e.g. "conflict" for a version
// older than the receiver's, "duplicate" for another content under the
// same version, "value" for an identifier format). Statuses are classified
// as every connector does (connectors.ClassifyStatus): 4xx Permanent, 408,
// 429 and 5xx Retryable with Retry-After.
package tddui
