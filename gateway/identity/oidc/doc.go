// Package oidc is Relais' OpenID Connect relying party: it signs citizens in
// through FranceConnect v2 and FranceConnect+, and professionals through
// ProConnect and Pro Santé Connect, or through any conformant OpenID
// Provider.
//
// One RelyingParty serves one configured provider (Config). New runs
// discovery (go-oidc's NewProvider), so endpoints come from the provider's
// metadata, never from hard-coded paths. A login is two calls:
//
//   - Begin stores a Pending login (state, nonce, PKCE S256 verifier, the
//     hash of a browser-binding secret, the operation's minimum acr) in a
//     PendingStore and returns the authorization URL; the HTTP layer sets
//     the Cookie and redirects.
//   - Callback takes the pending login by state (single use), checks the
//     browser binding, surfaces an error the provider sent on the redirect
//     (with a French message), exchanges the code with the PKCE verifier and
//     checks the tokens: JWE decryption with Relais' DecryptionKeys and
//     refusal of plain tokens for FranceConnect+, alg ES256 or RS256 only,
//     signature against the provider's JWKS, iss, aud, exp and iat with a
//     leeway (30 s by default), nonce, acr on the eidas1 < eidas2 < eidas3
//     scale; then the userinfo, a signed (and for FranceConnect+ encrypted)
//     JWT whose sub must be the id_token's. ProConnect logins must carry a
//     14-digit siret, which binds the professional to a tenant.
//
// MemoryPending keeps pending logins in memory, for one replica and tests;
// gateway.StorePending keeps them in the database (sealed, keyed by the
// state's hash, taken with one DELETE ... RETURNING) so that a login started
// on one replica may come back on another.
//
// LogoutURL builds the end_session redirect with id_token_hint.
// DecryptionKeys.Handler serves Relais' public encryption keys (the JWKS URL
// registered at FranceConnect+).
//
// Every failure is an *Error with a stable Code and a plain French Message
// for the person. The package starts no goroutine of its own (go-oidc's key
// set fetches on the caller's goroutine).
package oidc
