package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/relais-dev/relais/gateway/api"
	"github.com/relais-dev/relais/gateway/store"
)

// ---- The document and the checks every request goes through -----------

// spec is the OpenAPI document with a router that finds a request's
// operation.
type spec struct {
	doc    *openapi3.T
	router routers.Router
}

var loadSpec = sync.OnceValues(func() (*spec, error) {
	doc, err := loadDocument(api.OpenAPIYAML)
	if err != nil {
		return nil, err
	}
	doc.Servers = nil // match any host, the test server's included
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("building router: %w", err)
	}
	return &spec{doc: doc, router: router}, nil
})

// loadDocument loads and validates an OpenAPI document, YAML or JSON.
func loadDocument(data []byte) (*openapi3.T, error) {
	doc, err := openapi3.NewLoader().LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("loading OpenAPI document: %w", err)
	}
	if err := doc.Validate(context.Background(), openapi3.EnableMultiError()); err != nil {
		return nil, fmt.Errorf("validating OpenAPI document: %w", err)
	}
	return doc, nil
}

func theSpec(tb testing.TB) *spec {
	tb.Helper()
	sp, err := loadSpec()
	if err != nil {
		tb.Fatal(err)
	}
	return sp
}

// bearerShape is the document's security scheme as a client sees it: a
// bearer token is there. Whether the key is live is the server's business.
func bearerShape(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	scheme, token, ok := strings.Cut(in.RequestValidationInput.Request.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return in.NewError(errors.New("no bearer token"))
	}
	return nil
}

// checkRequest validates c against the document and returns the input to
// validate its response with; nil when the document has no such operation.
func (bnd *bundle) checkRequest(tb testing.TB, c call) *openapi3filter.RequestValidationInput {
	tb.Helper()
	sp := theSpec(tb)
	req := newRequest(tb, "http://relais.test", c)
	route, params, err := sp.router.FindRoute(req)
	if err != nil {
		if !c.docRejects {
			tb.Errorf("%s %s is not in the OpenAPI document: %v", c.method, c.path, err)
		}
		return nil
	}
	in := &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: bearerShape, MultiError: true},
	}
	err = openapi3filter.ValidateRequest(context.Background(), in)
	switch {
	case c.docRejects && err == nil:
		tb.Errorf("the OpenAPI document accepts %s %s, which the test sends as breaking it", c.method, c.path)
	case !c.docRejects && err != nil:
		tb.Errorf("%s %s breaks the OpenAPI document: %v", c.method, c.path, err)
	}
	return in
}

// checkResponse validates r against the operation's documented responses:
// status, headers and body.
func (bnd *bundle) checkResponse(tb testing.TB, c call, in *openapi3filter.RequestValidationInput, r result) {
	tb.Helper()
	if c.method == http.MethodHead {
		return // no body to check
	}
	if in == nil {
		// No such operation: the answer is the route_not_found problem.
		if err := validateProblem(tb, r); err != nil {
			tb.Errorf("response to %s %s: %v\n%s", c.method, c.path, err, r.body)
		}
		return
	}
	if err := validateResponse(in, r); err != nil {
		tb.Errorf("response to %s %s breaks the OpenAPI document: %v\n%s", c.method, c.path, err, r.body)
	}
	bnd.mu.Lock()
	bnd.coverage[in.Route.Method+" "+in.Route.Path+" "+strconv.Itoa(r.status)] = true
	bnd.mu.Unlock()
}

func validateResponse(in *openapi3filter.RequestValidationInput, r result) error {
	return openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: r.status, Header: r.header, Body: io.NopCloser(bytes.NewReader(r.body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	})
}

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{8,128}$`)

// validateProblem checks a response outside any operation against the
// document's Problem schema.
func validateProblem(tb testing.TB, r result) error {
	tb.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		return fmt.Errorf("content type %q, want application/problem+json", ct)
	}
	if id := r.header.Get("X-Request-Id"); !requestIDPattern.MatchString(id) {
		return fmt.Errorf("X-Request-Id %q", id)
	}
	var v any
	if err := json.Unmarshal(r.body, &v); err != nil {
		return fmt.Errorf("decoding problem: %w", err)
	}
	return theSpec(tb).doc.Components.Schemas["Problem"].Value.VisitJSON(v, openapi3.EnableJSONSchema2020())
}

// ---- Tests -------------------------------------------------------------

// TestOpenAPIDocument checks the document itself: it is valid OpenAPI 3.1,
// it describes exactly the routes served, it is what /v1/openapi.json
// serves, and the checks built on it reject what they should.
func TestOpenAPIDocument(t *testing.T) {
	t.Parallel()
	bnd := setup(t)

	t.Run("Valid", func(t *testing.T) {
		t.Parallel()
		doc, err := loadDocument(api.OpenAPIYAML)
		if err != nil {
			t.Fatal(err)
		}
		if doc.OpenAPI != "3.1.0" {
			t.Fatalf("openapi %q, want 3.1.0", doc.OpenAPI)
		}
	})

	t.Run("RoutesMatchServer", func(t *testing.T) {
		t.Parallel()
		params := regexp.MustCompile(`\{[^}]*\}`)
		var documented []string
		for path, item := range theSpec(t).doc.Paths.Map() {
			for method := range item.Operations() {
				documented = append(documented, method+" "+params.ReplaceAllString(path, "{}"))
			}
		}
		var served []string
		for _, r := range bnd.server.Routes() {
			served = append(served, params.ReplaceAllString(r, "{}"))
		}
		slices.Sort(documented)
		slices.Sort(served)
		if !slices.Equal(documented, served) {
			t.Fatalf("documented operations differ from the routes served:\ndocumented %q\nserved     %q", documented, served)
		}
	})

	t.Run("ServedAsJSON", func(t *testing.T) {
		t.Parallel()
		r := bnd.do(t, call{method: http.MethodGet, path: "/v1/openapi.json"})
		wantStatus(t, r, http.StatusOK)
		if ct := r.header.Get("Content-Type"); ct != "application/json" {
			t.Fatalf("Content-Type %q", ct)
		}
		if !json.Valid(r.body) {
			t.Fatal("the served document is not JSON")
		}
		served, err := loadDocument(r.body)
		if err != nil {
			t.Fatalf("served document: %v", err)
		}
		committed, err := loadDocument(api.OpenAPIYAML)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := json.Marshal(served)
		want, _ := json.Marshal(committed)
		if !bytes.Equal(got, want) {
			t.Fatalf("GET /v1/openapi.json differs from openapi.yaml:\nserved    %.400s\ncommitted %.400s", got, want)
		}
	})

	// The response checks must not be vacuous: each of these breaks the
	// document in one way.
	t.Run("ChecksAreStrict", func(t *testing.T) {
		t.Parallel()
		sp := theSpec(t)
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://relais.test/v1/submissions/sub_aaaaaaaaaaaaaaaa", nil)
		route, params, err := sp.router.FindRoute(req)
		if err != nil {
			t.Fatal(err)
		}
		in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route}
		problemHeader := http.Header{"Content-Type": {"application/problem+json"}, "X-Request-Id": {"req_0123456789abcdef01234567"}}
		good := `{"type":"https://relais.dev/problems/not-found","title":"Not found","status":404,"code":"not_found","request_id":"req_0123456789abcdef01234567"}`
		if err := validateResponse(in, result{status: 404, header: problemHeader, body: []byte(good)}); err != nil {
			t.Fatalf("a documented 404 fails: %v", err)
		}
		for name, bad := range map[string]result{
			"undocumented status": {status: 418, header: problemHeader, body: []byte(good)},
			"undocumented code":   {status: 404, header: problemHeader, body: []byte(strings.Replace(good, `"not_found"`, `"gone"`, 1))},
			"unknown property":    {status: 404, header: problemHeader, body: []byte(strings.Replace(good, `{`, `{"stack":"main.go:12",`, 1))},
			"missing request_id":  {status: 404, header: problemHeader, body: []byte(strings.Replace(good, `,"request_id":"req_0123456789abcdef01234567"`, ``, 1))},
			"no X-Request-Id":     {status: 404, header: http.Header{"Content-Type": {"application/problem+json"}}, body: []byte(good)},
			"wrong content type":  {status: 404, header: http.Header{"Content-Type": {"application/json"}, "X-Request-Id": {"req_0123456789abcdef01234567"}}, body: []byte(good)},
			"bad delivery status": {
				status: 200, header: http.Header{"Content-Type": {"application/json"}, "X-Request-Id": {"req_0123456789abcdef01234567"}},
				body: []byte(`{"id":"sub_aaaaaaaaaaaaaaaa","idempotency_key":"k","kind":"document_deposit","categories":["identity"],"created_at":"2026-03-02T09:15:00Z",
"deliveries":[{"id":"dlv_aaaaaaaaaaaaaaaa","submission_id":"sub_aaaaaaaaaaaaaaaa","destination":"coffrefort","idempotency_key":"relais-dlv_aaaaaaaaaaaaaaaa","status":"lost","attempts":0,"updated_at":"2026-03-02T09:15:00Z"}]}`),
			},
		} {
			if err := validateResponse(in, bad); err == nil {
				t.Errorf("%s: the document accepts it", name)
			}
		}
	})
}

// TestOpenAPIConformance runs a scenario through every operation and
// nearly every documented status, every request and response checked
// against the document by bundle.do, then checks nothing documented was
// left unexercised.
func TestOpenAPIConformance(t *testing.T) {
	t.Parallel()
	bnd := setup(t)
	a := bnd.a

	// Operations and meta.
	wantStatus(t, bnd.do(t, call{method: http.MethodGet, path: "/healthz"}), http.StatusOK)
	wantStatus(t, bnd.do(t, call{method: http.MethodGet, path: "/readyz", header: map[string]string{"X-Request-Id": "probe-000001"}}), http.StatusOK)
	bnd.workersUp.Store(false)
	wantStatus(t, bnd.do(t, call{method: http.MethodGet, path: "/readyz"}), http.StatusServiceUnavailable)
	bnd.workersUp.Store(true)
	wantStatus(t, bnd.do(t, call{method: http.MethodGet, path: "/v1/openapi.json"}), http.StatusOK)
	conns := bnd.do(t, get(a, "/v1/connectors"))
	wantStatus(t, conns, http.StatusOK)
	if !strings.Contains(string(conns.body), `"name":"archiviste"`) || !strings.Contains(string(conns.body), `"name":"coffrefort"`) {
		t.Fatalf("connectors: %s", conns.body)
	}
	wantProblem(t, bnd.do(t, call{method: http.MethodGet, path: "/v1/connectors", docRejects: true}), http.StatusUnauthorized, "unauthenticated")

	// Submitting.
	body := encode(t, set(deposit(samplePDF), "destinations", []any{"coffrefort", "archiviste"}))
	sub := bnd.createSubmission(t, a, "conf-1", body)
	again := bnd.do(t, submit(a, "conf-1", body))
	wantStatus(t, again, http.StatusAccepted)
	if again.header.Get("Idempotent-Replayed") != "true" || decode[accepted](t, again).ID != sub.ID {
		t.Fatalf("same key, same body: %s %v", again, again.header)
	}
	wantProblem(t, bnd.do(t, submit(a, "conf-1", validBody(t))), http.StatusUnprocessableEntity, "idempotency_key_reused")
	wantProblem(t, bnd.do(t, submit(a, "conf-2", encode(t, set(deposit(samplePDF), "destinations", []any{"nowhere"})))),
		http.StatusUnprocessableEntity, "validation_failed")
	malformed := submit(a, "conf-3", []byte(`{"destinations":`))
	malformed.docRejects = true
	wantProblem(t, bnd.do(t, malformed), http.StatusBadRequest, "malformed_json")
	noKey := submit(a, "", validBody(t))
	noKey.header, noKey.docRejects = nil, true
	wantProblem(t, bnd.do(t, noKey), http.StatusBadRequest, "idempotency_key_required")
	plain := submit(a, "conf-4", validBody(t))
	plain.header["Content-Type"], plain.docRejects = "text/plain", true
	wantProblem(t, bnd.do(t, plain), http.StatusUnsupportedMediaType, "unsupported_media_type")
	wantProblem(t, bnd.do(t, submit(a, "conf-5", encode(t, deposit(make([]byte, maxDocument+1))))), http.StatusRequestEntityTooLarge, "document_too_large")
	wantProblem(t, bnd.do(t, submit(tenant{secret: "rls_not-a-key-of-anyone"}, "conf-6", validBody(t))), http.StatusUnauthorized, "invalid_api_key")

	// Reading the submission.
	r := bnd.do(t, get(a, sub.Href))
	wantStatus(t, r, http.StatusOK)
	view := decode[submissionView](t, r)
	if view.ID != sub.ID || view.Kind != "document_deposit" || strings.Join(view.Categories, ",") != "identity,contact,document" || len(view.Deliveries) != 2 {
		t.Fatalf("submission: %s", r.body)
	}
	wantProblem(t, bnd.do(t, get(a, "/v1/submissions/sub_aaaaaaaaaaaaaaaa")), http.StatusNotFound, "not_found")
	wantProblem(t, bnd.do(t, call{method: http.MethodGet, path: sub.Href, docRejects: true}), http.StatusUnauthorized, "unauthenticated")

	ids := map[string]string{}
	for _, d := range sub.Deliveries {
		ids[d.Destination] = d.ID
	}
	coffre, archiviste := ids["coffrefort"], ids["archiviste"]

	// A delivery through its lifecycle: queued, failed, replayed, delivered.
	d := bnd.getDelivery(t, a, coffre)
	if d.Status != "queued" || d.Attempts != 0 || d.IdempotencyKey != store.DeliveryIdempotencyKey(coffre) || d.SubmissionID != sub.ID {
		t.Fatalf("new delivery: %+v", d)
	}
	wantProblem(t, bnd.do(t, replay(a, coffre)), http.StatusConflict, "delivery_not_replayable")
	bnd.coffre.queue(rejected())
	bnd.work(t, a, coffre)
	d = bnd.getDelivery(t, a, coffre)
	if d.Status != "failed" || d.Attempts != 1 || !strings.Contains(string(d.LastError), `"code":"upstream_rejected"`) ||
		!strings.Contains(string(d.LastError), `"BENEFICIARY_UNKNOWN"`) {
		t.Fatalf("rejected delivery: %+v %s", d, d.LastError)
	}
	r = bnd.do(t, replay(a, coffre))
	wantStatus(t, r, http.StatusAccepted)
	if d = decode[deliveryView](t, r); d.Status != "queued" || d.Attempts != 0 || d.IdempotencyKey != store.DeliveryIdempotencyKey(coffre) {
		t.Fatalf("replayed delivery: %s", r.body)
	}
	bnd.work(t, a, coffre)
	d = bnd.getDelivery(t, a, coffre)
	if d.Status != "delivered" || d.Receipt == nil || d.Receipt.RemoteID != "doc-"+coffre || d.NextAttemptAt != nil {
		t.Fatalf("delivered delivery: %+v", d)
	}
	calls := bnd.coffre.received()
	if len(calls) != 2 {
		t.Fatalf("the platform got %d calls, want 2", len(calls))
	}
	for _, c := range calls {
		if c.idempotencyKey != d.IdempotencyKey || !bytes.Equal(c.content, samplePDF) || c.lastName != "Lefèvre" {
			t.Fatalf("platform call %+v: want key %q and the submitted document", c, d.IdempotencyKey)
		}
	}

	// Another: retrying, dead after the attempt budget, replayed.
	bnd.archiviste.queue(unavailable())
	bnd.work(t, a, archiviste)
	d = bnd.getDelivery(t, a, archiviste)
	if d.Status != "retrying" || d.NextAttemptAt == nil || !d.NextAttemptAt.After(bnd.clock.Now()) ||
		!strings.Contains(string(d.LastError), `"retry_after":"5s"`) {
		t.Fatalf("retrying delivery: %+v %s", d, d.LastError)
	}
	wantProblem(t, bnd.do(t, replay(a, archiviste)), http.StatusConflict, "delivery_not_replayable")
	bnd.archiviste.queue(unavailable(), unavailable())
	bnd.work(t, a, archiviste)
	bnd.work(t, a, archiviste)
	if d = bnd.getDelivery(t, a, archiviste); d.Status != "dead" || d.Attempts != 3 || d.NextAttemptAt != nil {
		t.Fatalf("dead delivery: %+v", d)
	}
	wantStatus(t, bnd.do(t, replay(a, archiviste)), http.StatusAccepted)
	bnd.work(t, a, archiviste)
	if d = bnd.getDelivery(t, a, archiviste); d.Status != "delivered" {
		t.Fatalf("replayed dead delivery: %+v", d)
	}
	wantProblem(t, bnd.do(t, get(a, "/v1/deliveries/dlv_aaaaaaaaaaaaaaaa")), http.StatusNotFound, "not_found")
	wantProblem(t, bnd.do(t, replay(a, "dlv_aaaaaaaaaaaaaaaa")), http.StatusNotFound, "not_found")
	wantProblem(t, bnd.do(t, call{method: http.MethodGet, path: "/v1/deliveries/" + coffre, docRejects: true}), http.StatusUnauthorized, "unauthenticated")
	wantProblem(t, bnd.do(t, call{method: http.MethodPost, path: "/v1/deliveries/" + coffre + "/replay", docRejects: true}), http.StatusUnauthorized, "unauthenticated")
	r = bnd.do(t, get(a, sub.Href))
	for _, d := range decode[submissionView](t, r).Deliveries {
		if d.Status != "delivered" {
			t.Fatalf("after the scenario: %s", r.body)
		}
	}
	wantStatus(t, bnd.do(t, call{method: http.MethodGet, path: "/metrics"}), http.StatusOK)
	wantProblem(t, bnd.do(t, call{method: http.MethodGet, path: "/v1/nowhere", docRejects: true}), http.StatusNotFound, "route_not_found")

	// Server failures, from a store that fails.
	broken := setupWith(t, options{driver: "sqlite", wrap: func(s api.Store) api.Store { return failingStore{s} }})
	for _, c := range []call{
		submit(broken.a, "conf-500", validBody(t)),
		get(broken.a, "/v1/submissions/sub_aaaaaaaaaaaaaaaa"),
		get(broken.a, "/v1/deliveries/dlv_aaaaaaaaaaaaaaaa"),
		replay(broken.a, "dlv_aaaaaaaaaaaaaaaa"),
	} {
		wantProblem(t, broken.do(t, c), http.StatusInternalServerError, "internal_error")
	}

	// Mandates: every operation and status (mandates_test.go).
	bnd.exerciseMandates(t)

	// Administration, and admin keys on tenant routes (admin_test.go).
	bnd.exerciseAdmin(t)

	// Profile lookups and their prefills (profiles_test.go).
	bnd.exerciseProfiles(t)

	// Activity reports (reports_test.go).
	bnd.exerciseReports(t)

	// Every documented response was seen, but those no test can cause.
	unreachable := map[string]string{
		"GET /metrics 500":         "the registry never fails to gather",
		"GET /v1/openapi.json 500": "the embedded document always converts",
		"GET /v1/connectors 500":   "listing connectors cannot fail",
	}
	var missing []string
	for path, item := range theSpec(t).doc.Paths.Map() {
		for method, op := range item.Operations() {
			for status := range op.Responses.Map() {
				k := method + " " + path + " " + status
				if !bnd.coverage[k] && !broken.coverage[k] {
					if _, ok := unreachable[k]; !ok {
						missing = append(missing, k)
					}
				}
			}
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Errorf("documented responses never exercised: %q", missing)
	}
}

// failingStore authenticates, then fails every other call: with an error
// whose text must not reach the client, or with a panic.
type failingStore struct{ api.Store }

var errDisk = errors.New("disk I/O error on /var/lib/relais/relais.db: Lefèvre")

func (failingStore) CreateSubmission(context.Context, store.NewSubmission) (store.Submission, bool, error) {
	return store.Submission{}, false, errDisk
}

func (failingStore) GetSubmission(context.Context, string, string) (store.Submission, error) {
	return store.Submission{}, errDisk
}

func (failingStore) GetDelivery(context.Context, string, string) (store.Delivery, error) {
	panic("runtime error: invalid memory address or nil pointer dereference")
}

func (failingStore) ReplayDelivery(context.Context, string, string, string) (store.Delivery, error) {
	return store.Delivery{}, fmt.Errorf("replaying: %w", errDisk)
}

func (failingStore) Ready(context.Context) error { return errDisk }
