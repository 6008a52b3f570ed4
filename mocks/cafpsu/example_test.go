package cafpsu_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/relais-dev/relais/connectors/clock"
	"github.com/relais-dev/relais/mocks/cafpsu"
)

// A unit test starts the mock with httptest on a fake clock set to
// 11 July 2026, the day after the June update's deadline, and sees the
// declaration of Les Lucioles refused while the sandbox structure takes it.
func ExampleNew() {
	c := clock.NewFake(time.Date(2026, 7, 11, 8, 0, 0, 0, time.UTC))
	ts := httptest.NewServer(cafpsu.New(cafpsu.Options{Now: c.Now}))
	defer ts.Close()

	call := func(method, path, contentType, body, token string) (int, map[string]any) {
		req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		rsp, err := ts.Client().Do(req)
		if err != nil {
			panic(err)
		}
		defer rsp.Body.Close()
		var m map[string]any
		if err := json.NewDecoder(rsp.Body).Decode(&m); err != nil {
			panic(err)
		}
		return rsp.StatusCode, m
	}
	_, tok := call(http.MethodPost, "/oauth/token", "application/x-www-form-urlencoded",
		"grant_type=client_credentials&client_id=relais-sandbox&client_secret=relais-sandbox-secret", "")
	token := tok["access_token"].(string)

	months := make([]string, 6)
	for i := range months {
		months[i] = fmt.Sprintf(`{"month":"2026-%02d","billed_hours":2800,"attended_hours":2650.5,"psu_hours":2750,"children":28,"opening_days":20}`, i+1)
	}
	declaration := func(siret, finess string) string {
		return `{"year":2026,"kind":"actualisation_juin","establishment":{"siret":"` + siret + `","finess":` + finess + `},"months":[` + strings.Join(months, ",") + `]}`
	}

	status, p := call(http.MethodPost, "/v1/structures/75012345/declarations", "application/json", declaration("21759901800017", `"750012346"`), token)
	fmt.Println(status, p["code"])
	status, d := call(http.MethodPost, "/v1/structures/99000001/declarations", "application/json", declaration("99000001000019", "null"), token)
	fmt.Println(status, d["declaration_number"], d["receipt_message"])
	// Output:
	// 422 DEADLINE_PASSED
	// 201 PSU2026J000007 Déclaration actualisation_juin 2026 reçue le 11/07/2026 (version 1).
}
