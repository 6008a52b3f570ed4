// Package connectors holds the runtime every destination connector shares:
// the Connector interface, the explicit Registry, outcome classification, and
// the http.RoundTripper stack (auth, rate limit, circuit breaker, in-call
// retries, metrics, redacting logger) that each connector assembles in one
// readable function.
//
// One package per platform lives below it (connectors/coffrefort, ...).
package connectors
