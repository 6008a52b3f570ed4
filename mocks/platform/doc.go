// Package platform is the runtime every mock platform shares (mocks/apiparticulier,
// mocks/francetravail, mocks/dmp, ...). A mock supplies its contract (an OpenAPI
// document), its operations' handlers and its error format; platform adds what
// every real platform does to its callers:
//
//   - routing by the contract's paths and validation of every request against it,
//     answered in the platform's own error format and counted;
//   - per-token rate limits with RateLimit-* headers and 429 + Retry-After;
//   - deduplication per idempotency key, with a duplicate counter;
//   - faults set per operation at run time: a latency distribution, an error rate,
//     a fixed status, Retry-After, hangs, truncated bodies, malformed JSON,
//     schema drift (a field renamed, removed or retyped) and outage windows;
//   - a control API under /_mock/ (faults, stats, reset);
//   - a self-check: every answer of a handler is validated against the contract and
//     counted when it does not match.
//
// A Server is an http.Handler, so a mock runs under httptest in unit tests, in the
// contract suites and in `relais mocks` alike.
//
// # The path of one request
//
// ServeHTTP (server.go) takes every request through these steps, in order; the
// first that answers ends it:
//
//  1. /_mock/... goes to the control API (control.go), never faulted or counted.
//  2. The router (contract.go, kin-openapi's gorillamux) finds the operation by
//     path only: servers keep their base path ("https://host/fhir" matches
//     "/fhir/Patient" on any host). No path: KindNotFound (404); a path without
//     this method: KindMethod (405, Allow).
//  3. The request is counted, its body read (at most Config.MaxBody), and the
//     first fault Rule naming the operation (or naming none) is picked
//     (faultset.go): an outage window (KindOutage, 503, Retry-After), a hang
//     (no answer until the client gives up or Config.MaxHang passes), a
//     latency, an injected error (KindInjected with the rule's status).
//  4. Config.IPRateLimit (ratelimit.go), per client IP address, before
//     authentication: its RateLimit-* headers are on every answer of a
//     rate-limited operation, 401 and 403 included; over the limit,
//     KindRateLimited (429, Retry-After) without authenticating.
//  5. Config.Authenticate (or AuthenticateFunc), for operations with a
//     security requirement, gives the caller's key or a Problem;
//     AuthenticateFunc also gives a principal (an account, a citizen) the
//     handler reads with Principal(r). BearerToken reads the token,
//     StaticToken accepts the one fixed token of a platform, and Tokens
//     (tokens.go) stores those a mock's token endpoint issues.
//  6. Config.RateLimit, per key (the client's IP address when the
//     operation is open): RateLimit-Limit, -Remaining and -Reset (seconds
//     until the window ends, or its Unix time with ResetUnix) replace those
//     of step 4, KindRateLimited (429, Retry-After) over the limit.
//  7. The request is validated against the contract (validate.go,
//     schemas.go): KindInvalidRequest names the parameter ("annee") or the
//     body field's JSON pointer ("/recipient/prenoms/0", the deepest
//     failure) in Problem.Parameter, and never quotes the value sent.
//  8. Operations marked `x-relais-idempotent: true` are deduplicated by
//     Config.IdempotencyHeader (dedup.go): the same key and request replays
//     the first answer (its body byte for byte) with the header
//     `Idempotent-Replayed: true` (ReplayedHeader) added; another request
//     under the same key is KindConflict (409).
//  9. The handler answers into a buffer (answer.go); the answer is validated
//     against the contract and counted in Stats.ResponseViolations (and
//     logged) when it breaks it.
//  10. The answer is sent, altered by the rule's response faults: drift on
//     2xx JSON bodies (drift.go), malformed JSON, truncation; it is counted
//     by status in Stats.ByStatus (business refusals of handlers included).
//
// Every Problem is written by Config.Errors in the platform's own format; it
// may choose another status (API Particulier answers 422 where the runtime
// proposes 400). The platforms whose API Relais designed share one format,
// problem details with a stable code: ProblemWriter (problemdetails.go)
// writes it, the runtime's refusals included. The answers a contract must document (invalid request,
// authentication, rate limit, conflict) are checked against it as well.
//
// # Contract extensions
//
// On an operation, `x-relais-idempotent: true` turns deduplication on and
// `x-relais-rate-limited: false` exempts it from Config.RateLimit and
// Config.IPRateLimit (e.g. a token endpoint).
//
// # Validation cost
//
// kin-openapi v0.153 validates values of OpenAPI 3.1 documents by compiling
// a JSON Schema 2020-12 validator on every call. The runtime avoids it:
//
//   - JSON, form and multipart bodies are validated by validators compiled
//     once per media type of each request body and response, from the
//     whole contract as one JSON Schema resource (schemas.go), with kin's
//     format assertions (date, date-time, byte, int32, int64; uri, email
//     and other formats are annotations, as with kin);
//   - parameters and response headers are validated by kin on a copy of
//     the document that claims OpenAPI 3.0.3, so kin uses its 3.0
//     validator, which needs no compilation, when every such schema uses
//     only keywords that mean the same in 3.0 and 3.1 (no const, no list
//     of types, no exclusiveMinimum, ...); otherwise kin validates them as
//     3.1, slowly but right;
//   - other media types (XML, PDF, binary) are left to kin.
//
// A loaded contract (document, router, compiled validators) is cached by
// the SHA-256 of its text and shared, read-only, by every Server built
// from it: Server.Contract must not be modified.
//
// # Faults
//
// Faults are set with Server.SetFaults, over PUT /_mock/faults (JSON), or
// from a `--faults FILE` read by LoadFaults (YAML or JSON, one entry per
// platform). They are validated strictly: errors name the faulty field
// ("rules[1].drift[0].to: ..."). Randomness comes from a source seeded by
// Config.Seed and reseeded by Reset, so a run repeats.
//
// # Goroutines
//
// A Server starts none and needs no Stop. Latency and hangs wait on a timer
// and the request's context. Truncation and the end of a hang abort the
// connection with panic(http.ErrAbortHandler), which net/http servers
// (httptest.NewServer included) handle silently: drive faulty mocks through
// a real server, not an httptest.ResponseRecorder.
package platform
