// Package francetravailcontract holds Relais' contract for the France Travail
// partner APIs: the OAuth2 token of the /partenaire realm, the search of a
// person (rechercher-usager v2, by birth date and NIR or by France Travail
// number) that yields a person token, and two reads of the person's
// situation that take that token in the ft-jeton-usager header (designed by
// Relais: the real routes are not public). The OpenAPI 3.1 document is
// embedded and says which parts are facts and which are designed.
//
// Spec returns the document, Load parses and validates it, and Platform
// returns the checks `relais contracts verify` runs against our mock
// (mocks/francetravail) or a real sandbox: Authorize fetches an access token
// from the token endpoint first, with the client id and secret taken from
// RELAIS_CONTRACT_FRANCETRAVAIL_CLIENT_ID and _CLIENT_SECRET.
package francetravailcontract
