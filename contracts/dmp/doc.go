// Package dmpcontract holds Relais' contract for the shared health record
// (DMP, "Mon espace santé"): an OpenAPI 3.1 document of the IHE MHD
// transactions on FHIR R4 as the ANS PDSm guide profiles them (ITI-65
// provide, ITI-67 find, ITI-68 retrieve, and the CapabilityStatement),
// embedded in the binary. Its info.description says which parts are facts
// from the guide and which Relais designed, starting with whether the
// production record exposes this interface at all (unknown).
//
// Spec returns the document's bytes and Load parses and validates it.
// Platform describes the checks `relais contracts verify` runs against a
// target: our mock (mocks/dmp) by default, or a real server with the
// bearer token from RELAIS_CONTRACT_DMP_TOKEN. The package's tests run
// every case against the mock, so the mock and the contract cannot drift
// apart.
package dmpcontract
