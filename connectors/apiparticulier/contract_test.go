package apiparticulier_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/connectors/apiparticulier"
	"github.com/relais-dev/relais/mapping"
)

// The real contract: testdata/openapi-v3.yaml is the platform's own
// published OpenAPI document (MIT, see testdata/LICENSE). A server built
// from it validates every request the connector sends with kin-openapi
// (route, parameters and their names, headers, security) and answers from
// the document's examples; the connector must map every answer.

// The tokens the contract server expects.
const (
	contractToken   = "jwt-of-the-tenant"
	contractFCToken = "franceconnect-access-token"
)

// realContract is the document and its router, loaded once.
var realContract = sync.OnceValues(func() (*contractDoc, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile("testdata/openapi-v3.yaml")
	if err != nil {
		return nil, fmt.Errorf("loading the platform's OpenAPI: %w", err)
	}
	// The published bearer scheme also says in: header and name:
	// Authorization, which OpenAPI allows for apiKey schemes only; kin-openapi
	// refuses it. Dropped here, in memory: the file stays as published.
	if ss := doc.Components.SecuritySchemes["jwt_bearer_token"]; ss != nil && ss.Value != nil && ss.Value.Type == "http" {
		ss.Value.In, ss.Value.Name = "", ""
	}
	// Some examples of routes the connector never calls break their own
	// schemas (three given names where one is allowed): the document is
	// checked without them. The answers built from examples are checked
	// against the schemas one by one (contractServer).
	if err := doc.Validate(context.Background(), openapi3.DisableExamplesValidation()); err != nil {
		return nil, fmt.Errorf("validating the platform's OpenAPI: %w", err)
	}
	// Any host: the test server's.
	doc.Servers = nil
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("routing the platform's OpenAPI: %w", err)
	}
	return &contractDoc{doc: doc, router: router}, nil
})

type contractDoc struct {
	doc    *openapi3.T
	router routers.Router
}

func theContract(t testing.TB) *contractDoc {
	t.Helper()
	c, err := realContract()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// answer is what the contract server sends: the status and the example
// body; status 0 answers 200 with the success schema's example.
type answer struct {
	status int
	body   []byte
}

// contractServer validates requests against the document and answers from
// its examples.
type contractServer struct {
	t   testing.TB
	doc *contractDoc
	// answerFor picks the answer to a request of the route; nil: 200.
	answerFor func(route *routers.Route) answer

	mu     sync.Mutex
	errs   []string
	routes []string
}

func (s *contractServer) fail(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errs = append(s.errs, fmt.Sprintf(format, args...))
}

func (s *contractServer) problems() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.errs)
}

// authenticate is the document's security scheme, jwt_bearer_token: the
// tenant's token, or on the /france_connect routes the citizen's.
func authenticate(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	req := in.RequestValidationInput.Request
	want := contractToken
	if strings.HasSuffix(req.URL.Path, "/france_connect") {
		want = contractFCToken
	}
	if req.Header.Get("Authorization") != "Bearer "+want {
		return in.NewError(errors.New("not the expected bearer token"))
	}
	return nil
}

func (s *contractServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	route, params, err := s.doc.router.FindRoute(r)
	if err != nil {
		s.fail("%s %s is not in the platform's OpenAPI: %v", r.Method, r.URL.Path, err)
		http.Error(w, "no such route", http.StatusNotFound)
		return
	}
	s.mu.Lock()
	s.routes = append(s.routes, route.Path)
	s.mu.Unlock()
	in := &openapi3filter.RequestValidationInput{
		Request: r, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: authenticate, MultiError: true},
	}
	if err := openapi3filter.ValidateRequest(r.Context(), in); err != nil {
		s.fail("%s %s breaks the platform's OpenAPI: %v", r.Method, route.Path, err)
		http.Error(w, "invalid request", http.StatusBadRequest)
		return
	}
	a := answer{status: http.StatusOK}
	if s.answerFor != nil {
		a = s.answerFor(route)
	}
	header := http.Header{"Content-Type": {"application/json"}}
	if a.body == nil {
		ok := route.Operation.Responses.Status(http.StatusOK)
		a.body, err = json.Marshal(exampleOf(ok.Value.Content.Get("application/json").Schema.Value))
		if err != nil {
			s.fail("encoding the example: %v", err)
			return
		}
		if _, cached := ok.Value.Headers["X-Response-Cached"]; cached {
			header.Set("X-Response-Cached", "false")
			header["X-Cache-Expires-In"] = []string{""}
		}
	}
	// The answer must itself keep to the document.
	if err := openapi3filter.ValidateResponse(r.Context(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: a.status, Header: header, Body: io.NopCloser(bytes.NewReader(a.body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}); err != nil {
		s.fail("the test's answer to %s breaks the platform's OpenAPI: %v\n%s", route.Path, err, a.body)
	}
	for k, v := range header {
		w.Header()[k] = v
	}
	w.WriteHeader(a.status)
	_, _ = w.Write(a.body)
}

// exampleOf builds a value of schema s from the document's examples: a
// property's own example, else its first enumerated value, else null when
// it may be null, else a value of its type.
func exampleOf(s *openapi3.Schema) any {
	switch {
	case s.Example != nil:
		return s.Example
	case len(s.Enum) > 0:
		return s.Enum[0]
	case s.Type.Is(openapi3.TypeObject) || len(s.Properties) > 0:
		m := map[string]any{}
		for name, p := range s.Properties {
			m[name] = exampleOf(p.Value)
		}
		return m
	case s.Type.Is(openapi3.TypeArray):
		return []any{exampleOf(s.Items.Value)}
	case s.Nullable:
		return nil
	case s.Type.Is(openapi3.TypeString) && s.Format == "date":
		return "2024-01-31"
	case s.Type.Is(openapi3.TypeString):
		return "TEXTE"
	case s.Type.Is(openapi3.TypeInteger):
		return 1
	case s.Type.Is(openapi3.TypeNumber):
		return 1.5
	case s.Type.Is(openapi3.TypeBoolean):
		return true
	}
	return nil
}

// contractClient builds a connector to a server of the real contract.
func contractClient(t *testing.T, s *contractServer) *apiparticulier.Client {
	t.Helper()
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	c, err := apiparticulier.New("apiparticulier", apiparticulier.Config{
		BaseURL: srv.URL,
		Token:   contractToken,
		Stack:   connectors.StackConfig{Retry: connectors.RetryConfig{Max: -1}},
	}, connectors.Deps{Reserver: instantReserver{}}, apiparticulier.WithCatalog(catalog(t)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// instantReserver grants every slot at once: the contract tests are not
// about the rate.
type instantReserver struct{}

func (instantReserver) Reserve(context.Context, string, connectors.RateLimitConfig) (time.Duration, error) {
	return 0, nil
}

// Every operation, in both modes, sends requests the platform's published
// contract accepts, and maps the answers it documents.
func TestRealContract(t *testing.T) {
	t.Parallel()
	doc := theContract(t)
	person := withFranceTravail(mapping.Person{
		BirthFamilyName: "DURANT", UsedName: "DUPONT DURANT", GivenNames: []string{"PIERRE", "RICHARD", "JEAN-MARC", "LOUIS"},
		Sex: mapping.SexMale, BirthDate: "1990-01-01", BirthPlaceCOG: "08480", BirthCountryCOG: mapping.CountryFrance,
	}, "jean.dupont33")
	abroad := mapping.Person{BirthFamilyName: "FAKIR", GivenNames: []string{"EYMEN"}, Sex: mapping.SexMale, BirthDate: "1992-11", BirthCountryCOG: "99350"}
	tests := []struct {
		name string
		q    *connectors.PullQuery
	}{
		{"identite", &connectors.PullQuery{Person: person, Recipient: recipient}},
		{"identite, born abroad, fresh, a month", &connectors.PullQuery{Person: withFranceTravail(abroad, "martin.jacques"), Recipient: recipient,
			Fresh: true, Month: mapping.BenefitPeriod{Year: 2024, Month: 11}}},
		{"france_connect", &connectors.PullQuery{Person: person, Recipient: recipient, AccessToken: contractFCToken,
			Fresh: true, Month: mapping.BenefitPeriod{Year: 2024, Month: 11}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := &contractServer{t: t, doc: doc}
			c := contractClient(t, s)
			items, err := c.Pull(context.Background(), tc.q)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range s.problems() {
				t.Error(p)
			}
			if len(items) != len(c.Operations()) {
				t.Fatalf("%d items for %d operations", len(items), len(c.Operations()))
			}
			for _, item := range items {
				if item.Err != nil {
					t.Errorf("%s: %v", item.Operation, item.Err)
					continue
				}
				if item.Household == nil && item.Benefits == nil && item.Employment == nil && item.Payments == nil {
					t.Errorf("%s: no data mapped from the document's example", item.Operation)
				}
			}
			if len(s.routes) != len(items) {
				t.Errorf("%d routes called for %d operations: %v", len(s.routes), len(items), s.routes)
			}
		})
	}
}

// documentedErrors lists the error answers the document gives for the
// routes the connector calls: status and example body, by code.
func documentedErrors(t *testing.T, doc *contractDoc) map[string]documentedError {
	t.Helper()
	out := map[string]documentedError{}
	for path, item := range doc.doc.Paths.Map() {
		if !strings.HasPrefix(path, "/v3/dss/") && !strings.HasPrefix(path, "/v3/france_travail/") {
			continue
		}
		for status, resp := range item.Get.Responses.Map() {
			code, _ := strconv.Atoi(status)
			if code < 400 {
				continue
			}
			for name, ex := range resp.Value.Content.Get("application/json").Examples {
				body, err := json.Marshal(ex.Value.Value)
				if err != nil {
					t.Fatal(err)
				}
				var e struct {
					Errors []struct {
						Code string `json:"code"`
					} `json:"errors"`
				}
				if err := json.Unmarshal(body, &e); err != nil || len(e.Errors) == 0 {
					t.Fatalf("%s %s %s: not the platform's error format: %s", path, status, name, body)
				}
				key := e.Errors[0].Code + " " + status
				if _, seen := out[key]; !seen {
					out[key] = documentedError{path: path, status: code, body: body, code: e.Errors[0].Code}
				}
			}
		}
	}
	return out
}

type documentedError struct {
	path   string
	status int
	code   string
	body   []byte
}

// Every error code the document gives for these routes maps to its
// canonical outcome, with a class that agrees.
func TestRealContractErrors(t *testing.T) {
	t.Parallel()
	doc := theContract(t)
	want := map[string]connectors.Outcome{
		"00100": connectors.OutcomeRefused, "00101": connectors.OutcomeRefused, "00103": connectors.OutcomeRefused,
		"00105": connectors.OutcomeRefused, "00203": connectors.OutcomeRefused,
		"00366": connectors.OutcomeError,
		"00429": connectors.OutcomeRateLimited, "00015": connectors.OutcomeRateLimited, "37008": connectors.OutcomeRateLimited,
		"10003": connectors.OutcomeNotFound, "23003": connectors.OutcomeNotFound, "35003": connectors.OutcomeNotFound,
		"37003": connectors.OutcomeNotFound, "40003": connectors.OutcomeNotFound, "24003": connectors.OutcomeNotFound,
		"37001": connectors.OutcomeUnavailable, "37004": connectors.OutcomeUnavailable, "37999": connectors.OutcomeUnavailable,
		"00501": connectors.OutcomeUnavailable,
		"24001": connectors.OutcomeUnavailable, "24004": connectors.OutcomeUnavailable, "24999": connectors.OutcomeUnavailable,
		"37002": connectors.OutcomeTimeout, "24002": connectors.OutcomeTimeout,
	}
	class := map[connectors.Outcome]connectors.Class{
		connectors.OutcomeRefused: connectors.Permanent, connectors.OutcomeError: connectors.Permanent,
		connectors.OutcomeNotFound: connectors.NotFound, connectors.OutcomeRateLimited: connectors.Retryable,
		connectors.OutcomeUnavailable: connectors.Retryable, connectors.OutcomeTimeout: connectors.Retryable,
	}
	documented := documentedErrors(t, doc)
	keys := make([]string, 0, len(documented))
	for k := range documented {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	seen := map[string]bool{}
	for _, key := range keys {
		d := documented[key]
		seen[d.code] = true
		t.Run(key, func(t *testing.T) {
			t.Parallel()
			w, ok := want[d.code]
			if !ok {
				t.Fatalf("the document gives code %s (%s, HTTP %d), which the test does not expect", d.code, d.path, d.status)
			}
			s := &contractServer{t: t, doc: doc, answerFor: func(*routers.Route) answer { return answer{status: d.status, body: d.body} }}
			c := contractClient(t, s)
			op, q := operationOf(d.path)
			item := pullOne(t, c, q(op))
			for _, p := range s.problems() {
				t.Error(p)
			}
			ce, ok := errors.AsType[*connectors.Error](item.Err)
			if !ok || ce.Code != d.code || ce.Status != d.status || ce.Outcome != w || ce.Class != class[w] {
				t.Fatalf("%s on %s: %v (%#v), want code %s, outcome %s, class %s", key, op, item.Err, ce, d.code, w, class[w])
			}
			if connectors.OutcomeOf(item.Err) != w {
				t.Errorf("OutcomeOf = %s, want %s", connectors.OutcomeOf(item.Err), w)
			}
		})
	}
	for code := range want {
		if !seen[code] && code != "00203" {
			t.Errorf("code %s is expected but the document never gives it on these routes", code)
		}
	}
}

// operationOf names the connector's operation for a documented path, and
// how to ask for it.
func operationOf(path string) (string, func(op string) *connectors.PullQuery) {
	person := withFranceTravail(dupontSophie(), "jean.dupont33")
	identite := func(op string) *connectors.PullQuery { return query(person, op) }
	fc := func(op string) *connectors.PullQuery {
		return &connectors.PullQuery{Recipient: recipient, AccessToken: contractFCToken, Operations: []string{op}}
	}
	switch {
	case strings.HasPrefix(path, "/v3/france_travail/statut/"):
		return apiparticulier.OpFranceTravailStatut, identite
	case strings.HasPrefix(path, "/v3/france_travail/indemnites/"):
		return apiparticulier.OpFranceTravailIndemnites, identite
	}
	rest := strings.TrimPrefix(path, "/v3/dss/")
	op, mode, _ := strings.Cut(rest, "/")
	if mode == "france_connect" {
		return op, fc
	}
	return op, identite
}
