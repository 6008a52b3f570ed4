// Package oidc is a working mock of the OpenID Providers Relais signs
// people in with: FranceConnect v2, FranceConnect+, ProConnect and Pro Santé
// Connect. Where mocks/idp only publishes a provider's discovery document
// and keys, this package runs the whole authorization code flow on
// zitadel/oidc's certified op package: authorize, a French login and
// consent page with test users, token, userinfo and end_session.
//
// New(idp.Profile, Options) returns a Provider, an http.Handler that
// serves, under the issuer's path:
//
//   - the discovery document and the JWKS, through mocks/idp (so they keep
//     matching contracts/<provider>);
//   - authorize, authorize/callback, token and end_session, handled by
//     op.Provider over this package's in-memory op.Storage;
//   - userinfo, answered as a signed JWT (application/jwt) as FranceConnect
//     and ProConnect do: op.Provider answers JSON, the Provider signs it;
//   - login and consent, server-rendered HTML in French, without
//     JavaScript.
//
// The storage holds auth requests, single-use codes (30 s), access tokens
// (60 s) and the clients of Options.Clients; id_tokens live 60 s. It
// enforces what the platforms require on top of OpenID Connect: state and
// nonce (22 characters on FranceConnect, 32 on ProConnect), acr_values,
// PKCE S256 when asked. Subjects are pairwise (an HMAC of the client and
// the user) on FranceConnect and FranceConnect+. On FranceConnect+, the
// id_token and the userinfo JWT are also encrypted to the client's key
// (nested JWT: signed, then a JWE with cty "JWT", A256GCM).
//
// The test users are fixtures of our own (Citizens, Professionals,
// HealthProfessionals), some with the identities of the API Particulier
// sandbox cases so that a flow can continue into mocks/apiparticulier.
//
// The package starts no goroutine; its tests run httptest servers and check
// for leaks.
package oidc
