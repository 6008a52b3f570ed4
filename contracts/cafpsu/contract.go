package cafpsucontract

import (
	"bytes"
	"context"
	_ "embed" // the contract travels with the binary
	"fmt"
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
const Name = "cafpsu"

// The environment variables a real target needs.
const (
	EnvClientID     = "RELAIS_CONTRACT_CAFPSU_CLIENT_ID"
	EnvClientSecret = "RELAIS_CONTRACT_CAFPSU_CLIENT_SECRET"
)

// The credentials mocks/cafpsu accepts by default.
const (
	MockClientID     = "relais-sandbox"
	MockClientSecret = "relais-sandbox-secret"
)

// tokenPath is the token endpoint, relative to the target's base URL.
const tokenPath = "oauth/token"

// Spec returns a copy of the OpenAPI 3.1 document, in YAML.
func Spec() []byte {
	return bytes.Clone(spec)
}

// Load parses the document and validates it (examples included). External
// references are not followed: the document is self-contained.
func Load() (*openapi3.T, error) {
	return contracts.LoadSpec(Name, Spec())
}

// Platform returns the checks of the contract.
func Platform() contracts.Platform {
	return contracts.Platform{
		Name: Name,
		Spec: Spec(),
		Credentials: []contracts.Credential{
			{Env: EnvClientID, MockDefault: MockClientID},
			{Env: EnvClientSecret, MockDefault: MockClientSecret, Secret: true},
		},
		Authorize: authorize,
		Cases:     cases(),
	}
}

// Sandbox data of the mock the cases rely on.
const (
	lucioles        = "75012345"
	luciolesSIRET   = "21759901800017"
	luciolesFINESS  = "750012346"
	galopins        = "31034567" // managed by another client
	sandbox         = "99000001" // takes declarations at any date
	sandboxSIRET    = "99000001000019"
	galopinsDeclNum = "PSU2025P000002"
)

// months returns n months of plausible activity of year.
func months(year, n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf(`{"month":"%04d-%02d","billed_hours":2800,"attended_hours":2650.5,"psu_hours":2750,"children":28,"opening_days":20}`, year, i+1)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func declaration(year int, kind, siret, finess, monthList string) func() (string, io.Reader) {
	return func() (string, io.Reader) {
		return "application/json", strings.NewReader(fmt.Sprintf(`{"year":%d,"kind":"%s","establishment":{"siret":"%s","finess":%s},"months":%s}`,
			year, kind, siret, finess, monthList))
	}
}

func cases() []contracts.Case {
	partner := func(p string) map[string]string { return map[string]string{"partner_number": p} }
	luciolesFiness := `"` + luciolesFINESS + `"`
	return []contracts.Case{
		// token.granted sends the request body example (the mock's client) as form values.
		{Name: "token.granted", Operation: "token", Status: http.StatusOK, MockOnly: true},
		{Name: "token.wrong_secret", Operation: "token", Status: http.StatusUnauthorized, Body: tokenForm(MockClientID, "not-the-secret", "")},
		{Name: "token.unknown_scope", Operation: "token", Status: http.StatusBadRequest, MockOnly: true, Body: tokenForm(MockClientID, MockClientSecret, "psu.admin")},

		{Name: "structures.get.found", Operation: "structures.get", Status: http.StatusOK, MockOnly: true},
		{Name: "structures.get.unknown", Operation: "structures.get", Status: http.StatusNotFound, PathParams: partner("00000000")},
		{Name: "structures.get.not_managed", Operation: "structures.get", Status: http.StatusForbidden, MockOnly: true, PathParams: partner(galopins)},
		{Name: "structures.get.malformed_number", Operation: "structures.get", Status: http.StatusBadRequest, PathParams: partner("75-12345")},

		{Name: "declarations.create.sandbox", Operation: "declarations.create", Status: http.StatusCreated, MockOnly: true},
		{
			Name: "declarations.create.deadline_passed", Operation: "declarations.create", Status: http.StatusUnprocessableEntity, MockOnly: true,
			PathParams: partner(lucioles), Body: declaration(2020, "reel", luciolesSIRET, luciolesFiness, months(2020, 12)),
		},
		{
			Name: "declarations.create.not_open", Operation: "declarations.create", Status: http.StatusUnprocessableEntity, MockOnly: true,
			PathParams: partner(lucioles), Body: declaration(2099, "reel", luciolesSIRET, luciolesFiness, months(2099, 12)),
		},
		{
			Name: "declarations.create.months_mismatch", Operation: "declarations.create", Status: http.StatusUnprocessableEntity, MockOnly: true,
			PathParams: partner(sandbox), Body: declaration(2025, "actualisation_juin", sandboxSIRET, "null", months(2025, 5)),
		},
		{
			Name: "declarations.create.psu_above_billed", Operation: "declarations.create", Status: http.StatusUnprocessableEntity, MockOnly: true,
			PathParams: partner(sandbox), Body: declaration(2025, "actualisation_juin", sandboxSIRET, "null",
				strings.Replace(months(2025, 6), `"psu_hours":2750`, `"psu_hours":2900`, 1)),
		},
		{
			Name: "declarations.create.other_siret", Operation: "declarations.create", Status: http.StatusUnprocessableEntity, MockOnly: true,
			PathParams: partner(sandbox), Body: declaration(2025, "actualisation_juin", luciolesSIRET, "null", months(2025, 6)),
		},
		{
			Name: "declarations.create.negative_hours", Operation: "declarations.create", Status: http.StatusBadRequest,
			PathParams: partner(sandbox), Body: declaration(2025, "actualisation_juin", sandboxSIRET, "null",
				strings.Replace(months(2025, 6), `"billed_hours":2800`, `"billed_hours":-1`, 1)),
		},
		{Name: "declarations.create.no_token", Operation: "declarations.create", Status: http.StatusUnauthorized, Auth: contracts.AuthNone},

		{Name: "declarations.list.history", Operation: "declarations.list", Status: http.StatusOK, MockOnly: true},
		{Name: "declarations.list.unknown_kind", Operation: "declarations.list", Status: http.StatusBadRequest, Query: url.Values{"kind": {"annuel"}}},

		{Name: "declarations.get.found", Operation: "declarations.get", Status: http.StatusOK, MockOnly: true},
		{Name: "declarations.get.unknown", Operation: "declarations.get", Status: http.StatusNotFound, PathParams: map[string]string{"declaration_number": "PSU2019R999999"}},
		{
			Name: "declarations.get.not_managed", Operation: "declarations.get", Status: http.StatusForbidden, MockOnly: true,
			PathParams: map[string]string{"declaration_number": galopinsDeclNum},
		},
		{Name: "declarations.get.invalid_token", Operation: "declarations.get", Status: http.StatusUnauthorized, Auth: contracts.AuthInvalid},
	}
}

func tokenForm(clientID, secret, scope string) func() (string, io.Reader) {
	return func() (string, io.Reader) {
		form := url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret}}
		if scope != "" {
			form.Set("scope", scope)
		}
		return "application/x-www-form-urlencoded", strings.NewReader(form.Encode())
	}
}

// authorize fetches an access token and returns an Authorizer that sends
// it as a bearer token.
func authorize(ctx context.Context, target contracts.Target, creds map[string]string) (contracts.Authorizer, error) {
	return contracts.ClientCredentials(ctx, target, clientcredentials.Config{
		ClientID: creds[EnvClientID], ClientSecret: creds[EnvClientSecret], TokenURL: tokenPath, Scopes: []string{"psu.declarations"},
	})
}
