// Package cafpsu delivers a crèche's PSU declaration (a
// connectors.ReportDelivery of kind psu_declaration, its body made by
// mapping/indicators) to the CAF declaration API Relais designed
// (contracts/cafpsu; mocks/cafpsu serves it).
//
// One Deliver is one call: POST /v1/structures/{partner}/declarations with
// the delivery's Idempotency-Key, after an OAuth2 client credentials token
// (the stack's auth). The structure's CAF partner number comes from the
// configuration, by the report's FINESS. A correction is a new version:
// the API supersedes the last declaration of the same year and kind, so a
// newer report version replaces the previous one without Relais naming it;
// a replay under the same key gets the first answer and creates nothing.
// The receipt's RemoteID is the declaration number.
package cafpsu
