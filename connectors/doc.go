// Package connectors holds the runtime every destination connector shares:
// the Connector interface, the explicit Registry, outcome classification, and
// the http.RoundTripper stack (auth, rate limit, circuit breaker, in-call
// retries, metrics, redacting logger) that each connector assembles in one
// readable function.
//
// NewStack builds one destination's *http.Client. From the caller inwards:
// redacting logger, in-call retry of idempotent methods (go-retryablehttp,
// Retry-After honoured and capped), circuit breaker (gobreaker; 5xx,
// timeouts and transport errors count, 4xx and 429 do not), token bucket
// (x/time/rate), credentials (OAuth2 client credentials, form or JSON, cached
// and dropped on a 401; API key; bearer), metrics, per-try timeout, pooled
// transport. Stack.Do adds one more try after a refused access token, and
// Classify and ClassifyTransportError turn what comes back into an *Error.
//
// What every connector does around its calls is written here once:
// ReadAnswer reads a success answer with a bounded body, or classifies the
// answer; DecodeAnswer decodes it, a contract change Permanent and a cut
// answer Retryable; LastOutcomes keeps the last success and failure and
// fills Status with them; BearerConfig and ValidateBaseURL are the
// configuration of destinations reached at one base URL.
//
// One package per platform lives below it (connectors/coffrefort, ...).
package connectors
