// Package apiparticuliercontract holds Relais' contract for API Particulier
// v3, the State gateway to the CAF/MSA benefits (quotient familial, crèche
// fee figures, prime d'activité, RSA, AAH, AEEH, ASF, complémentaire santé
// solidaire, each by civil status or through FranceConnect) and to France
// Travail (registration, payments): an OpenAPI 3.1 document, embedded in the
// binary, whose description says which parts are facts from the platform's
// published material and which Relais designed.
//
// Spec returns the document's bytes and Load parses and validates it.
// Platform describes the checks `relais contracts verify` runs against a
// target: our mock (mocks/apiparticulier) by default, or the platform's
// sandbox with the credentials of RELAIS_CONTRACT_APIPARTICULIER_TOKEN and
// RELAIS_CONTRACT_APIPARTICULIER_FC_TOKEN. The package's tests run those
// checks against the mock, so the mock and the contract cannot drift apart.
package apiparticuliercontract
