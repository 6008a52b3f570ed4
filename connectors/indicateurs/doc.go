// Package indicateurs delivers an establishment's indicator report (a
// connectors.ReportDelivery of kind indicators, its body the JSON of
// mapping/indicators) to the reporting endpoint Relais designed
// (contracts/indicateurs; mocks/indicateurs serves it), the real import
// format being UNKNOWN.
//
// One Deliver is one call: POST
// {base_url}/v1/establishments/{finess}/indicator-reports/{year} with the
// report's version in Report-Version, the delivery's Idempotency-Key and
// the API key as a bearer token. The year is the report period's, which
// must lie within one year. A correction is a higher version: the endpoint
// supersedes the current one without Relais naming it; the same version
// sent again gets its first receipt and stores nothing. The receipt's
// RemoteID is the receipt number; refusals keep the problem details and
// their code (e.g. OUTDATED_VERSION) in connectors.Error.Code.
package indicateurs
