// Package tdduicontract holds Relais' contract for the system that receives
// an establishment's activity as the ANS "transfert de données DUI" guide
// (TDDUI) describes it: a FHIR R4 transaction Bundle POSTed to /fhir,
// answered with a transaction-response and a Task that follows the
// processing. The receiving system is UNKNOWN: the HTTP interface is
// designed by Relais, and the OpenAPI 3.1 document (embedded) says which
// parts are the guide's facts.
//
// Spec returns the document, Load parses and validates it, and Platform
// returns the checks `relais contracts verify` runs against our mock
// (mocks/tddui) or a real receiver, with the bearer token from
// RELAIS_CONTRACT_TDDUI_TOKEN.
package tdduicontract
