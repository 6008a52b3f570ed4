package francetravailcontract

import (
	"bytes"
	"context"
	_ "embed" // the contract travels with the binary
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/relais-dev/relais/contracts"
)

//go:embed openapi.yaml
var spec []byte

// Name is the platform's stable name.
const Name = "francetravail"

// The environment variables a real target needs.
const (
	EnvClientID     = "RELAIS_CONTRACT_FRANCETRAVAIL_CLIENT_ID"
	EnvClientSecret = "RELAIS_CONTRACT_FRANCETRAVAIL_CLIENT_SECRET"
	// EnvTokenURL is the token endpoint, absolute, or relative to the
	// target's base URL (the mock serves it beside the APIs).
	EnvTokenURL = "RELAIS_CONTRACT_FRANCETRAVAIL_TOKEN_URL"
)

// Mock defaults: the credentials mocks/francetravail accepts.
const (
	MockClientID     = "PAR_relais_sandbox"
	MockClientSecret = "relais-sandbox-secret"
	MockTokenURL     = "/connexion/oauth2/access_token?realm=%2Fpartenaire"
)

// Scopes are the API scopes Relais asks for, after application_<client_id>.
var scopes = []string{"api_rechercher-usagerv2", "api_situation-usagerv1"}

// Spec returns a copy of the OpenAPI 3.1 document, in YAML.
func Spec() []byte {
	return bytes.Clone(spec)
}

// Load parses the document and validates it (examples included). External
// references are not followed: the document is self-contained.
func Load() (*openapi3.T, error) {
	return contracts.LoadSpec(Name, Spec())
}

// Sandbox persons of the mock used by the cases (see
// mocks/francetravail/fixtures.json).
const (
	courtetBirthDate   = "1990-01-06"
	courtetNIR         = "290013155501226"
	courtetPersonToken = "sbx-123456A-5f1c2e9a7b3d4c60"
	fornaroBirthDate   = "1992-08-15"
	fornaroNIR         = "192083155508913" // two files: 123462A and 123463A
	unknownNIR         = "185057800608491" // a valid NIR nobody has
)

// Platform returns the checks of the contract.
func Platform() contracts.Platform {
	return contracts.Platform{
		Name: Name,
		Spec: Spec(),
		Credentials: []contracts.Credential{
			{Env: EnvClientID, MockDefault: MockClientID},
			{Env: EnvClientSecret, MockDefault: MockClientSecret, Secret: true},
			{Env: EnvTokenURL, MockDefault: MockTokenURL},
		},
		Authorize: authorize,
		Cases:     cases(),
	}
}

func cases() []contracts.Case {
	personToken := func(v string) http.Header {
		h := http.Header{}
		h.Set("ft-jeton-usager", v)
		return h
	}
	return []contracts.Case{
		// token: the request body example is the mock's client, asking for
		// Scope(MockClientID), sent as form values.
		{Name: "token.granted", Operation: "token", Status: http.StatusOK, MockOnly: true},
		{
			Name: "token.wrong_secret", Operation: "token", Status: http.StatusUnauthorized, MockOnly: true,
			Body: tokenForm(MockClientID, "not-the-secret", "application_"+MockClientID+" api_rechercher-usagerv2"),
		},
		{
			Name: "token.scope_without_application", Operation: "token", Status: http.StatusBadRequest, MockOnly: true,
			Body: tokenForm(MockClientID, MockClientSecret, "api_rechercher-usagerv2"),
		},
		{Name: "token.missing_realm", Operation: "token", Status: http.StatusBadRequest, Query: url.Values{}},

		// usagers.search_by_nir
		{Name: "usagers.search_by_nir.found", Operation: "usagers.search_by_nir", Status: http.StatusOK, MockOnly: true},
		{
			Name: "usagers.search_by_nir.nobody", Operation: "usagers.search_by_nir", Status: http.StatusOK, MockOnly: true,
			Body: jsonBody(`{"dateNaissance":"1985-05-12","nir":"` + unknownNIR + `"}`),
		},
		{
			Name: "usagers.search_by_nir.several", Operation: "usagers.search_by_nir", Status: http.StatusOK, MockOnly: true,
			Body: jsonBody(`{"dateNaissance":"` + fornaroBirthDate + `","nir":"` + fornaroNIR[:13] + `"}`),
		},
		{
			Name: "usagers.search_by_nir.wrong_key", Operation: "usagers.search_by_nir", Status: http.StatusBadRequest,
			Body: jsonBody(`{"dateNaissance":"` + courtetBirthDate + `","nir":"` + courtetNIR[:13] + `99"}`),
		},
		{
			Name: "usagers.search_by_nir.missing_nir", Operation: "usagers.search_by_nir", Status: http.StatusBadRequest,
			Body: jsonBody(`{"dateNaissance":"` + courtetBirthDate + `"}`),
		},
		{Name: "usagers.search_by_nir.no_token", Operation: "usagers.search_by_nir", Status: http.StatusUnauthorized, Auth: contracts.AuthNone},
		{Name: "usagers.search_by_nir.invalid_token", Operation: "usagers.search_by_nir", Status: http.StatusUnauthorized, Auth: contracts.AuthInvalid},

		// usagers.search_by_number
		{Name: "usagers.search_by_number.found", Operation: "usagers.search_by_number", Status: http.StatusOK, MockOnly: true},
		{
			Name: "usagers.search_by_number.nobody", Operation: "usagers.search_by_number", Status: http.StatusOK, MockOnly: true,
			Body: jsonBody(`{"numeroFranceTravail":"inconnu"}`),
		},
		{
			Name: "usagers.search_by_number.malformed", Operation: "usagers.search_by_number", Status: http.StatusBadRequest,
			Body: jsonBody(`{"numeroFranceTravail":"not found"}`),
		},

		// situation.registration
		{
			Name: "situation.registration.found", Operation: "situation.registration", Status: http.StatusOK, MockOnly: true,
			Header: personToken(courtetPersonToken),
		},
		{
			Name: "situation.registration.unknown_person_token", Operation: "situation.registration", Status: http.StatusForbidden, MockOnly: true,
			Header: personToken("sbx-unknown-0000000000000000"),
		},
		{
			Name: "situation.registration.missing_person_token", Operation: "situation.registration", Status: http.StatusBadRequest,
			Header: http.Header{"Ft-Jeton-Usager": nil}, // not sent at all
		},
		{
			Name: "situation.registration.invalid_token", Operation: "situation.registration", Status: http.StatusUnauthorized, Auth: contracts.AuthInvalid,
			Header: personToken(courtetPersonToken),
		},

		// situation.payments
		{
			Name: "situation.payments.in_period", Operation: "situation.payments", Status: http.StatusOK, MockOnly: true,
			Header: personToken(courtetPersonToken),
		},
		{
			Name: "situation.payments.period_reversed", Operation: "situation.payments", Status: http.StatusBadRequest, MockOnly: true,
			Header: personToken(courtetPersonToken), Query: url.Values{"dateDebut": {"2024-12-31"}, "dateFin": {"2024-01-01"}},
		},
		{
			Name: "situation.payments.malformed_date", Operation: "situation.payments", Status: http.StatusBadRequest,
			Header: personToken(courtetPersonToken), Query: url.Values{"dateDebut": {"01/01/2024"}},
		},
	}
}

func jsonBody(s string) func() (string, io.Reader) {
	return func() (string, io.Reader) { return "application/json", strings.NewReader(s) }
}

func tokenForm(clientID, secret, scope string) func() (string, io.Reader) {
	return func() (string, io.Reader) {
		form := url.Values{
			"grant_type":    {"client_credentials"},
			"client_id":     {clientID},
			"client_secret": {secret},
			"scope":         {scope},
		}
		return "application/x-www-form-urlencoded", strings.NewReader(form.Encode())
	}
}

// Scope returns the scope Relais asks for as clientID.
func Scope(clientID string) string {
	return strings.Join(scopeList(clientID), " ")
}

func scopeList(clientID string) []string {
	return append([]string{"application_" + clientID}, scopes...)
}

// authorize fetches an access token with the client credentials from the
// token URL, resolved against the target's base URL when relative, and
// returns an Authorizer that sends it as a bearer token.
func authorize(ctx context.Context, target contracts.Target, creds map[string]string) (contracts.Authorizer, error) {
	return contracts.ClientCredentials(ctx, target, clientcredentials.Config{
		ClientID: creds[EnvClientID], ClientSecret: creds[EnvClientSecret], TokenURL: creds[EnvTokenURL], Scopes: scopeList(creds[EnvClientID]),
	})
}
