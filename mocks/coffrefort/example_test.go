package coffrefort_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/relais-dev/relais/mocks/coffrefort"
	"github.com/relais-dev/relais/mocks/platform"
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

	err := srv.SetFaults(platform.Faults{Rules: []platform.Rule{
		{Operations: []string{"token"}, Status: http.StatusTooManyRequests, RetryAfter: "2"},
	}})
	if err != nil {
		panic(err)
	}
	rsp := getToken()
	fmt.Println(rsp.StatusCode, rsp.Header.Get("Retry-After"))

	if err := srv.SetFaults(platform.Faults{}); err != nil {
		panic(err)
	}
	fmt.Println(getToken().StatusCode)

	st := srv.Stats()
	fmt.Println(st.Requests, st.Injected["error"], st.TokensIssued)
	// Output:
	// 429 2
	// 200
	// 2 1 1
}
