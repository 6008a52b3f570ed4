// Package francetravail is a stateful mock of the France Travail partner
// APIs Relais calls: the OAuth2 token of the /partenaire realm, the search
// of a person (rechercher-usager v2) that yields a person token, and the
// person's registration and payments read with that token in the
// ft-jeton-usager header. contracts/francetravail holds the OpenAPI document
// it obeys; the shared runtime of mocks/platform routes and validates every
// request against it, rate-limits each application, injects faults and
// checks every answer of the handlers against the document.
//
// The path of one request:
//
//	platform.Server (route, fault, authenticate: auth.go, rate limit, validate)
//	  -> the operation's handler: token (auth.go), searchByNIR and
//	     searchByNumber (usagers.go), registration and payments (situation.go)
//	  -> the platform's error format for every refusal (errors.go).
//
// The sandbox persons (fixtures.json) are the France Travail cases of API
// Particulier's staging data, with NIRs of our own; each also has a standing
// person token that never expires, so checks can read a situation without
// searching first. Tokens and person tokens issued by the mock expire by the
// injected clock (Options.Now). The real platform is slow (seconds, tens of
// seconds at times); the mock answers at once unless a latency fault is set,
// such as PlatformLatency.
//
// The mock starts no goroutine.
package francetravail
