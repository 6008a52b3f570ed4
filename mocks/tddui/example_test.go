package tddui_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/relais-dev/relais/connectors/clock"
	"github.com/relais-dev/relais/mocks/tddui"
)

// A unit test starts the receiver with httptest on a fake clock, submits a
// Bundle whose absence has no reason, and follows its Task until the
// receiver rejects it.
func ExampleNew() {
	c := clock.NewFake(time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC))
	ts := httptest.NewServer(tddui.New(tddui.Options{Now: c.Now}))
	defer ts.Close()

	send := func(method, path, body string) (*http.Response, map[string]any) {
		req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tddui.DefaultToken)
		req.Header.Set("Content-Type", "application/fhir+json")
		rsp, err := ts.Client().Do(req)
		if err != nil {
			panic(err)
		}
		defer rsp.Body.Close()
		var m map[string]any
		if err := json.NewDecoder(rsp.Body).Decode(&m); err != nil {
			panic(err)
		}
		return rsp, m
	}

	rsp, _ := send(http.MethodPost, "/fhir", `{"resourceType":"Bundle","type":"transaction","entry":[
	  {"resource":{"resourceType":"Patient","identifier":[{"value":"3750000010/DUI451"}],"gender":"female","birthDate":"1940-06-27"},
	   "request":{"method":"POST","url":"Patient"}},
	  {"resource":{"resourceType":"Slot","identifier":[{"system":"https://identifiant-medicosocial-presenceabsence.esante.gouv.fr","value":"3750000010/DUI451-PA-2"}],
	    "serviceType":[{"text":"absence"}],"start":"2024-02-10T10:00:00+01:00","end":"2024-02-17T18:00:00+01:00"},
	   "request":{"method":"POST","url":"Slot"}}]}`)
	fmt.Println(rsp.StatusCode)
	task := rsp.Header.Get("Location")

	_, t := send(http.MethodGet, task, "")
	fmt.Println(t["status"])
	c.Advance(tddui.DefaultProcessingDelay)
	_, t = send(http.MethodGet, task, "")
	first := t["contained"].([]any)[0].(map[string]any)["issue"].([]any)[0].(map[string]any)
	fmt.Println(t["status"], first["expression"].([]any)[0])
	// Output:
	// 200
	// received
	// rejected Bundle.entry[1].resource.appointmentType
}
