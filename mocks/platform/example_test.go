package platform_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/relais-dev/relais/mocks/platform"
)

// A mock is a contract, one handler per operation and the platform's error
// format; the runtime routes, validates, limits, deduplicates and injects
// faults.
func ExampleNew() {
	l := &letters{byID: map[string]letter{}}
	srv := platform.New(platform.Config{
		Name:         "example",
		Contract:     testContract,
		Operations:   l.handlers(),
		Errors:       writeProblem,
		Authenticate: authenticate,
	})
	ts := httptest.NewServer(srv)
	defer ts.Close()

	for _, path := range []string{"/base/people?nom=Martin&annee=1990", "/base/people?nom=Martin"} {
		rsp, err := http.Get(ts.URL + path)
		if err != nil {
			fmt.Println(err)
			return
		}
		body, _ := io.ReadAll(rsp.Body)
		rsp.Body.Close()
		fmt.Println(rsp.StatusCode, string(body))
	}
	fmt.Println("violations:", srv.Stats().Violations)
	// Output:
	// 200 {"data":{"items":[{"age":34,"nom":"Martin","prenom":"Jeanne"},{"age":7,"nom":"Martin","prenom":"Luc"}],"total":2}}
	// 400 {"code":"invalid_request","message":"The required query parameter \"annee\" is missing.","parameter":"annee"}
	// violations: 1
}

// Faults are set per operation, from Go or over the control API.
func ExampleServer_SetFaults() {
	l := &letters{byID: map[string]letter{}}
	srv := platform.New(platform.Config{Name: "example", Contract: testContract, Operations: l.handlers(), Errors: writeProblem})
	err := srv.SetFaults(platform.Faults{Rules: []platform.Rule{{
		Operations: []string{"listPeople"},
		Drift:      []platform.Drift{{Kind: "retype", Path: "/data/total", To: "string"}},
	}}})
	fmt.Println(err)
	err = srv.SetFaults(platform.Faults{Rules: []platform.Rule{{ErrorRate: 2}}})
	fmt.Println(err)
	// Output:
	// <nil>
	// setting faults of example: rules[0].error_rate: 2 is not within [0, 1]
}

// AuthenticateFunc hands what it resolved from the credentials to the
// handler, which reads it with Principal.
func ExamplePrincipal() {
	type citizen struct{ Sub string }
	l := &letters{byID: map[string]letter{}}
	ops := l.handlers()
	ops["getLetter"] = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := platform.Principal(r).(citizen)
		platform.WriteJSON(w, http.StatusOK, map[string]any{"id": r.PathValue("id"), "status": "sent", "pages": 1, "owner": c.Sub})
	})
	srv := platform.New(platform.Config{
		Name: "example", Contract: testContract, Operations: ops, Errors: writeProblem,
		AuthenticateFunc: func(r *http.Request, _ string) (string, any, *platform.Problem) {
			tok := r.Header.Get("Authorization")
			if tok == "" {
				return "", nil, &platform.Problem{Kind: platform.KindUnauthorized, Detail: "A bearer token is required."}
			}
			return tok, citizen{Sub: "fc-" + tok[len("Bearer "):]}, nil
		},
	})
	req := httptest.NewRequest(http.MethodGet, "http://mock/base/letters/L-000007", nil)
	req.Header.Set("Authorization", "Bearer 3f2a")
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	fmt.Println(rec.Code, rec.Body.String())
	// Output:
	// 200 {"id":"L-000007","owner":"fc-3f2a","pages":1,"status":"sent"}
}
