package coffrefort_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/relais-dev/relais/mocks/coffrefort"
)

// A unit test starts the mock with httptest, makes the token endpoint
// answer 429 once, and sees the client's retry succeed.
func ExampleNew() {
	srv := coffrefort.New(coffrefort.Options{})
	ts := httptest.NewServer(srv)
	defer ts.Close()

	getToken := func() *http.Response {
		rsp, err := ts.Client().Post(ts.URL+"/api/token", "application/json", strings.NewReader(
			`{"grant_type":"client_credentials","scope":"documents_create","client_id":"relais-sandbox","client_secret":"relais-sandbox-secret"}`))
		if err != nil {
			panic(err)
		}
		rsp.Body.Close()
		return rsp
	}

	srv.SetFaults(coffrefort.Faults{ErrorRate: 1, Status: http.StatusTooManyRequests, RetryAfter: "2", Routes: []string{"token"}})
	rsp := getToken()
	fmt.Println(rsp.StatusCode, rsp.Header.Get("Retry-After"))

	srv.SetFaults(coffrefort.Faults{})
	fmt.Println(getToken().StatusCode)

	st := srv.Stats()
	fmt.Println(st.Requests, st.Injected, st.TokensIssued)
	// Output:
	// 429 2
	// 200
	// 2 1 1
}
