// Package coffrefortcontract holds Relais' contract for the digital safe
// ("coffre-fort numérique", Reconnect API v3 shape): an OpenAPI 3.1
// document, embedded in the binary, that says which parts are facts from the
// platform's public description and which we designed.
//
// Spec returns the document's bytes, Load parses and validates it with
// kin-openapi. The package's test starts the mock of mocks/coffrefort and
// checks every operation, request and response, against the document, so
// the mock and the contract cannot drift apart; connectors' conformance
// suites can load the same document to check their own traffic.
package coffrefortcontract
