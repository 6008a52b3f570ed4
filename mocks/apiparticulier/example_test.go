package apiparticulier_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"time"

	"github.com/relais-dev/relais/connectors/clock"
	"github.com/relais-dev/relais/mocks/apiparticulier"
)

// A unit test starts the mock under httptest, asks for a quotient familial
// by civil status with the sandbox token, and gets the same answer again
// from the platform's 24-hour cache.
func ExampleNew() {
	clk := clock.NewFake(time.Date(2024, time.December, 16, 10, 0, 0, 0, time.UTC))
	srv := apiparticulier.New(apiparticulier.Options{Now: clk.Now})
	ts := httptest.NewServer(srv)
	defer ts.Close()

	q := url.Values{
		"recipient":                    {"13002526500013"},
		"nomNaissance":                 {"DUPONT"},
		"prenoms[]":                    {"SOPHIE"},
		"anneeDateNaissance":           {"1982"},
		"moisDateNaissance":            {"9"},
		"jourDateNaissance":            {"3"},
		"sexeEtatCivil":                {"F"},
		"codeCogInseePaysNaissance":    {"99100"},
		"codeCogInseeCommuneNaissance": {"13001"},
	}
	get := func() {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, ts.URL+"/v3/dss/quotient_familial/identite?"+q.Encode(), nil)
		req.Header.Set("Authorization", "Bearer "+apiparticulier.DefaultToken)
		rsp, err := ts.Client().Do(req)
		if err != nil {
			panic(err)
		}
		defer rsp.Body.Close()
		var body struct {
			Data struct {
				QuotientFamilial struct {
					Fournisseur string `json:"fournisseur"`
					Valeur      int    `json:"valeur"`
				} `json:"quotient_familial"`
			} `json:"data"`
		}
		if err := json.NewDecoder(rsp.Body).Decode(&body); err != nil {
			panic(err)
		}
		fmt.Println(rsp.StatusCode, body.Data.QuotientFamilial.Fournisseur, body.Data.QuotientFamilial.Valeur,
			"cached:", rsp.Header.Get("X-Response-Cached"), rsp.Header.Get("X-Cache-Expires-In"),
			"remaining:", rsp.Header.Get("RateLimit-Remaining"))
	}
	get()
	clk.Advance(time.Hour)
	get()
	fmt.Println("response violations:", srv.Stats().ResponseViolations)
	// Output:
	// 200 CNAF 900 cached: false  remaining: 19
	// 200 CNAF 900 cached: true 82800 remaining: 19
	// response violations: 0
}
