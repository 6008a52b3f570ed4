package coffrefortcontract

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"

	"github.com/relais-dev/relais/contracts"
)

// Name is the platform's name in `relais contracts verify --target coffrefort=URL`.
const Name = "coffrefort"

// The credentials a real safe needs, and the values our mock accepts
// (mocks/coffrefort.DefaultClientID and DefaultClientSecret).
const (
	EnvClientID     = "RELAIS_CONTRACT_COFFREFORT_CLIENT_ID"
	EnvClientSecret = "RELAIS_CONTRACT_COFFREFORT_CLIENT_SECRET"

	mockClientID     = "relais-sandbox"
	mockClientSecret = "relais-sandbox-secret"
)

// Platform is what `relais contracts verify` checks on the digital safe:
// every operation once with success, and its documented errors that need
// no fixture. Each run creates its own beneficiary and document, with
// distant ids of its own, so runs against the same safe do not collide.
// The cases that read or change an existing beneficiary or document use
// the identifier 1, which exists on our mock once the run has created
// something: they are MockOnly (a real safe's identifiers are unknown).
func Platform() contracts.Platform {
	run := rand.Text()[:10]
	distantID := "relais-check-" + run
	return contracts.Platform{
		Name: Name,
		Spec: Spec(),
		Credentials: []contracts.Credential{
			{Env: EnvClientID, MockDefault: mockClientID},
			{Env: EnvClientSecret, MockDefault: mockClientSecret, Secret: true},
		},
		Authorize: authorize,
		Cases: []contracts.Case{
			// token: the request body example holds the mock's client.
			{Name: "token.client_credentials", Operation: "token", Auth: contracts.AuthNone, Status: http.StatusOK, MockOnly: true},
			{Name: "token.wrong_secret", Operation: "token", Auth: contracts.AuthNone, Status: http.StatusUnauthorized,
				Body: jsonBody(map[string]any{"grant_type": "client_credentials", "client_id": "relais-contract-check", "client_secret": "wrong-" + run})},

			{Name: "beneficiaries.create", Operation: "beneficiaries.create", Status: http.StatusCreated,
				Header: http.Header{"Idempotency-Key": {"relais-check-b-" + run}},
				Body: jsonBody(map[string]any{"first_name": "Élodie", "last_name": "Dupont-Martin", "birth_date": "1987-02-28",
					"email": nil, "phone": "+33612345678", "distant_id": distantID})},
			{Name: "beneficiaries.create.replay", Operation: "beneficiaries.create", Status: http.StatusCreated,
				Header: http.Header{"Idempotency-Key": {"relais-check-b-" + run}},
				Body: jsonBody(map[string]any{"first_name": "Élodie", "last_name": "Dupont-Martin", "birth_date": "1987-02-28",
					"email": nil, "phone": "+33612345678", "distant_id": distantID})},
			{Name: "beneficiaries.create.missing_first_name", Operation: "beneficiaries.create", Status: http.StatusUnprocessableEntity,
				Body: jsonBody(map[string]any{"last_name": "Martin", "birth_date": "1990-01-01"})},
			{Name: "beneficiaries.search", Operation: "beneficiaries.search", Status: http.StatusOK, Query: url.Values{"distantId": {distantID}}},
			{Name: "beneficiaries.search.unknown", Operation: "beneficiaries.search", Status: http.StatusOK, Query: url.Values{"distantId": {"nobody-" + run}}},
			{Name: "beneficiaries.search.no_distant_id", Operation: "beneficiaries.search", Status: http.StatusBadRequest, Query: url.Values{}},
			{Name: "beneficiaries.search.invalid_token", Operation: "beneficiaries.search", Status: http.StatusUnauthorized, Auth: contracts.AuthInvalid,
				Query: url.Values{"distantId": {distantID}}},
			{Name: "beneficiaries.external_link", Operation: "beneficiaries.external_link", Status: http.StatusOK, MockOnly: true,
				PathParams: map[string]string{"id": "1"},
				Body:       jsonBody(map[string]any{"distant_id": "relais-check-link-" + run, "external_center": "chrs-lyon-7", "external_pro_id": nil})},

			{Name: "documents.create", Operation: "documents.create", Status: http.StatusCreated, MockOnly: true,
				Header: http.Header{"Idempotency-Key": {"relais-check-d-" + run}},
				Body:   upload("1", "relais-check-doc-"+run)},
			{Name: "documents.create.unknown_beneficiary", Operation: "documents.create", Status: http.StatusUnprocessableEntity,
				Body: upload("999999999", "")},
			{Name: "documents.list", Operation: "documents.list", Status: http.StatusOK, MockOnly: true, PathParams: map[string]string{"id": "1"}},
			{Name: "documents.list.unknown_beneficiary", Operation: "documents.list", Status: http.StatusNotFound, PathParams: map[string]string{"id": "999999999"}},
			{Name: "documents.get", Operation: "documents.get", Status: http.StatusOK, MockOnly: true, PathParams: map[string]string{"id": "1"}},
			{Name: "documents.get.unknown", Operation: "documents.get", Status: http.StatusNotFound, PathParams: map[string]string{"id": "999999999"}},
			{Name: "documents.toggle_visibility", Operation: "documents.toggle_visibility", Status: http.StatusOK, MockOnly: true, PathParams: map[string]string{"id": "1"}},
		},
	}
}

// authorize gets an access token with every scope from the token
// endpoint (OAuth2 client credentials, JSON body) and sends it as bearer.
func authorize(ctx context.Context, t contracts.Target, creds map[string]string) (contracts.Authorizer, error) {
	body, err := json.Marshal(map[string]string{
		"grant_type": "client_credentials", "client_id": creds[EnvClientID], "client_secret": creds[EnvClientSecret],
	})
	if err != nil {
		return nil, fmt.Errorf("encoding the token request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.BaseURL.JoinPath("api", "token").String(), bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("building the token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	client := t.Client
	if client == nil {
		client = &http.Client{}
	}
	rsp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("requesting a token: %w", err)
	}
	defer rsp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(rsp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("reading the token answer: %w", err)
	}
	if rsp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("requesting a token: status %d (check %s and %s)", rsp.StatusCode, EnvClientID, EnvClientSecret)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(raw, &tok); err != nil || tok.AccessToken == "" {
		return nil, fmt.Errorf("reading the token answer: no access_token (%v)", err)
	}
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok.AccessToken) }, nil
}

// jsonBody returns a Case.Body sending v as JSON.
func jsonBody(v any) func() (string, io.Reader) {
	raw, err := json.Marshal(v)
	if err != nil {
		panic(err) // a programming error in the cases above
	}
	return func() (string, io.Reader) { return "application/json", bytes.NewReader(raw) }
}

// upload returns a Case.Body depositing a small PDF for a beneficiary.
func upload(beneficiaryID, distantID string) func() (string, io.Reader) {
	return func() (string, io.Reader) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		fields := [][2]string{{"beneficiary_id", beneficiaryID}, {"issue_date", "2025-01-31"}, {"name", "Attestation CAF"}}
		if distantID != "" {
			fields = append(fields, [2]string{"distant_id", distantID})
		}
		for _, f := range fields {
			_ = mw.WriteField(f[0], f[1]) // writes to a bytes.Buffer do not fail
		}
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="file"; filename="attestation-caf.pdf"`)
		h.Set("Content-Type", "application/pdf")
		w, _ := mw.CreatePart(h)
		_, _ = io.Copy(w, strings.NewReader("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\n%%EOF\n"))
		_ = mw.Close()
		return mw.FormDataContentType(), &buf
	}
}
