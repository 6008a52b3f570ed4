package oidc

import (
	"github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	franceconnectcontract "github.com/relais-dev/relais/contracts/franceconnect"
	franceconnectpluscontract "github.com/relais-dev/relais/contracts/franceconnectplus"
	proconnectcontract "github.com/relais-dev/relais/contracts/proconnect"
	prosanteconnectcontract "github.com/relais-dev/relais/contracts/prosanteconnect"
)

// Profile is what one OpenID Provider publishes: where its endpoints are
// and what it supports. The four providers Relais talks to have a
// constructor each (FranceConnect, FranceConnectPlus, ProConnect,
// ProSanteConnect); a test may change a copy.
type Profile struct {
	// Name is the platform's stable name ("franceconnect").
	Name string
	// Contract is the provider's OpenAPI document (contracts/<Name>): its
	// paths are the ones the mock serves.
	Contract []byte
	// IssuerPath is the issuer's path on its host ("/api/v2").
	IssuerPath string
	// The endpoints' paths, relative to the issuer. DiscoveryPath and
	// JWKSPath must be those of Contract. IntrospectionPath is optional.
	DiscoveryPath, JWKSPath                                    string
	AuthorizationPath, TokenPath, UserinfoPath, EndSessionPath string
	IntrospectionPath                                          string
	Scopes, Claims, ACRValues                                  []string
	ResponseTypes, ResponseModes, GrantTypes, SubjectTypes     []string
	TokenEndpointAuthMethods                                   []oidc.AuthMethod
	IDTokenSigningAlgs, UserinfoSigningAlgs                    []string
	IDTokenEncryptionAlgs, IDTokenEncryptionEncs               []string
	UserinfoEncryptionAlgs, UserinfoEncryptionEncs             []string
	CodeChallengeMethods                                       []oidc.CodeChallengeMethod
	ClaimsParameterSupported, RequestParameterSupported        bool
	// KeyAlgorithms are the signing keys the provider publishes, one key
	// per algorithm (ES256, RS256...).
	KeyAlgorithms []jose.SignatureAlgorithm
}

// Discovery is the provider metadata for issuer (the issuer's absolute
// URL, without a trailing slash).
func (p Profile) Discovery(issuer string) *oidc.DiscoveryConfiguration {
	at := func(path string) string {
		if path == "" {
			return ""
		}
		return issuer + path
	}
	return &oidc.DiscoveryConfiguration{
		Issuer:                               issuer,
		AuthorizationEndpoint:                at(p.AuthorizationPath),
		TokenEndpoint:                        at(p.TokenPath),
		IntrospectionEndpoint:                at(p.IntrospectionPath),
		UserinfoEndpoint:                     at(p.UserinfoPath),
		EndSessionEndpoint:                   at(p.EndSessionPath),
		JwksURI:                              at(p.JWKSPath),
		ScopesSupported:                      p.Scopes,
		ResponseTypesSupported:               p.ResponseTypes,
		ResponseModesSupported:               p.ResponseModes,
		GrantTypesSupported:                  grantTypes(p.GrantTypes),
		ACRValuesSupported:                   p.ACRValues,
		SubjectTypesSupported:                p.SubjectTypes,
		IDTokenSigningAlgValuesSupported:     p.IDTokenSigningAlgs,
		IDTokenEncryptionAlgValuesSupported:  p.IDTokenEncryptionAlgs,
		IDTokenEncryptionEncValuesSupported:  p.IDTokenEncryptionEncs,
		UserinfoSigningAlgValuesSupported:    p.UserinfoSigningAlgs,
		UserinfoEncryptionAlgValuesSupported: p.UserinfoEncryptionAlgs,
		UserinfoEncryptionEncValuesSupported: p.UserinfoEncryptionEncs,
		TokenEndpointAuthMethodsSupported:    p.TokenEndpointAuthMethods,
		ClaimsSupported:                      p.Claims,
		ClaimsParameterSupported:             p.ClaimsParameterSupported,
		CodeChallengeMethodsSupported:        p.CodeChallengeMethods,
		RequestParameterSupported:            p.RequestParameterSupported,
	}
}

func grantTypes(in []string) []oidc.GrantType {
	out := make([]oidc.GrantType, len(in))
	for i, g := range in {
		out[i] = oidc.GrantType(g)
	}
	return out
}

// The routes FranceConnect, FranceConnect+ and ProConnect share.
const (
	apiV2Issuer = "/api/v2"
	wellKnown   = "/.well-known/openid-configuration"
)

// FranceConnect is FranceConnect v2 (citizens, eIDAS low: acr eidas1).
func FranceConnect() Profile {
	return Profile{
		Name:              "franceconnect",
		Contract:          franceconnectcontract.Spec(),
		IssuerPath:        apiV2Issuer,
		DiscoveryPath:     wellKnown,
		JWKSPath:          "/jwks",
		AuthorizationPath: "/authorize",
		TokenPath:         "/token",
		UserinfoPath:      "/userinfo",
		EndSessionPath:    "/session/end",
		Scopes: []string{"openid", "identite_pivot", "given_name", "family_name", "birthdate", "gender", "birthplace",
			"birthcountry", "email", "preferred_username", "profile", "birth", "idp_birthdate"},
		Claims: []string{"sub", "given_name", "given_name_array", "family_name", "birthdate", "gender", "birthplace",
			"birthcountry", "email", "preferred_username", "idp_birthdate", "amr", "acr"},
		ACRValues:                []string{"eidas1"},
		ResponseTypes:            []string{"code"},
		GrantTypes:               []string{"authorization_code"},
		SubjectTypes:             []string{"pairwise"},
		TokenEndpointAuthMethods: []oidc.AuthMethod{oidc.AuthMethodPost, oidc.AuthMethodPrivateKeyJWT},
		IDTokenSigningAlgs:       []string{"HS256", "ES256", "RS256"},
		UserinfoSigningAlgs:      []string{"HS256", "ES256", "RS256"},
		ClaimsParameterSupported: true,
		KeyAlgorithms:            []jose.SignatureAlgorithm{jose.ES256, jose.RS256},
	}
}

// FranceConnectPlus is FranceConnect+ (citizens, eIDAS substantial and
// high: acr eidas2 and eidas3), whose tokens are signed with ES256 and
// encrypted for the client.
func FranceConnectPlus() Profile {
	p := FranceConnect()
	p.Name = "franceconnectplus"
	p.Contract = franceconnectpluscontract.Spec()
	p.Scopes = []string{"openid", "identite_pivot", "given_name", "family_name", "birthdate", "gender", "birthplace",
		"birthcountry", "email", "preferred_username", "profile", "birth", "rnipp_birth"}
	p.Claims = []string{"sub", "given_name", "given_name_array", "family_name", "birthdate", "gender", "birthplace",
		"birthcountry", "email", "preferred_username", "rnipp_given_name_array", "amr", "acr"}
	p.ACRValues = []string{"eidas2", "eidas3"}
	p.IDTokenSigningAlgs = []string{"ES256"}
	p.UserinfoSigningAlgs = []string{"ES256"}
	p.IDTokenEncryptionAlgs = []string{"ECDH-ES", "RSA-OAEP", "RSA-OAEP-256"}
	p.IDTokenEncryptionEncs = []string{"A256GCM"}
	p.UserinfoEncryptionAlgs = []string{"ECDH-ES", "RSA-OAEP", "RSA-OAEP-256"}
	p.UserinfoEncryptionEncs = []string{"A256GCM"}
	p.KeyAlgorithms = []jose.SignatureAlgorithm{jose.ES256}
	return p
}

// ProConnect is ProConnect (public agents and professionals, tied to an
// organisation by its SIRET).
func ProConnect() Profile {
	return Profile{
		Name:              "proconnect",
		Contract:          proconnectcontract.Spec(),
		IssuerPath:        apiV2Issuer,
		DiscoveryPath:     wellKnown,
		JWKSPath:          "/jwks",
		AuthorizationPath: "/authorize",
		TokenPath:         "/token",
		UserinfoPath:      "/userinfo",
		EndSessionPath:    "/session/end",
		Scopes: []string{"openid", "uid", "given_name", "usual_name", "email", "siren", "siret", "organizational_unit",
			"belonging_population", "phone", "chorusdt", "idp_id", "idp_acr"},
		Claims: []string{"sub", "uid", "given_name", "usual_name", "email", "phone_number", "siren", "siret",
			"organizational_unit", "belonging_population", "chorusdt:matricule", "chorusdt:societe", "idp_id", "idp_acr",
			"amr", "acr", "sid", "auth_time", "iss"},
		ACRValues: []string{"eidas1", "eidas2", "eidas3",
			"https://proconnect.gouv.fr/assurance/self-asserted", "https://proconnect.gouv.fr/assurance/self-asserted-2fa",
			"https://proconnect.gouv.fr/assurance/consistency-checked", "https://proconnect.gouv.fr/assurance/consistency-checked-2fa"},
		ResponseTypes:            []string{"code"},
		GrantTypes:               []string{"authorization_code"},
		SubjectTypes:             []string{"public"},
		TokenEndpointAuthMethods: []oidc.AuthMethod{oidc.AuthMethodPost, oidc.AuthMethodPrivateKeyJWT},
		IDTokenSigningAlgs:       []string{"HS256", "ES256", "RS256"},
		UserinfoSigningAlgs:      []string{"HS256", "ES256", "RS256"},
		ClaimsParameterSupported: true,
		KeyAlgorithms:            []jose.SignatureAlgorithm{jose.ES256, jose.RS256},
	}
}

// ProSanteConnect is Pro Santé Connect (health professionals), a Keycloak
// realm: every endpoint under /auth/realms/esante-wallet.
func ProSanteConnect() Profile {
	const oidcPath = "/protocol/openid-connect"
	return Profile{
		Name:              "prosanteconnect",
		Contract:          prosanteconnectcontract.Spec(),
		IssuerPath:        "/auth/realms/esante-wallet",
		DiscoveryPath:     wellKnown,
		JWKSPath:          oidcPath + "/certs",
		AuthorizationPath: oidcPath + "/auth",
		TokenPath:         oidcPath + "/token",
		UserinfoPath:      oidcPath + "/userinfo",
		EndSessionPath:    oidcPath + "/logout",
		IntrospectionPath: oidcPath + "/token/introspect",
		Scopes:            []string{"openid", "scope_all"},
		Claims: []string{"sub", "iss", "aud", "auth_time", "acr", "given_name", "family_name", "preferred_username",
			"email", "SubjectNameID", "SubjectRole", "SubjectRefPro", "Secteur_Activite"},
		ACRValues:                 []string{"eidas1"},
		ResponseTypes:             []string{"code"},
		ResponseModes:             []string{"query", "fragment", "form_post"},
		GrantTypes:                []string{"authorization_code", "refresh_token"},
		SubjectTypes:              []string{"public", "pairwise"},
		TokenEndpointAuthMethods:  []oidc.AuthMethod{oidc.AuthMethodBasic, oidc.AuthMethodPost, oidc.AuthMethodPrivateKeyJWT},
		IDTokenSigningAlgs:        []string{"RS256", "ES256"},
		UserinfoSigningAlgs:       []string{"RS256", "ES256"},
		CodeChallengeMethods:      []oidc.CodeChallengeMethod{oidc.CodeChallengeMethodPlain, oidc.CodeChallengeMethodS256},
		RequestParameterSupported: true,
		KeyAlgorithms:             []jose.SignatureAlgorithm{jose.RS256, jose.ES256},
	}
}

// Profiles returns the four providers' profiles.
func Profiles() []Profile {
	return []Profile{FranceConnect(), FranceConnectPlus(), ProConnect(), ProSanteConnect()}
}
