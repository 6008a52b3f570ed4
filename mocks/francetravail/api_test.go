package francetravail_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	francetravailcontract "github.com/relais-dev/relais/contracts/francetravail"
	"github.com/relais-dev/relais/mocks/francetravail"
	"github.com/relais-dev/relais/mocks/platform"
)

func TestSearchThenRead(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	tok := f.token()

	for _, nir := range []string{"290013155501226", "2900131555012"} { // with and without the key
		a := f.search(tok, "1990-01-06", nir)
		if a.status != http.StatusOK {
			t.Fatalf("search: %d %s", a.status, a.body)
		}
		m := a.json(t)
		if m["codeRetour"] != "S001" || m["topIdentiteCertifiee"] != "O" || m["jetonUsager"] == nil {
			t.Fatalf("search %s: %s", nir, a.body)
		}
	}
	jeton := f.search(tok, "1990-01-06", "290013155501226").json(t)["jetonUsager"].(string)

	reg := f.get(tok, jeton, "/situation-usager/v1/inscription")
	if reg.status != http.StatusOK {
		t.Fatalf("registration: %d %s", reg.status, reg.body)
	}
	m := reg.json(t)
	id := m["identite"].(map[string]any)
	ins := m["inscription"].(map[string]any)
	if m["numeroFranceTravail"] != "123456A" || m["inscrit"] != true || id["nomNaissance"] != "Courtet" || id["prenom"] != "Martine" ||
		id["sexe"] != "F" || ins["dateDebut"] != "2024-01-01" || ins["dateFin"] != nil || ins["categorie"].(map[string]any)["code"] != float64(1) {
		t.Fatalf("registration: %s", reg.body)
	}

	for _, tc := range []struct {
		query string
		dates []string
	}{
		{"", []string{"2024-02-05", "2024-03-05", "2025-01-06"}},
		{"?dateDebut=2024-01-01&dateFin=2024-12-31", []string{"2024-02-05", "2024-03-05"}},
		{"?dateDebut=2024-03-05", []string{"2024-03-05", "2025-01-06"}},
		{"?dateFin=2023-12-31", nil},
	} {
		a := f.get(tok, jeton, "/situation-usager/v1/paiements"+tc.query)
		if a.status != http.StatusOK {
			t.Fatalf("payments%s: %d %s", tc.query, a.status, a.body)
		}
		var got []string
		for _, p := range a.json(t)["paiements"].([]any) {
			got = append(got, p.(map[string]any)["dateVersement"].(string))
		}
		if strings.Join(got, ",") != strings.Join(tc.dates, ",") {
			t.Errorf("payments%s = %v, want %v", tc.query, got, tc.dates)
		}
	}

	byNumber := f.post(tok, "/rechercher-usager/v2/usagers/par-numero-francetravail", `{"numeroFranceTravail":"default"}`)
	j := byNumber.json(t)["jetonUsager"].(string)
	if p := f.get(tok, j, "/situation-usager/v1/paiements").json(t); len(p["paiements"].([]any)) != 2 || p["numeroFranceTravail"] != "default" {
		t.Fatalf("payments of default: %v", p)
	}
	if tokens, persons := f.mock.Issued(); tokens != 1 || persons != 4 {
		t.Fatalf("issued %d tokens and %d person tokens, want 1 and 4", tokens, persons)
	}
	noContractBreach(t, f.mock)
}

func TestSearchOutcomes(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	tok := f.token()
	for _, tc := range []struct {
		name, birthDate, nir string
		code, certified      any
	}{
		{"certified", "1992-08-15", "192083155505844", "S001", "O"},
		{"not certified", "1992-08-15", "292083155507178", "S001", "N"},
		{"born in Corsica", "1992-08-15", "292082A00406659", "S001", "O"},
		{"two files", "1992-08-15", "192083155508913", "S003", nil},
		{"nobody", "1985-05-12", "185057800608491", "S002", nil},
		{"birth date differs", "1992-08-16", "192083155505844", "S002", nil},
	} {
		a := f.search(tok, tc.birthDate, tc.nir)
		if a.status != http.StatusOK {
			t.Fatalf("%s: %d %s", tc.name, a.status, a.body)
		}
		m := a.json(t)
		if m["codeRetour"] != tc.code || m["topIdentiteCertifiee"] != tc.certified || (tc.code == "S001") != (m["jetonUsager"] != nil) {
			t.Errorf("%s: %s", tc.name, a.body)
		}
	}
	wantBusiness(t, f.search(tok, "1990-01-06", "290013155501299"), http.StatusBadRequest, "INVALID_NIR")
	wantBusiness(t, f.search(tok, "1992-08-15", "292082B00406659"), http.StatusBadRequest, "INVALID_NIR") // 2B: another key

	nobody := f.post(tok, "/rechercher-usager/v2/usagers/par-numero-francetravail", `{"numeroFranceTravail":"inconnu"}`)
	if nobody.json(t)["codeRetour"] != "S002" {
		t.Fatalf("number inconnu: %s", nobody.body)
	}
	noContractBreach(t, f.mock)
}

func TestPersonTokenIsBoundAndExpires(t *testing.T) {
	t.Parallel()
	f := setup(t, func(o *francetravail.Options) {
		o.Clients = map[string]string{"PAR_a": "secret-a", "PAR_b": "secret-b"}
	})
	tokenOf := func(id, secret string) string {
		a := f.tokenAnswer(id, secret, "application_"+id+" api_rechercher-usagerv2 api_situation-usagerv1")
		if a.status != http.StatusOK {
			t.Fatalf("token %s: %d %s", id, a.status, a.body)
		}
		return a.json(t)["access_token"].(string)
	}
	tokA, tokB := tokenOf("PAR_a", "secret-a"), tokenOf("PAR_b", "secret-b")
	jeton := f.search(tokA, "1990-01-06", "290013155501226").json(t)["jetonUsager"].(string)

	if a := f.get(tokA, jeton, "/situation-usager/v1/inscription"); a.status != http.StatusOK {
		t.Fatalf("own person token: %d %s", a.status, a.body)
	}
	wantBusiness(t, f.get(tokB, jeton, "/situation-usager/v1/inscription"), http.StatusForbidden, "USER_TOKEN_INVALID")

	f.clock.Advance(francetravail.DefaultPersonTokenTTL - time.Second)
	tokA = tokenOf("PAR_a", "secret-a") // the access token (25 min) has expired
	if a := f.get(tokA, jeton, "/situation-usager/v1/inscription"); a.status != http.StatusOK {
		t.Fatalf("person token before expiry: %d %s", a.status, a.body)
	}
	f.clock.Advance(time.Second)
	wantBusiness(t, f.get(tokA, jeton, "/situation-usager/v1/paiements"), http.StatusForbidden, "USER_TOKEN_EXPIRED")

	// A sandbox person token never expires and serves every application.
	f.clock.Advance(365 * 24 * time.Hour)
	tokB = tokenOf("PAR_b", "secret-b")
	if a := f.get(tokB, "sbx-123456A-5f1c2e9a7b3d4c60", "/situation-usager/v1/inscription"); a.status != http.StatusOK {
		t.Fatalf("sandbox person token: %d %s", a.status, a.body)
	}
	noContractBreach(t, f.mock)
}

func TestAccessTokens(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	id, secret := francetravail.DefaultClientID, francetravail.DefaultClientSecret
	app := "application_" + id

	oauth := func(a answer, status int, code string) {
		t.Helper()
		if a.status != status || a.json(t)["error"] != code {
			t.Fatalf("got %d %s, want %d %s", a.status, a.body, status, code)
		}
	}
	oauth(f.tokenAnswer(id, "wrong", app+" api_rechercher-usagerv2"), http.StatusUnauthorized, "invalid_client")
	oauth(f.tokenAnswer("PAR_unknown", secret, "application_PAR_unknown"), http.StatusUnauthorized, "invalid_client")
	oauth(f.tokenAnswer(id, secret, "api_rechercher-usagerv2"), http.StatusBadRequest, "invalid_scope")
	oauth(f.tokenAnswer(id, secret, app+" api_offresdemploiv2"), http.StatusBadRequest, "invalid_scope")

	// Refused by the runtime against the contract, in the OAuth format.
	req, _ := http.NewRequest(http.MethodPost, f.ts.URL+"/connexion/oauth2/access_token?realm=%2Fpartenaire",
		strings.NewReader("grant_type=password&client_id="+id+"&client_secret="+secret+"&scope="+app))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	oauth(f.do(req), http.StatusBadRequest, "unsupported_grant_type")
	req, _ = http.NewRequest(http.MethodPost, f.ts.URL+"/connexion/oauth2/access_token?realm=%2Femployeur",
		strings.NewReader("grant_type=client_credentials&client_id="+id+"&client_secret="+secret+"&scope="+app))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	oauth(f.do(req), http.StatusBadRequest, "invalid_request")
	req, _ = http.NewRequest(http.MethodPost, f.ts.URL+"/connexion/oauth2/access_token?realm=%2Fpartenaire", strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "application/json")
	oauth(f.do(req), http.StatusBadRequest, "invalid_request")
	if v := f.mock.Stats().Violations; v != 3 {
		t.Errorf("violations = %d, want 3", v)
	}

	// A token without the situation scope.
	a := f.tokenAnswer(id, secret, app+" api_rechercher-usagerv2")
	m := a.json(t)
	if a.status != http.StatusOK || m["scope"] != app+" api_rechercher-usagerv2" || m["token_type"] != "Bearer" || m["expires_in"] != float64(1499) {
		t.Fatalf("token: %d %s", a.status, a.body)
	}
	searchOnly := m["access_token"].(string)
	wantBusiness(t, f.get(searchOnly, "sbx-123456A-5f1c2e9a7b3d4c60", "/situation-usager/v1/inscription"), http.StatusForbidden, "INSUFFICIENT_SCOPE")

	// Expiry by the clock.
	tok := f.token()
	f.clock.Advance(francetravail.DefaultTokenTTL)
	a = f.search(tok, "1990-01-06", "290013155501226")
	wantBusiness(t, a, http.StatusUnauthorized, "INVALID_TOKEN")
	if a.header.Get("WWW-Authenticate") != "Bearer" {
		t.Errorf("401 without WWW-Authenticate: %v", a.header)
	}
	wantBusiness(t, f.search("", "1990-01-06", "290013155501226"), http.StatusUnauthorized, "INVALID_TOKEN")
	noContractBreach(t, f.mock)
}

func TestRegistrationFollowsTheClock(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	tok := f.token()
	const mallette = "sbx-123461A-38a0c6f1e4d7b92c" // registered 2024-09-01 to 2025-09-01
	if m := f.get(tok, mallette, "/situation-usager/v1/inscription").json(t); m["inscrit"] != true {
		t.Fatalf("before the end of the registration: %v", m)
	}
	f.clock.Advance(92 * 24 * time.Hour) // 2025-09-02
	tok = f.token()
	m := f.get(tok, mallette, "/situation-usager/v1/inscription").json(t)
	if m["inscrit"] != false || m["inscription"].(map[string]any)["dateFin"] != "2025-09-01" {
		t.Fatalf("after the end of the registration: %v", m)
	}
	noContractBreach(t, f.mock)
}

func TestRateLimitPerApplication(t *testing.T) {
	t.Parallel()
	const otherID, otherSecret = "autre-application", "autre-secret"
	f := setup(t, func(o *francetravail.Options) {
		o.Clients = map[string]string{francetravail.DefaultClientID: francetravail.DefaultClientSecret, otherID: otherSecret}
	})
	tok1, tok2 := f.token(), f.token() // two tokens, one application
	for i := range francetravail.DefaultRateLimit {
		tok := tok1
		if i%2 == 1 {
			tok = tok2
		}
		a := f.search(tok, "1990-01-06", "290013155501226")
		if a.status != http.StatusOK {
			t.Fatalf("request %d: %d %s", i+1, a.status, a.body)
		}
		if got := a.header.Get("RateLimit-Remaining"); got != strconv.Itoa(francetravail.DefaultRateLimit-1-i) {
			t.Errorf("request %d: RateLimit-Remaining %q", i+1, got)
		}
	}
	a := f.search(tok2, "1990-01-06", "290013155501226")
	if a.status != http.StatusTooManyRequests || !strings.HasPrefix(a.header.Get("Content-Type"), "text/plain") || a.header.Get("Retry-After") == "" {
		t.Fatalf("over the limit: %d %v %s", a.status, a.header, a.body)
	}
	// Another application has its own budget.
	other := f.tokenAnswer(otherID, otherSecret, francetravailcontract.Scope(otherID))
	if other.status != http.StatusOK {
		t.Fatalf("token of %s: %d %s", otherID, other.status, other.body)
	}
	if a := f.search(other.json(t)["access_token"].(string), "1990-01-06", "290013155501226"); a.status != http.StatusOK {
		t.Fatalf("another application, same window: %d %s", a.status, a.body)
	}
	// The token endpoint is not limited.
	if tok := f.token(); tok == "" {
		t.Fatal("no token")
	}
	f.clock.Advance(time.Second)
	if a := f.search(tok1, "1990-01-06", "290013155501226"); a.status != http.StatusOK {
		t.Fatalf("next window: %d %s", a.status, a.body)
	}
	if st := f.mock.Stats(); st.RateLimited != 1 {
		t.Fatalf("rate limited %d, want 1", st.RateLimited)
	}
	noContractBreach(t, f.mock)
}

func TestRefusalsInThePlatformFormat(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	tok := f.token()

	a := f.post(tok, "/rechercher-usager/v2/usagers/par-datenaissance-et-nir", `{"dateNaissance":"1990-01-06"}`)
	wantBusiness(t, a, http.StatusBadRequest, "INVALID_REQUEST")
	if !strings.Contains(a.json(t)["message"].(string), "nir") {
		t.Errorf("the message does not name the field: %s", a.body)
	}
	wantBusiness(t, f.post(tok, "/rechercher-usager/v2/usagers/par-datenaissance-et-nir", `{"dateNaissance":"1990-01-06","nir":"290013155501226","x":1}`), http.StatusBadRequest, "INVALID_REQUEST")
	wantBusiness(t, f.get(tok, "sbx-123456A-5f1c2e9a7b3d4c60", "/situation-usager/v1/paiements?dateDebut=2024-12-31&dateFin=2024-01-01"), http.StatusBadRequest, "INVALID_PERIOD")

	req, _ := http.NewRequest(http.MethodPost, f.ts.URL+"/rechercher-usager/v2/usagers/par-numero-francetravail", strings.NewReader("numeroFranceTravail=123456A"))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	wantBusiness(t, f.do(req), http.StatusUnsupportedMediaType, "INVALID_REQUEST")

	wantBusiness(t, f.get(tok, "", "/rechercher-usager/v2/usagers/par-numero-francetravail"), http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED")
	wantBusiness(t, f.get(tok, "", "/rechercher-usager/v1/usagers"), http.StatusNotFound, "NOT_FOUND")

	st := f.mock.Stats()
	if st.Violations != 5 { // missing field, unknown field, media type, method, path
		t.Errorf("violations = %d, want 5", st.Violations)
	}
	noContractBreach(t, f.mock)
}

func TestFaultsAndReset(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	tok := f.token()
	err := f.mock.Platform().SetFaults(platform.Faults{Rules: []platform.Rule{
		{Operations: []string{"usagers.search_by_nir"}, Status: http.StatusServiceUnavailable, RetryAfter: "30"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	a := f.search(tok, "1990-01-06", "290013155501226")
	wantBusiness(t, a, http.StatusServiceUnavailable, "SERVICE_UNAVAILABLE")
	if a.header.Get("Retry-After") != "30" {
		t.Fatalf("Retry-After %q", a.header.Get("Retry-After"))
	}
	if _, persons := f.mock.Issued(); persons != 0 {
		t.Fatal("an injected error issued a person token")
	}

	f.mock.Reset()
	wantBusiness(t, f.search(tok, "1990-01-06", "290013155501226"), http.StatusUnauthorized, "INVALID_TOKEN")
	tok = f.token()
	if a := f.search(tok, "1990-01-06", "290013155501226"); a.status != http.StatusOK {
		t.Fatalf("after reset: %d %s", a.status, a.body)
	}
	if a := f.get(tok, "sbx-123456A-5f1c2e9a7b3d4c60", "/situation-usager/v1/inscription"); a.status != http.StatusOK {
		t.Fatalf("sandbox person token after reset: %d %s", a.status, a.body)
	}
	if tokens, persons := f.mock.Issued(); tokens != 1 || persons != 1 {
		t.Fatalf("issued after reset: %d, %d", tokens, persons)
	}
}

func TestPlatformLatency(t *testing.T) {
	t.Parallel()
	mock := francetravail.New(francetravail.Options{})
	if err := mock.Platform().SetFaults(francetravail.PlatformLatency()); err != nil {
		t.Fatalf("the platform's latency is not a valid fault: %v", err)
	}
	if got := mock.Platform().Faults(); len(got.Rules) != 1 || got.Rules[0].Latency.Distribution != platform.DistLognormal {
		t.Fatalf("faults %+v", got)
	}
}

func TestOptions(t *testing.T) {
	t.Parallel()
	d := francetravail.Options{}.WithDefaults()
	if d.Clients[francetravail.DefaultClientID] != francetravail.DefaultClientSecret || d.TokenTTL != francetravail.DefaultTokenTTL ||
		d.RateLimit.Limit != francetravail.DefaultRateLimit || d.RateLimit.Window != time.Second || len(d.Persons) != 9 {
		t.Fatalf("defaults: %+v", d)
	}
	if off := (francetravail.Options{RateLimit: platform.RateLimit{Limit: -1}}).WithDefaults(); off.RateLimit.Limit != 0 {
		t.Fatalf("a negative limit does not disable: %+v", off.RateLimit)
	}
	bad := francetravail.SandboxPersons()
	bad[1].NIR = "290013155501299"
	for name, o := range map[string]francetravail.Options{
		"TokenTTL":       {TokenTTL: -time.Second},
		"PersonTokenTTL": {PersonTokenTTL: -time.Second},
		"Clients":        {Clients: map[string]string{"x": ""}},
		"Persons[1].NIR": {Persons: bad},
		"Persons[1].Num": {Persons: append(francetravail.SandboxPersons(), francetravail.SandboxPersons()[1])},
	} {
		if err := o.WithDefaults().Validate(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if err := (francetravail.Options{}).WithDefaults().Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
}
