package contracts_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"maps"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/relais-dev/relais/contracts"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestVerifyPassesOnAnHonestServer(t *testing.T) {
	t.Parallel()
	s, target := setup(t)
	rep := contracts.Verify(t.Context(), shopPlatform(), target, noEnv)
	if rep.Failed() {
		t.Fatalf("failed: %v\n%s", failedCases(rep), text(t, rep))
	}
	// 14 cases + the auth check of the 6 secured operations + the
	// examples check of the 8 operations.
	if len(rep.Results) != 28 {
		t.Fatalf("%d results, want 28:\n%s", len(rep.Results), text(t, rep))
	}
	if n := s.tokens.Load(); n != 3 { // Authorize once, plus the token.ok case and token.examples
		t.Errorf("tokens issued = %d, want 3 (Authorize runs once)", n)
	}
	for _, name := range []string{"items.search.no_credentials", "items.create.no_credentials", "items.get.no_credentials"} {
		if r := result(t, rep, name); !r.Auto || r.Status != 401 || r.Got != 401 {
			t.Errorf("%s: %+v, want an automatic check answered 401", name, r)
		}
	}
	// shapes.get documents only 403.
	if r := result(t, rep, "shapes.get.no_credentials"); r.Status != 403 || r.Got != 403 {
		t.Errorf("shapes.get.no_credentials: %+v, want 403", r)
	}
	// Operations without security, or with an AuthNone case, get no auth check.
	for _, r := range rep.Results {
		if r.Case == "token.no_credentials" || r.Case == "health.no_credentials" {
			t.Errorf("unexpected automatic check %s", r.Case)
		}
		if r.Skipped == "" && r.Duration <= 0 {
			t.Errorf("%s: no duration", r.Case)
		}
	}
	if rep.Duration <= 0 || rep.Platform != "shop" || !rep.Mock || rep.Target != target.BaseURL.String() {
		t.Errorf("report header %+v", rep)
	}
	if got, want := rep.Credentials, []string{secretEnv + ": mock default"}; !slices.Equal(got, want) {
		t.Errorf("credentials %v, want %v", got, want)
	}
}

func TestVerifyFindsEachKindOfDifference(t *testing.T) {
	t.Parallel()
	type want struct{ result, kind, path, detail string }
	for name, tc := range map[string]struct {
		breakIt func(s *shop)
		want    []want
	}{
		"wrong status": {
			breakIt: func(s *shop) { s.status["items.get"] = 500 },
			want: []want{
				{"items.get", contracts.KindStatus, "", "answered 500, want 200"},
				{"items.get", contracts.KindStatus, "", "status 500 is not documented for items.get"},
			},
		},
		"documented but unexpected status": {
			breakIt: func(s *shop) { s.status["items.get"] = 404 },
			want: []want{
				{"items.get", contracts.KindStatus, "", "answered 404, want 200"},
				{"items.get", contracts.KindContentType, "Content-Type", `"application/json" is not documented for 404 (documented: application/problem+json)`},
			},
		},
		"wrong content type": {
			breakIt: func(s *shop) { s.contentType["items.get"] = "text/html" },
			want:    []want{{"items.get", contracts.KindContentType, "Content-Type", `"text/html" is not documented for 200 (documented: application/json)`}},
		},
		"missing required header": {
			breakIt: func(s *shop) { s.dropHeader["items.create"] = "Location" },
			want:    []want{{"items.create", contracts.KindHeader, "Location", "required header missing"}},
		},
		"missing rate-limit header": {
			breakIt: func(s *shop) { s.dropHeader["items.search"] = "RateLimit-Remaining" },
			want: []want{
				{"items.search", contracts.KindHeader, "RateLimit-Remaining", "required header missing"},
				{"items.search", contracts.KindHeader, "RateLimit-Remaining", "this one is missing"},
			},
		},
		"inconsistent rate-limit headers": {
			breakIt: func(s *shop) {
				s.setHeader["items.search"] = http.Header{"RateLimit-Remaining": {"25"}, "RateLimit-Reset": {"soon"}}
			},
			want: []want{
				{"items.search", contracts.KindHeader, "RateLimit-Remaining", "remaining 25 is above the limit 20"},
				{"items.search", contracts.KindHeader, "RateLimit-Reset", `"soon" is not a non-negative integer`},
				{"items.search", contracts.KindHeader, "RateLimit-Reset", "breaks its schema"},
			},
		},
		"malformed JSON": {
			breakIt: func(s *shop) { s.rawBody["items.get"] = `{"id": 1,` },
			want:    []want{{"items.get", contracts.KindBody, "$", "decoding JSON: unexpected EOF"}},
		},
		"schema violation and retyped field": {
			breakIt: func(s *shop) {
				s.mutate["items.get"] = func(v any) any { v.(map[string]any)["name"] = 42; return v }
			},
			want: []want{
				{"items.get", contracts.KindSchema, "$.name", "must be a string"},
				{"items.get", contracts.KindRetyped, "$.name", "want string, got integer"},
			},
		},
		"nested rename in an array": {
			breakIt: func(s *shop) {
				s.mutate["items.search"] = func(v any) any {
					owner := v.(map[string]any)["data"].([]any)[1].(map[string]any)["owner"].(map[string]any)
					owner["nomNaissance"] = owner["nom_naissance"]
					delete(owner, "nom_naissance")
					return v
				}
			},
			want: []want{
				{"items.search", contracts.KindRemoved, "$.data[1].owner.nom_naissance", "want string, got absent"},
				{"items.search", contracts.KindAdded, "$.data[1].owner.nomNaissance", "want absent, got string"},
				{"items.search", contracts.KindSchema, "$.data[1].owner.nom_naissance", `property "nom_naissance" is missing`},
			},
		},
		"retyped array element and removed optional field of the example": {
			breakIt: func(s *shop) {
				s.mutate["items.get"] = func(v any) any {
					m := v.(map[string]any)
					m["owner"].(map[string]any)["prenoms"].([]any)[1] = true
					delete(m, "note")
					return v
				}
			},
			want: []want{
				{"items.get", contracts.KindRetyped, "$.owner.prenoms[1]", "want string, got boolean"},
				{"items.get", contracts.KindSchema, "$.owner.prenoms[1]", ""},
				{"items.get", contracts.KindRemoved, "$.note", "want null|string, got absent"},
			},
		},
		"oneOf branch with a retyped field": {
			breakIt: func(s *shop) {
				s.mutate["shapes.get"] = func(v any) any {
					m := v.(map[string]any)
					if m["kind"] == "square" {
						m["side"] = "3.5"
					} else {
						m["colour"] = "red"
					}
					return v
				}
			},
			want: []want{
				{"shapes.get.square", contracts.KindRetyped, "$.side", "want number, got string"},
				{"shapes.get.circle", contracts.KindAdded, "$.colour", "want absent, got string"},
			},
		},
		"truncated body": {
			breakIt: func(s *shop) { s.truncate["items.get"] = true },
			want:    []want{{"items.get", contracts.KindTransport, "", "reading the answer"}},
		},
		"auth not enforced": {
			breakIt: func(s *shop) { s.openDoor = true },
			want: []want{
				{"items.get.no_credentials", contracts.KindStatus, "", "answered 200, want 401"},
				{"items.get.invalid_token", contracts.KindStatus, "", "answered 200, want 401"},
				{"items.search.no_credentials", contracts.KindStatus, "", "answered 200, want 401"},
				{"items.create.no_credentials", contracts.KindStatus, "", "answered 201, want 401"},
				{"shapes.get.no_credentials", contracts.KindStatus, "", "answered 200, want 403"},
				{"items.label.no_credentials", contracts.KindStatus, "", "answered 200, want 401"},
				{"items.photo.no_credentials", contracts.KindStatus, "", "answered 201, want 401"},
			},
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, target := setup(t)
			s.set(tc.breakIt)
			rep := contracts.Verify(t.Context(), shopPlatform(), target, noEnv)
			if !rep.Failed() {
				t.Fatalf("verify passed:\n%s", text(t, rep))
			}
			out := text(t, rep)
			for _, w := range tc.want {
				if !hasViolation(result(t, rep, w.result), w.kind, w.path, w.detail) {
					t.Errorf("no %s violation at %q containing %q in %s:\n%s", w.kind, w.path, w.detail, w.result, out)
				}
				if w.path != "" && !strings.Contains(out, w.path) {
					t.Errorf("the text report does not show %s", w.path)
				}
			}
			// Only the broken operations fail.
			broken := map[string]bool{}
			for _, w := range tc.want {
				broken[result(t, rep, w.result).Operation] = true
			}
			for _, r := range rep.Results {
				if r.Failed() && !broken[r.Operation] {
					t.Errorf("%s failed too:\n%s", r.Case, out)
				}
			}
		})
	}
}

func TestDiffListsStructuralChangesWithTheirPaths(t *testing.T) {
	t.Parallel()
	s, target := setup(t)
	changes, err := contracts.Diff(t.Context(), shopPlatform(), target, noEnv)
	if err != nil || len(changes) != 0 {
		t.Fatalf("honest server: %v, %+v", err, changes)
	}
	s.set(func(s *shop) {
		s.mutate["items.search"] = func(v any) any {
			for _, it := range v.(map[string]any)["data"].([]any) {
				it.(map[string]any)["price"] = "12,50 €"
			}
			return v
		}
	})
	changes, err = contracts.Diff(t.Context(), shopPlatform(), target, noEnv)
	if err != nil {
		t.Fatalf("diff: %v", err)
	}
	want := []contracts.Change{
		{Case: "items.search", Operation: "items.search", Status: 200, Kind: contracts.KindRetyped, Path: "$.data[0].price", Want: "number", Got: "string"},
		{Case: "items.search", Operation: "items.search", Status: 200, Kind: contracts.KindRetyped, Path: "$.data[1].price", Want: "number", Got: "string"},
	}
	if !slices.Equal(changes, want) {
		t.Fatalf("changes %+v\nwant %+v", changes, want)
	}
}

func TestDiffFailsWhenItCannotCompare(t *testing.T) {
	t.Parallel()
	_, target := setup(t)
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL, _ := url.Parse(dead.URL)
	dead.Close()
	target.BaseURL = deadURL
	changes, err := contracts.Diff(t.Context(), shopPlatform(), target, noEnv)
	if err == nil || len(changes) != 0 {
		t.Fatalf("diff of a dead target: %v, %v", changes, err)
	}
	if !strings.Contains(err.Error(), "authorizing") {
		t.Errorf("error %v does not say Authorize failed", err)
	}
}

func TestVerifyReportsTransportErrors(t *testing.T) {
	t.Parallel()
	dead := httptest.NewServer(http.NotFoundHandler())
	u, _ := url.Parse(dead.URL)
	dead.Close()
	p := shopPlatform()
	p.Authorize = nil
	rep := contracts.Verify(t.Context(), p, contracts.Target{Name: "shop", BaseURL: u, Mock: true, Timeout: time.Second}, noEnv)
	r := result(t, rep, "items.get")
	if !hasViolation(r, contracts.KindTransport, "", "sending GET /items/1") {
		t.Fatalf("items.get: %+v", r)
	}
}

func TestVerifyBoundsEachCall(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(hang.Close)
	t.Cleanup(func() { close(release) })
	u, _ := url.Parse(hang.URL)
	p := shopPlatform()
	p.Authorize = nil
	p.Cases = []contracts.Case{{Name: "health", Operation: "health", Status: 200, Auth: contracts.AuthNone}}
	rep := contracts.Verify(t.Context(), p, contracts.Target{Name: "shop", BaseURL: u, Client: hang.Client(), Timeout: 50 * time.Millisecond}, noEnv)
	if r := result(t, rep, "health"); !hasViolation(r, contracts.KindTransport, "", "deadline exceeded") {
		t.Fatalf("health: %+v", r)
	}
}

func TestVerifyReportsUncheckedOperations(t *testing.T) {
	t.Parallel()
	_, target := setup(t)
	p := shopPlatform()
	p.Cases = slices.DeleteFunc(p.Cases, func(c contracts.Case) bool { return c.Name == "items.create" })
	p.Cases = append(p.Cases, contracts.Case{Name: "items.create.invalid", Operation: "items.create", Status: 422, Body: func() (string, io.Reader) {
		return "application/json", strings.NewReader(`{}`)
	}})
	rep := contracts.Verify(t.Context(), p, target, noEnv)
	if got := failedCases(rep); !slices.Equal(got, []string{"items.create.coverage"}) {
		t.Fatalf("failed %v, want only the coverage of items.create:\n%s", got, text(t, rep))
	}
	if r := result(t, rep, "items.create.coverage"); !hasViolation(r, contracts.KindUncheckedOperation, "", "no case expects a success (2xx) from items.create") {
		t.Fatalf("%+v", r)
	}
}

func TestVerifyChecksTheCasesThemselves(t *testing.T) {
	t.Parallel()
	_, target := setup(t)
	p := shopPlatform()
	p.Cases = append(p.Cases,
		contracts.Case{Name: "items.get", Operation: "items.get", Status: 200},
		contracts.Case{Name: "nope", Operation: "items.delete", Status: 204},
		contracts.Case{Name: "items.get.teapot", Operation: "items.get", Status: 418},
	)
	rep := contracts.Verify(t.Context(), p, target, noEnv)
	for _, w := range []struct{ name, detail string }{
		{"items.get", `the case name "items.get" is empty or not unique`},
		{"nope", `the contract has no operation "items.delete"`},
	} {
		found := false
		for _, r := range rep.Results {
			if r.Case == w.name && hasViolation(r, contracts.KindContract, "", w.detail) {
				found = true
			}
		}
		if !found {
			t.Errorf("no contract violation %q:\n%s", w.detail, text(t, rep))
		}
	}
	if r := result(t, rep, "items.get.teapot"); !hasViolation(r, contracts.KindStatus, "", "expects 418, which the contract does not document") {
		t.Errorf("teapot: %+v", r)
	}

	broken := shopPlatform()
	broken.Spec = []byte("openapi: 3.1.0\ninfo: [")
	rep = contracts.Verify(t.Context(), broken, target, noEnv)
	if r := result(t, rep, "contract"); !hasViolation(r, contracts.KindContract, "", "loading the shop contract") || len(rep.Results) != 1 {
		t.Fatalf("broken spec: %+v", rep.Results)
	}
}

func TestVerifyAgainstARealTargetSkipsMockOnlyCases(t *testing.T) {
	t.Parallel()
	_, target := setup(t)
	target.Mock = false
	rep := contracts.Verify(t.Context(), shopPlatform(), target, noEnv)
	if rep.Failed() {
		t.Fatalf("failed:\n%s", text(t, rep))
	}
	if r := result(t, rep, "items.get.fixture"); r.Skipped == "" || r.Failed() {
		t.Fatalf("mock-only case against a real target: %+v", r)
	}
	if out := text(t, rep); !strings.Contains(out, "- items.get") || !strings.Contains(out, "1 skipped") {
		t.Errorf("text report does not show the skipped case:\n%s", out)
	}
}

func TestVerifyUsesCredentialsFromTheEnvironmentAndNeverPrintsThem(t *testing.T) {
	t.Parallel()
	_, target := setup(t)
	const wrong = "wrong-secret-value-77"
	getenv := func(k string) string {
		if k == secretEnv {
			return wrong
		}
		return ""
	}
	rep := contracts.Verify(t.Context(), shopPlatform(), target, getenv)
	r := result(t, rep, "authorize")
	if !hasViolation(r, contracts.KindAuth, "", "status 401") {
		t.Fatalf("authorize: %+v", r)
	}
	if res := result(t, rep, "items.get"); res.Skipped != "authorization failed" {
		t.Errorf("items.get with no token: %+v", res)
	}
	if res := result(t, rep, "items.get.examples"); res.Skipped != "authorization failed" {
		t.Errorf("items.get.examples with no token: %+v", res)
	}
	if res := result(t, rep, "health.examples"); res.Skipped != "" || res.Failed() || res.Got != 200 {
		t.Errorf("health.examples needs no token: %+v", res)
	}
	var junit strings.Builder
	if err := contracts.WriteJUnit(&junit, []contracts.Report{rep}); err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{text(t, rep), junit.String()} {
		if strings.Contains(out, wrong) {
			t.Fatalf("a secret is printed:\n%s", out)
		}
		if !strings.Contains(out, secretEnv+": environment") && !strings.Contains(out, "***") {
			t.Errorf("the report does not say where the credential came from:\n%s", out)
		}
	}
}

func TestVerifySendsAWellFormedWrongCredential(t *testing.T) {
	t.Parallel()
	var (
		mu   sync.Mutex
		seen []string
	)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("Authorization"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":"no"}`))
	})
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	u, _ := url.Parse(ts.URL)
	p := shopPlatform()
	p.Authorize = nil
	p.Cases = []contracts.Case{{Name: "invalid", Operation: "items.get", Status: 401, Auth: contracts.AuthInvalid}}
	contracts.Verify(t.Context(), p, contracts.Target{Name: "shop", BaseURL: u, Client: ts.Client()}, noEnv)
	p.InvalidAuth = func(r *http.Request) { r.Header.Set("Authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.x") }
	contracts.Verify(t.Context(), p, contracts.Target{Name: "shop", BaseURL: u, Client: ts.Client()}, noEnv)
	mu.Lock()
	defer mu.Unlock()
	if len(seen) < 2 || seen[0] != "Bearer "+contracts.InvalidToken || !slices.Contains(seen, "Bearer eyJhbGciOiJIUzI1NiJ9.e30.x") {
		t.Fatalf("Authorization headers sent: %q", seen)
	}
}

func TestVerifyBuildsRequestsFromTheContractExamples(t *testing.T) {
	t.Parallel()
	type seen struct{ method, uri, auth, tenant, ct, body string }
	var (
		mu  sync.Mutex
		got []seen
	)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, seen{r.Method, r.RequestURI, r.Header.Get("Authorization"), r.Header.Get("X-Tenant"), r.Header.Get("Content-Type"), string(b)})
		mu.Unlock()
		w.WriteHeader(http.StatusTeapot)
	})
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	u, _ := url.Parse(ts.URL + "/base/")
	p := shopPlatform()
	p.Authorize = contracts.Bearer(secretEnv)
	p.Cases = []contracts.Case{
		{Name: "search", Operation: "items.search", Status: 200},
		{Name: "create", Operation: "items.create", Status: 201},
		{Name: "get", Operation: "items.get", PathParams: map[string]string{"id": "a b/c"}, Status: 200},
		{Name: "search.custom", Operation: "items.search", Query: url.Values{"q": {"chaise", "table"}}, Header: http.Header{"X-Tenant": {"other"}}, Status: 200},
	}
	contracts.Verify(context.Background(), p, contracts.Target{Name: "shop", BaseURL: u, Client: ts.Client()}, noEnv)
	mu.Lock()
	defer mu.Unlock()
	if len(got) < 4 {
		t.Fatalf("%d requests", len(got))
	}
	check := func(i int, method, uri, auth, tenant, ct, body string) {
		t.Helper()
		if want := (seen{method, uri, auth, tenant, ct, body}); got[i] != want {
			t.Errorf("request %d: %+v, want %+v", i, got[i], want)
		}
	}
	check(0, "GET", "/base/items?q=lampe", "Bearer "+shopSecret, "ccas-lyon", "", "")
	check(1, "POST", "/base/items", "Bearer "+shopSecret, "", "application/json", `{"name":"Chaise","price":30}`)
	check(2, "GET", "/base/items/a%20b%2Fc", "Bearer "+shopSecret, "", "", "")
	check(3, "GET", "/base/items?q=chaise&q=table", "Bearer "+shopSecret, "other", "", "")
}

func TestVerifyHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	s, target := setup(t)
	s.set(func(s *shop) { s.throttle["items.get"], s.retryAfter = 2, "0" })
	rep := contracts.Verify(t.Context(), shopPlatform(), target, noEnv)
	if rep.Failed() {
		t.Fatalf("failed:\n%s", text(t, rep))
	}
	if r := result(t, rep, "items.get"); r.RateLimited != 2 || r.Got != 200 {
		t.Fatalf("items.get: %+v", r)
	}
	if out := text(t, rep); !strings.Contains(out, "(retried after 2 429s)") {
		t.Errorf("the text report does not show the retries:\n%s", out)
	}

	// A wait longer than the verifier accepts is not retried.
	s.set(func(s *shop) { s.throttle["items.get"], s.retryAfter = 1, "3600" })
	rep = contracts.Verify(t.Context(), shopPlatform(), target, noEnv)
	if r := result(t, rep, "items.get"); r.RateLimited != 0 || !hasViolation(r, contracts.KindStatus, "", "answered 429, want 200") {
		t.Fatalf("items.get: %+v", r)
	}
}

// recorded is a request as a recording server saw it.
type recorded struct {
	header http.Header
	uri    string
	body   []byte
}

// recorder starts a server that records every request and answers 418;
// requests returns what it saw so far, by "METHOD path".
func recorder(t *testing.T) (target contracts.Target, requests func() map[string][]recorded) {
	t.Helper()
	var (
		mu  sync.Mutex
		got = map[string][]recorded{}
	)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		key := r.Method + " " + r.URL.Path
		got[key] = append(got[key], recorded{r.Header.Clone(), r.RequestURI, b})
		mu.Unlock()
		w.WriteHeader(http.StatusTeapot)
	}))
	t.Cleanup(ts.Close)
	u, _ := url.Parse(ts.URL)
	return contracts.Target{Name: "shop", BaseURL: u, Client: ts.Client()}, func() map[string][]recorded {
		mu.Lock()
		defer mu.Unlock()
		return maps.Clone(got)
	}
}

func TestVerifySendsFormExamplesAsFormValues(t *testing.T) {
	t.Parallel()
	target, requests := recorder(t)
	p := shopPlatform()
	p.Authorize = nil
	p.Cases = []contracts.Case{{Name: "label", Operation: "items.label", Status: 200}}
	contracts.Verify(t.Context(), p, target, noEnv)
	reqs := requests()["POST /items/1/labels"]
	if len(reqs) != 2 { // the case and the auth check
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	for _, r := range reqs {
		if ct := r.header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
			t.Errorf("Content-Type %q", ct)
		}
		// labels exploded (the default), sizes joined (explode: false),
		// meta as JSON (its encoding's contentType), filter as a
		// deepObject; the null note left out.
		const want = "colour=bleu+clair&filter%5Bmax%5D=5&filter%5Bmin%5D=1&labels=rouge&labels=soldes&meta=%7B%22source%22%3A%22atelier%22%7D&sizes=1%2C2"
		if string(r.body) != want {
			t.Errorf("body\n  %s\nwant\n  %s", r.body, want)
		}
	}
}

func TestVerifySendsMultipartExamplesAsParts(t *testing.T) {
	t.Parallel()
	target, requests := recorder(t)
	p := shopPlatform()
	p.Authorize = nil
	p.Cases = []contracts.Case{{Name: "photo", Operation: "items.photo", Status: 201}}
	contracts.Verify(t.Context(), p, target, noEnv)
	reqs := requests()["POST /items/1/photo"]
	if len(reqs) == 0 {
		t.Fatal("no request")
	}
	mt, params, err := mime.ParseMediaType(reqs[0].header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		t.Fatalf("Content-Type %q: %v", reqs[0].header.Get("Content-Type"), err)
	}
	type part struct{ name, filename, contentType, content string }
	var parts []part
	mr := multipart.NewReader(bytes.NewReader(reqs[0].body), params["boundary"])
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("reading the parts: %v", err)
		}
		b, _ := io.ReadAll(p)
		parts = append(parts, part{p.FormName(), p.FileName(), p.Header.Get("Content-Type"), string(b)})
	}
	want := []part{
		{"caption", "", "", "Lampe de chevet"},
		{"details", "", "application/json", `{"width":640}`},
		{"photo", "photo.png", "image/png", "not really a PNG"},
		{"tags", "", "", "salon"},
		{"tags", "", "", "bois"},
	}
	if !slices.Equal(parts, want) {
		t.Fatalf("parts\n  %+v\nwant\n  %+v", parts, want)
	}
}

func TestVerifyLeavesOutTheHeadersACaseMapsToNil(t *testing.T) {
	t.Parallel()
	target, requests := recorder(t)
	p := shopPlatform()
	p.Authorize = contracts.Bearer(secretEnv)
	p.Cases = []contracts.Case{
		{Name: "no_tenant", Operation: "items.search", Header: http.Header{"X-Tenant": nil}, Status: 400},
		{Name: "empty_tenant", Operation: "items.search", Header: http.Header{"x-tenant": {""}}, Query: url.Values{"q": {"empty"}}, Status: 400},
		{Name: "no_auth_header", Operation: "items.search", Header: http.Header{"authorization": {}}, Query: url.Values{"q": {"noauth"}}, Status: 401},
	}
	contracts.Verify(t.Context(), p, target, noEnv)
	byQuery := map[string]recorded{}
	for _, r := range requests()["GET /items"] {
		if _, ok := byQuery[r.uri]; !ok { // the case, not the auth check after it
			byQuery[r.uri] = r
		}
	}
	noTenant, empty, noAuth := byQuery["/items?q=lampe"], byQuery["/items?q=empty"], byQuery["/items?q=noauth"]
	if _, sent := noTenant.header["X-Tenant"]; sent || noTenant.header.Get("Authorization") == "" {
		t.Errorf("X-Tenant mapped to nil: headers sent %v", noTenant.header)
	}
	if vs, sent := empty.header["X-Tenant"]; !sent || len(vs) != 1 || vs[0] != "" {
		t.Errorf("X-Tenant mapped to an empty string: headers sent %v", empty.header)
	}
	if _, sent := noAuth.header["Authorization"]; sent || noAuth.header.Get("X-Tenant") != "ccas-lyon" {
		t.Errorf("Authorization mapped to no value: headers sent %v", noAuth.header)
	}

	// Against the shop, the case leaving out the required header gets its
	// documented 400.
	_, shopTarget := setup(t)
	p = shopPlatform()
	rep := contracts.Verify(t.Context(), p, shopTarget, noEnv)
	if r := result(t, rep, "items.search.no_tenant"); r.Failed() || r.Got != 400 {
		t.Fatalf("items.search.no_tenant: %+v\n%s", r, text(t, rep))
	}
}

func TestVerifyCallsEachOperationWithItsExamplesOnTheMock(t *testing.T) {
	t.Parallel()
	// The checks send every header parameter's example, the optional ones
	// too; the cases send only the required ones.
	target, requests := recorder(t)
	target.Mock = true
	p := shopPlatform()
	p.Authorize = contracts.Bearer(secretEnv)
	p.Cases = []contracts.Case{{Name: "get", Operation: "items.get", PathParams: map[string]string{"id": "7"}, Status: 200}}
	contracts.Verify(t.Context(), p, target, noEnv)
	got := requests()
	if r := got["GET /items/7"]; len(r) != 2 || r[0].header.Get("X-Request-Id") != "" { // the case and the auth check
		t.Errorf("the case's requests: %+v", r)
	}
	if r := got["GET /items/1"]; len(r) != 1 || r[0].header.Get("X-Request-Id") != "req-42" || r[0].header.Get("Authorization") != "Bearer "+shopSecret {
		t.Errorf("the examples check's requests: %+v", r)
	}
	if r := got["GET /health"]; len(r) != 1 || r[0].header.Get("Authorization") != "" {
		t.Errorf("an open operation's examples check authenticates: %+v", r)
	}

	// An example the mock has no fixture for fails its check alone.
	s, shopTarget := setup(t)
	p = shopPlatform()
	p.Spec = bytes.Replace(shopSpec, []byte("schema: {type: integer}\n          example: 1\n        - name: X-Request-Id"), []byte("schema: {type: integer}\n          example: 99\n        - name: X-Request-Id"), 1)
	if bytes.Equal(p.Spec, shopSpec) {
		t.Fatal("the example of items.get was not changed")
	}
	for i, c := range p.Cases {
		if c.Operation == "items.get" && c.PathParams == nil {
			p.Cases[i].PathParams = map[string]string{"id": "1"}
		}
	}
	rep := contracts.Verify(t.Context(), p, shopTarget, noEnv)
	if got := failedCases(rep); !slices.Equal(got, []string{"items.get.examples"}) {
		t.Fatalf("failed %v, want only items.get.examples:\n%s", got, text(t, rep))
	}
	r := result(t, rep, "items.get.examples")
	if !r.Auto || r.Status != 200 || r.Got != 404 || !hasViolation(r, contracts.KindStatus, "", "answered 404, want 200") {
		t.Fatalf("items.get.examples: %+v", r)
	}

	// A success the operation does not document fails it.
	s.set(func(s *shop) { s.status["items.create"] = 200 })
	rep = contracts.Verify(t.Context(), shopPlatform(), shopTarget, noEnv)
	if r := result(t, rep, "items.create.examples"); !hasViolation(r, contracts.KindStatus, "", "answered 200, want 201") ||
		!hasViolation(r, contracts.KindStatus, "", "status 200 is not documented") {
		t.Fatalf("items.create.examples: %+v", r)
	}

	// Against a real target, there is no examples check.
	shopTarget.Mock = false
	s.set(func(s *shop) { delete(s.status, "items.create") })
	rep = contracts.Verify(t.Context(), shopPlatform(), shopTarget, noEnv)
	for _, r := range rep.Results {
		if strings.HasSuffix(r.Case, ".examples") {
			t.Errorf("examples check against a real target: %+v", r)
		}
	}
}
