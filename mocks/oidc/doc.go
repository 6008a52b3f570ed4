// Package oidc is a working mock of the OpenID Providers Relais signs
// people in with: FranceConnect v2, FranceConnect+, ProConnect and Pro Santé
// Connect, one mock per provider. It runs the whole authorization code flow
// on zitadel/oidc's certified op package: discovery, JWKS, authorize, a
// French login and consent page with test users, token, userinfo and
// end_session.
//
// A Profile holds what a provider advertises (paths, scopes, claims, acr
// values, algorithms), one constructor per provider (FranceConnect,
// FranceConnectPlus, ProConnect, ProSanteConnect), and builds its metadata
// with Discovery. New(Profile, Options) returns a Provider, an
// http.Handler that serves, under the issuer's path:
//
//   - the discovery document and the JWKS on the shared mock runtime
//     (mocks/platform): routed and checked by contracts/<provider>, with
//     faults, counters and the /_mock/ control API (Provider.Platform), so
//     that `relais mocks` and `relais contracts verify` check them;
//   - authorize, authorize/callback, token and end_session, handled by
//     op.Provider over this package's in-memory op.Storage;
//   - userinfo, answered as a signed JWT (application/jwt) as FranceConnect
//     and ProConnect do: op.Provider answers JSON, the Provider signs it;
//   - login and consent, server-rendered HTML in French, without
//     JavaScript.
//
// The issuer is Options.Issuer, or, when it is empty, each request's scheme
// and Host plus the profile's issuer path: a provider built before it
// listens (`relais mocks`, `relais sandbox`) names itself wherever it is
// served. The keys are real: GenerateKeySet makes one per algorithm of the
// profile (ES256 on P-256, RS256 on 2048-bit RSA) with go-jose.
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
