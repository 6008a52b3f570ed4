// Package coffrefort is a stateful mock of the digital safe ("coffre-fort
// numérique"), shaped like the public description of the Reconnect API v3.
//
// A *Server is an http.Handler: wrap it in httptest.NewServer in unit tests,
// or mount it in `relais mocks`. It keeps beneficiaries and documents in
// memory, issues OAuth2 client-credentials tokens that expire by an injected
// clock, and deduplicates creations that carry an Idempotency-Key header.
// contracts/coffrefort holds the OpenAPI document this server answers to,
// and its test checks every operation of the mock against it.
//
// The path of one request:
//
//	ServeHTTP (ServeMux patterns, one per route)
//	  -> serve: count, inject faults (latency, error rate, outage), check
//	     the bearer token and its scope, serialise by Idempotency-Key
//	  -> the route's handler (token.go, beneficiaries.go, documents.go)
//	     returns a reply
//	  -> serve writes the reply and appends a LogEntry.
//
// Faults are injected before any processing, so an injected error never
// creates anything. They are set from Go with SetFaults or over HTTP through
// the control API under /__control/ (faults, stats, reset), which needs no
// token, is never subject to faults and is not counted or logged.
//
// The server starts no goroutine of its own; latency faults wait on the
// request's context, so a client that gives up releases the handler at once.
package coffrefort
