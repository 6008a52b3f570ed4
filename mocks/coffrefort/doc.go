// Package coffrefort is a stateful mock of the digital safe ("coffre-fort
// numérique"), shaped like the public description of the Reconnect API v3.
//
// A *Server is an http.Handler: wrap it in httptest.NewServer in unit tests,
// or mount it in `relais mocks`. It keeps beneficiaries and documents in
// memory, issues OAuth2 client-credentials tokens that expire by an injected
// clock, and deduplicates creations that carry an Idempotency-Key header.
// It runs on the shared runtime of mocks/platform, with contracts/coffrefort
// as its contract.
//
// The path of one request:
//
//	Server.ServeHTTP (server.go): note the request for the log
//	  -> platform.Server: route by the contract, faults, authenticate
//	     (token.go: bearer token and the scope the contract names), rate
//	     limit, validate against the contract
//	  -> the operation's handler (operations.go, then token.go,
//	     beneficiaries.go, documents.go), through the safe's own
//	     deduplication for creations (idempotency.go)
//	  -> every refusal in the safe's formats (errors.go): lexik-JWT 401,
//	     RFC 6749 errors at the token endpoint, Symfony violations (422) for
//	     broken constraints, RFC 9457 problems for the rest
//	  -> the log entry (log.go).
//
// Faults are the runtime's (platform.Faults, rules by operationId), set
// from Go with SetFaults or over HTTP through the runtime's control API
// under /_mock/ (faults, stats, reset), which needs no token, is never
// subject to faults and is neither counted nor logged. Faults that answer
// instead of the safe (errors, outages, hangs) create nothing; faults on the
// answer (truncation, malformed JSON, schema drift) come after the safe
// processed the request, so a retry with the same Idempotency-Key replays
// it.
//
// Deduplication is the safe's own, not the runtime's (`x-relais-idempotent`
// is not set in the contract): the runtime keys a request by a hash of its
// body, and a multipart upload sent again carries another boundary, so it
// would refuse a retry as a conflicting reuse of the key; and the safe
// marks its replays with Idempotent-Replayed: true and counts them itself
// (CreatedPerKey, Stats.DuplicateRequests).
//
// Options.Sandbox preloads the beneficiary and the document the contract's
// examples name (sandbox.go), so that every operation called with its
// documented examples succeeds, as `relais contracts verify` checks.
//
// The server starts no goroutine of its own; latency and hang faults wait
// on the request's context, so a client that gives up releases the handler
// at once (the runtime reads request bodies before any fault for that).
package coffrefort
