// Package prosanteconnectcontract holds Relais' contract for the public documents of
// Pro Santé Connect (health professionals, Keycloak realm esante-wallet): the OpenID Provider metadata at
// /auth/realms/esante-wallet/.well-known/openid-configuration and its JSON Web Key Set. The
// OpenAPI 3.1 document is embedded in the binary; its info.description says
// which values are facts from the provider's public material and which
// Relais designed.
//
// Spec returns the document, Load parses and validates it, and Platform
// describes the checks `relais contracts verify` runs against our mock
// (mocks/oidc) or the real provider. The package's tests run them against
// the mock and check that the published keys verify the mock's signatures.
package prosanteconnectcontract
