// Package idp is what remains of the discovery-only mocks of the identity
// providers. They moved into mocks/oidc, whose full OpenID Providers
// (zitadel/oidc's op) serve the same discovery document and JWKS, checked
// against the same contracts: one mock per provider. The aliases here keep
// the last importers compiling until they import mocks/oidc; then the
// package goes.
//
// Deprecated: use github.com/relais-dev/relais/mocks/oidc.
package idp
