// Package web is the browser side of Relais' sign-in: the /auth routes that
// send a person to an OpenID Provider and take them back, server-side
// sessions, CSRF protection of state-changing forms, the consent a citizen
// gives when signing in through FranceConnect, and the /compte page.
//
// The flow of one login, in the order the data moves:
//
//  1. GET /auth/{provider}/login?return_to=/compte: the relying party of
//     gateway/identity/oidc stores a pending login and returns the OP's
//     authorization URL; the handler sets the binding cookie and redirects.
//  2. The person signs in at the OP and comes back to
//     GET /auth/{provider}/callback: oidc.RelyingParty.Callback checks the
//     state, binding, tokens and userinfo. A failure is shown as a French
//     page with the error's French message (never a code alone).
//  3. On success the handler drops any session the browser had and creates a
//     new one (session rotation): a random 256-bit id in an HttpOnly,
//     SameSite=Lax cookie (Secure outside the sandbox), living as long as the
//     provider's own session (30 min FranceConnect, 10 min FranceConnect+,
//     12 h ProConnect), capped by Config.SessionTTL.
//  4. For a FranceConnect or FranceConnect+ login it records a
//     mandate.Consent: the person reference (a keyed hash of the identity
//     pivot), the tenant, the data categories and platforms, when and until
//     when. The FranceConnect access token stays in the session, in memory
//     only, until it expires; it is never written to the database.
//  5. It redirects to return_to, which must be a local path.
//
// POST /auth/logout needs the session's synchronizer token (a hidden form
// field, compared in constant time), clears the session and sends the browser
// to the OP's end_session URL. GET /.well-known/jwks.json publishes Relais'
// public encryption keys (the JWKS URL registered at FranceConnect+).
//
// Sessions live behind the small SessionStore interface. This step ships
// MemorySessions (bounded by a TTL and a size, for one replica and tests); a
// store-backed implementation on gateway/store comes next so that several
// replicas share sessions. The package starts no goroutine.
package web
