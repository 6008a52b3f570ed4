// Package indicateurscontract holds Relais' contract for the reporting
// endpoint that receives an establishment's yearly activity indicators:
// the indicator report of mapping/indicators (relais.indicators/v1),
// POSTed per establishment (FINESS) and year with its version, a higher
// version replacing the current one, and a receipt for each. The real
// import format (the medico-social performance dashboard's, the ARS' or
// the departments') is UNKNOWN (PLATFORMS.md §10): the interface is
// designed by Relais, and the OpenAPI 3.1 document (embedded) says so.
//
// Spec returns the document, Load parses and validates it, and Platform
// returns the checks `relais contracts verify` runs against our mock
// (mocks/indicateurs) or a real endpoint, with the API key from
// RELAIS_CONTRACT_INDICATEURS_TOKEN.
package indicateurscontract
