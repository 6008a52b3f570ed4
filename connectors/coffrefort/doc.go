// Package coffrefort delivers documents to the social sector's digital safe
// ("coffre-fort numérique"), shaped like the Reconnect API v3.
//
// A deposit takes up to four calls, each through the destination's
// connectors.Stack (OAuth2 client credentials with a JSON token request at
// POST /api/token, rate limit, circuit breaker, metrics, redacting logger):
//
//  1. GET /api/v3/beneficiaries?distantId=… finds the beneficiary by the
//     ESMS software's identifier; the answer is cached in process.
//  2. POST /api/v3/beneficiaries creates it when absent, with the
//     Idempotency-Key "<delivery key>:beneficiary"; a 409 names the
//     beneficiary that already holds the distant_id, which is then used.
//  3. POST /api/v3/documents uploads the file as multipart/form-data,
//     streamed from the document store through an io.Pipe, with the
//     delivery's Idempotency-Key. The size and SHA-256 are checked while
//     streaming and against the platform's answer; a mismatch is a
//     Permanent error.
//  4. PATCH /api/v3/documents/{id}/toggle-visibility shares the document
//     with the beneficiary's professionals when asked to. The toggle is not
//     idempotent, so the connector decides from the document's current
//     state (read again with GET /api/v3/documents/{id} when the upload was
//     a replay, whose body is the original answer).
//
// The receipt's RemoteID is the platform's document id. Every failure is a
// classified *connectors.Error keeping the platform's error body, or a
// *connectors.BreakerOpenError.
package coffrefort
