package francetravail_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/relais-dev/relais/mocks/francetravail"
)

// A unit test starts the mock with httptest, gets a token, finds Martine
// Courtet by birth date and NIR, and reads her registration with the person
// token the search returned.
func ExampleNew() {
	ts := httptest.NewServer(francetravail.New(francetravail.Options{}))
	defer ts.Close()

	call := func(req *http.Request, into any) int {
		rsp, err := ts.Client().Do(req)
		if err != nil {
			panic(err)
		}
		defer rsp.Body.Close()
		if err := json.NewDecoder(rsp.Body).Decode(into); err != nil {
			panic(err)
		}
		return rsp.StatusCode
	}

	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {"PAR_relais_sandbox"},
		"client_secret": {"relais-sandbox-secret"},
		"scope":         {"application_PAR_relais_sandbox api_rechercher-usagerv2 api_situation-usagerv1"},
	}
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/connexion/oauth2/access_token?realm=%2Fpartenaire", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	call(req, &tok)

	req, _ = http.NewRequest(http.MethodPost, ts.URL+"/rechercher-usager/v2/usagers/par-datenaissance-et-nir",
		strings.NewReader(`{"dateNaissance":"1990-01-06","nir":"290013155501226"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	var found struct {
		CodeRetour           string `json:"codeRetour"`
		JetonUsager          string `json:"jetonUsager"`
		TopIdentiteCertifiee string `json:"topIdentiteCertifiee"`
	}
	fmt.Println(call(req, &found), found.CodeRetour, found.TopIdentiteCertifiee)

	req, _ = http.NewRequest(http.MethodGet, ts.URL+"/situation-usager/v1/inscription", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	req.Header.Set("ft-jeton-usager", found.JetonUsager)
	var reg struct {
		NumeroFranceTravail string `json:"numeroFranceTravail"`
		Inscription         struct {
			DateDebut string `json:"dateDebut"`
		} `json:"inscription"`
	}
	fmt.Println(call(req, &reg), reg.NumeroFranceTravail, reg.Inscription.DateDebut)
	// Output:
	// 200 S001 O
	// 200 123456A 2024-01-01
}
