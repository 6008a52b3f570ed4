// Package cafpsucontract holds Relais' contract for the activity
// declarations of crèches (EAJE) funded by the CAF's PSU: forecast, actual
// and the June and September updates, with their deadlines, corrections
// (a new version supersedes the last) and history. The CAF publishes no API
// for this (today it is web forms on its partner portal): the interface is
// designed by Relais, and the OpenAPI 3.1 document (embedded) says which
// parts are the CAF's facts.
//
// Spec returns the document, Load parses and validates it, and Platform
// returns the checks `relais contracts verify` runs against our mock
// (mocks/cafpsu) or a future real service: Authorize fetches an OAuth2
// token with RELAIS_CONTRACT_CAFPSU_CLIENT_ID and _CLIENT_SECRET first.
package cafpsucontract
