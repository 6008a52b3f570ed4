// Package idp mocks the public face of the identity providers Relais
// relies on: FranceConnect v2, FranceConnect+, ProConnect and Pro Santé
// Connect. For each, it serves the OpenID Provider metadata (discovery)
// and the JSON Web Key Set, as the contracts in contracts/franceconnect,
// contracts/franceconnectplus, contracts/proconnect and
// contracts/prosanteconnect describe them.
//
// New(Profile, Options) returns an http.Handler built on the shared mock
// runtime (mocks/platform: routing and validation by the contract, faults,
// counters, the /_mock/ control API). A Profile holds what the provider
// advertises (paths, scopes, claims, acr values, algorithms) and builds its
// metadata with Discovery, as zitadel/oidc's DiscoveryConfiguration. The
// issuer is the request's own scheme and host plus the profile's issuer
// path, unless Options.Issuer says otherwise, so the metadata points at the
// mock under httptest and `relais mocks` alike.
//
// The keys are real: New generates one per algorithm of the profile
// (ES256 on P-256, RS256 on 2048-bit RSA) with go-jose, and KeySet.Public is
// the published set. Tests sign tokens with Server.Keys; a later full
// OpenID Provider (zitadel/oidc's op package) can take the same Profile and
// KeySet, whose SigningKey has op.SigningKey's methods.
//
// The package starts no goroutine.
package idp
