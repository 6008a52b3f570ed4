package coffrefortcontract_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"go.uber.org/goleak"

	"github.com/relais-dev/relais/connectors/clock"
	coffrefortcontract "github.com/relais-dev/relais/contracts/coffrefort"
	"github.com/relais-dev/relais/mocks/coffrefort"
	"github.com/relais-dev/relais/mocks/platform"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// transient are the statuses any operation may answer (injected faults in
// the mock).
var transient = []int{429, 500, 502, 503, 504}

// producible lists, per operation, every status the mock can answer on its
// own. The contract must document exactly these plus transient, and the
// test below must see each of them.
var producible = map[string][]int{
	"token":                       {200, 400, 401},
	"beneficiaries.search":        {200, 400, 401, 403},
	"beneficiaries.create":        {201, 400, 401, 403, 409, 413, 415, 422},
	"beneficiaries.external_link": {200, 400, 401, 403, 404, 409, 413, 415, 422},
	"documents.create":            {201, 400, 401, 403, 413, 415, 422},
	"documents.list":              {200, 401, 403, 404},
	"documents.get":               {200, 401, 403, 404},
	"documents.toggle_visibility": {200, 401, 403, 404},
}

func TestContractDocument(t *testing.T) {
	t.Parallel()
	doc, err := coffrefortcontract.Load()
	if err != nil {
		t.Fatalf("loading: %v", err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("openapi = %q, want 3.1", doc.OpenAPI)
	}
	if s := doc.Components.SecuritySchemes["bearerAuth"]; s == nil || s.Value.Type != "http" || s.Value.Scheme != "bearer" {
		t.Fatal("no bearer security scheme")
	}
	for _, phrase := range []string{"Facts from the public Reconnect v3 description", "Designed by Relais", "Idempotency-Key", "NOT part of this contract"} {
		if !strings.Contains(doc.Info.Description, phrase) {
			t.Errorf("info.description does not say %q", phrase)
		}
	}

	// The mock serves every operation (the runtime refuses a mock that
	// does not), and the producible statuses below name them all.
	ops := operations(doc)
	want := coffrefort.New(coffrefort.Options{}).Operations()
	if got := slices.Sorted(maps.Keys(ops)); !slices.Equal(got, want) || !slices.Equal(want, slices.Sorted(maps.Keys(producible))) {
		t.Fatalf("operations %v, the mock serves %v", got, want)
	}

	// Every status the mock can produce is documented, and nothing more.
	for id, op := range ops {
		documented := []int{}
		for code := range op.Responses.Map() {
			n, err := strconv.Atoi(code)
			if err != nil {
				t.Errorf("%s: response %q is not a status", id, code)
				continue
			}
			documented = append(documented, n)
		}
		slices.Sort(documented)
		expected := slices.Sorted(slices.Values(append(slices.Clone(producible[id]), transient...)))
		if !slices.Equal(documented, expected) {
			t.Errorf("%s documents %v, the mock produces %v", id, documented, expected)
		}
		if id != "token" && (op.Security == nil || len(*op.Security) != 1 || len((*op.Security)[0]["bearerAuth"]) != 1) {
			t.Errorf("%s does not name its scope under bearerAuth", id)
		}
	}

	if !bytes.Equal(coffrefortcontract.Spec(), coffrefortcontract.Spec()) || len(coffrefortcontract.Spec()) == 0 {
		t.Fatal("Spec is not stable")
	}
}

func TestContractCatchesBadExamples(t *testing.T) {
	t.Parallel()
	broken := bytes.Replace(coffrefortcontract.Spec(), []byte("hash_algorithm: SHA-256\n        hash: 9f86"), []byte("hash_algorithm: MD5\n        hash: 9f86"), 1)
	if bytes.Equal(broken, coffrefortcontract.Spec()) {
		t.Fatal("the example to break was not found")
	}
	doc, err := openapi3.NewLoader().LoadFromData(broken)
	if err != nil {
		t.Fatalf("loading: %v", err)
	}
	if err := doc.Validate(t.Context()); err == nil {
		t.Fatal("an example that breaks its schema validated: examples are not checked")
	}
}

func operations(doc *openapi3.T) map[string]*openapi3.Operation {
	out := map[string]*openapi3.Operation{}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			out[op.OperationID] = op
		}
	}
	return out
}

// checker sends requests to the mock and validates both directions against
// the contract.
type checker struct {
	t      *testing.T
	mock   *coffrefort.Server
	ts     *httptest.Server
	router routers.Router
	// seen records the statuses answered, per operation.
	seen map[string]map[int]bool
}

// call is one request and what must come of it.
type call struct {
	op          string
	method      string
	path        string
	token       string
	contentType string
	body        []byte
	header      map[string]string
	status      int
	// breaksContract marks a request that is invalid on purpose: request
	// validation must reject it (the response must still be documented).
	breaksContract bool
}

func requireBearer(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	if in.SecuritySchemeName != "bearerAuth" {
		return fmt.Errorf("unexpected security scheme %q", in.SecuritySchemeName)
	}
	h := in.RequestValidationInput.Request.Header.Get("Authorization")
	if tok, ok := strings.CutPrefix(h, "Bearer "); !ok || tok == "" {
		return errors.New("no bearer token")
	}
	return nil
}

func (c *checker) newRequest(cl call) *http.Request {
	r, err := http.NewRequestWithContext(c.t.Context(), cl.method, c.ts.URL+cl.path, bytes.NewReader(cl.body))
	if err != nil {
		c.t.Fatalf("building %s %s: %v", cl.method, cl.path, err)
	}
	if cl.token != "" {
		r.Header.Set("Authorization", "Bearer "+cl.token)
	}
	if cl.contentType != "" {
		r.Header.Set("Content-Type", cl.contentType)
	}
	for k, v := range cl.header {
		r.Header.Set(k, v)
	}
	return r
}

// check runs one call and returns the response body.
func (c *checker) check(cl call) []byte {
	t := c.t
	t.Helper()
	label := fmt.Sprintf("%s %s -> %d", cl.method, cl.path, cl.status)

	req := c.newRequest(cl)
	route, pathParams, err := c.router.FindRoute(req)
	if err != nil {
		t.Fatalf("%s: the contract has no operation for it: %v", label, err)
	}
	if route.Operation.OperationID != cl.op {
		t.Fatalf("%s: routed to %q, want %q", label, route.Operation.OperationID, cl.op)
	}
	in := &openapi3filter.RequestValidationInput{
		Request:    req,
		PathParams: pathParams,
		Route:      route,
		Options:    &openapi3filter.Options{AuthenticationFunc: requireBearer, MultiError: true},
	}
	err = openapi3filter.ValidateRequest(t.Context(), in)
	switch {
	case err != nil && !cl.breaksContract:
		t.Errorf("%s: the request breaks the contract: %v", label, err)
	case err == nil && cl.breaksContract:
		t.Errorf("%s: the contract accepts a request meant to break it", label)
	}

	rsp, err := c.ts.Client().Do(c.newRequest(cl))
	if err != nil {
		t.Fatalf("%s: %v", label, err)
	}
	body, err := io.ReadAll(rsp.Body)
	rsp.Body.Close()
	if err != nil {
		t.Fatalf("%s: reading the response: %v", label, err)
	}
	if rsp.StatusCode != cl.status {
		t.Fatalf("%s: got %d %s", label, rsp.StatusCode, body)
	}
	if err := openapi3filter.ValidateResponse(t.Context(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 rsp.StatusCode,
		Header:                 rsp.Header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}); err != nil {
		t.Errorf("%s: the response breaks the contract: %v\n%s", label, err, body)
	}
	log := c.mock.Log()
	if got := log[len(log)-1].Route; got != cl.op {
		t.Errorf("%s: the mock logged route %q, the contract says %q", label, got, cl.op)
	}
	if c.seen[cl.op] == nil {
		c.seen[cl.op] = map[int]bool{}
	}
	c.seen[cl.op][rsp.StatusCode] = true
	return body
}

type part struct {
	name, filename, contentType string
	content                     []byte
}

func multipartBody(t *testing.T, parts ...part) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		disp := fmt.Sprintf("form-data; name=%q", p.name)
		if p.filename != "" {
			disp += fmt.Sprintf("; filename=%q", p.filename)
		}
		h.Set("Content-Disposition", disp)
		if p.contentType != "" {
			h.Set("Content-Type", p.contentType)
		}
		w, err := mw.CreatePart(h)
		if err == nil {
			_, err = w.Write(p.content)
		}
		if err != nil {
			t.Fatalf("writing part %s: %v", p.name, err)
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatalf("closing multipart: %v", err)
	}
	return mw.FormDataContentType(), buf.Bytes()
}

func tokenBody(grant, scope, secret string) []byte {
	b, _ := json.Marshal(map[string]string{"grant_type": grant, "scope": scope, "client_id": coffrefort.DefaultClientID, "client_secret": secret})
	return b
}

func accessToken(t *testing.T, body []byte) string {
	t.Helper()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("no token in %s: %v", body, err)
	}
	return tok.AccessToken
}

const maxFileSize = 4 << 10

func TestMockHonoursContract(t *testing.T) {
	t.Parallel()
	doc, err := coffrefortcontract.Load()
	if err != nil {
		t.Fatalf("loading: %v", err)
	}
	clock := clock.NewFake(time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC))
	mock := coffrefort.New(coffrefort.Options{Now: clock.Now, MaxFileSize: maxFileSize, TokenTTL: time.Hour})
	ts := httptest.NewServer(mock)
	t.Cleanup(ts.Close)
	doc.Servers = openapi3.Servers{{URL: ts.URL}}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatalf("building the router: %v", err)
	}
	c := &checker{t: t, mock: mock, ts: ts, router: router, seen: map[string]map[int]bool{}}
	const (
		jsonCT       = "application/json"
		secret       = coffrefort.DefaultClientSecret
		beneficiary1 = "/api/v3/beneficiaries/1"
	)

	// token
	tok := accessToken(t, c.check(call{op: "token", method: "POST", path: "/api/token", contentType: jsonCT, body: tokenBody("client_credentials", "", secret), status: 200}))
	other := accessToken(t, c.check(call{op: "token", method: "POST", path: "/api/token", contentType: jsonCT, body: tokenBody("client_credentials", "centers", secret), status: 200}))
	c.check(call{op: "token", method: "POST", path: "/api/token", contentType: jsonCT, body: tokenBody("password", "", secret), status: 400, breaksContract: true})
	c.check(call{op: "token", method: "POST", path: "/api/token", contentType: jsonCT, body: []byte(`{"grant_type":`), status: 400, breaksContract: true})
	c.check(call{op: "token", method: "POST", path: "/api/token", contentType: jsonCT, body: tokenBody("client_credentials", "", "wrong"), status: 401})

	// beneficiaries.create
	create := func(token, contentType string, body []byte, status int, breaks bool, header map[string]string) []byte {
		return c.check(call{op: "beneficiaries.create", method: "POST", path: "/api/v3/beneficiaries", token: token, contentType: contentType, body: body, status: status, breaksContract: breaks, header: header})
	}
	full := []byte(`{"birth_date":"1987-02-28","first_name":"Élodie","last_name":"Dupont-Martin","email":"elodie@example.org","phone":"+33612345678","distant_id":"dui-1","centers":[12],"external_center":7,"external_pro_id":"pro-381"}`)
	first := create(tok, jsonCT, full, 201, false, map[string]string{"Idempotency-Key": "b-1"})
	if replay := create(tok, jsonCT, full, 201, false, map[string]string{"Idempotency-Key": "b-1"}); !bytes.Equal(replay, first) {
		t.Fatalf("replay differs: %s vs %s", replay, first)
	}
	create(tok, jsonCT, []byte(`{"first_name":"Jean","last_name":"Martin","birth_date":"1990-01-01"}`), 201, false, nil)
	create(tok, jsonCT, []byte(`{"first_name":"A","last_name":"B","birth_date":"1990-01-01","firstName":"A"}`), 400, true, nil)
	create("", jsonCT, full, 401, true, nil)
	create("forged", jsonCT, full, 401, false, nil)
	create(other, jsonCT, full, 403, false, nil)
	create(tok, jsonCT, []byte(`{"first_name":"Jean","last_name":"Martin","birth_date":"1990-01-01","distant_id":"dui-1"}`), 409, false, nil)
	create(tok, jsonCT, []byte(`{"first_name":"`+strings.Repeat("J", 1<<20)+`","last_name":"Martin","birth_date":"1990-01-01"}`), 413, false, nil)
	create(tok, "text/plain", full, 415, true, nil)
	create(tok, jsonCT, []byte(`{"last_name":"Martin","birth_date":"1990-01-01"}`), 422, true, nil)

	// beneficiaries.search
	search := func(token, query string, status int, breaks bool) []byte {
		return c.check(call{op: "beneficiaries.search", method: "GET", path: "/api/v3/beneficiaries" + query, token: token, status: status, breaksContract: breaks})
	}
	if found := search(tok, "?distantId=dui-1", 200, false); !bytes.Contains(found, []byte(`"id":1`)) {
		t.Fatalf("search found %s", found)
	}
	if none := search(tok, "?distantId=nobody", 200, false); string(none) != "[]" {
		t.Fatalf("empty search = %s", none)
	}
	search(tok, "", 400, true)
	search("", "?distantId=dui-1", 401, true)
	search(other, "?distantId=dui-1", 403, false)

	// beneficiaries.external_link
	link := func(token, path, contentType, body string, status int, breaks bool) {
		c.check(call{op: "beneficiaries.external_link", method: "PATCH", path: path + "/add-external-link", token: token, contentType: contentType, body: []byte(body), status: status, breaksContract: breaks})
	}
	link(tok, "/api/v3/beneficiaries/2", jsonCT, `{"distant_id":"dui-2","external_center":"chrs-7","external_pro_id":null}`, 200, false)
	link(tok, "/api/v3/beneficiaries/2", "application/merge-patch+json", `{"distant_id":"dui-2b"}`, 200, false)
	link(tok, "/api/v3/beneficiaries/2", jsonCT, `{"distant_id":"dui-2","center":1}`, 400, true)
	link("", "/api/v3/beneficiaries/2", jsonCT, `{"distant_id":"dui-2"}`, 401, true)
	link(other, "/api/v3/beneficiaries/2", jsonCT, `{"distant_id":"dui-2"}`, 403, false)
	link(tok, "/api/v3/beneficiaries/999", jsonCT, `{"distant_id":"dui-9"}`, 404, false)
	link(tok, "/api/v3/beneficiaries/2", jsonCT, `{"distant_id":"dui-1"}`, 409, false)
	link(tok, "/api/v3/beneficiaries/2", jsonCT, `{"distant_id":"`+strings.Repeat("d", 1<<20)+`"}`, 413, false)
	link(tok, "/api/v3/beneficiaries/2", "text/plain", `{"distant_id":"dui-3"}`, 415, true)
	link(tok, "/api/v3/beneficiaries/2", jsonCT, `{"distant_id":""}`, 422, true)

	// documents.create
	upload := func(token string, parts []part, status int, breaks bool, header map[string]string) []byte {
		ct, body := multipartBody(t, parts...)
		return c.check(call{op: "documents.create", method: "POST", path: "/api/v3/documents", token: token, contentType: ct, body: body, status: status, breaksContract: breaks, header: header})
	}
	pdf := part{name: "file", filename: "Attestation CAF.pdf", contentType: "application/pdf", content: []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")}
	ben := func(id string) part { return part{name: "beneficiary_id", content: []byte(id)} }
	deposited := upload(tok, []part{ben("1"), {name: "folder_id", content: []byte("3")}, {name: "distant_id", content: []byte("doc-1")},
		{name: "issue_date", content: []byte("2025-01-31")}, {name: "name", content: []byte("Attestation")}, pdf}, 201, false, map[string]string{"Idempotency-Key": "d-1"})
	if replay := upload(tok, []part{ben("1"), pdf}, 201, false, map[string]string{"Idempotency-Key": "d-1"}); !bytes.Equal(replay, deposited) {
		t.Fatalf("replay differs: %s vs %s", replay, deposited)
	}
	upload(tok, []part{ben("1"), {name: "file", filename: "notes", content: []byte("plain text, no type")}}, 201, false, nil)
	upload(tok, []part{ben("1"), {name: "owner", content: []byte("me")}, pdf}, 400, true, nil)
	upload("", []part{ben("1"), pdf}, 401, true, nil)
	upload(other, []part{ben("1"), pdf}, 403, false, nil)
	upload(tok, []part{ben("1"), {name: "file", filename: "big.pdf", contentType: "application/pdf", content: bytes.Repeat([]byte("x"), maxFileSize+1)}}, 413, false, nil)
	c.check(call{op: "documents.create", method: "POST", path: "/api/v3/documents", token: tok, contentType: jsonCT, body: []byte(`{"beneficiary_id":1}`), status: 415, breaksContract: true})
	upload(tok, []part{ben("999"), pdf}, 422, false, nil)
	upload(tok, []part{ben("1")}, 422, true, nil)

	// documents.list, documents.get, documents.toggle_visibility
	read := func(op, method, path, token string, status int, breaks bool) {
		c.check(call{op: op, method: method, path: path, token: token, status: status, breaksContract: breaks})
	}
	for _, r := range []struct{ op, method, found, missing string }{
		{"documents.list", "GET", beneficiary1 + "/documents", "/api/v3/beneficiaries/999/documents"},
		{"documents.get", "GET", "/api/v3/documents/1", "/api/v3/documents/999"},
		{"documents.toggle_visibility", "PATCH", "/api/v3/documents/1/toggle-visibility", "/api/v3/documents/999/toggle-visibility"},
	} {
		read(r.op, r.method, r.found, tok, 200, false)
		read(r.op, r.method, r.found, "", 401, true)
		read(r.op, r.method, r.found, other, 403, false)
		read(r.op, r.method, r.missing, tok, 404, false)
	}

	// Transient answers, injected on each operation in turn.
	valid := map[string]call{
		"token":                       {method: "POST", path: "/api/token", contentType: jsonCT, body: tokenBody("client_credentials", "", secret)},
		"beneficiaries.search":        {method: "GET", path: "/api/v3/beneficiaries?distantId=dui-1", token: tok},
		"beneficiaries.create":        {method: "POST", path: "/api/v3/beneficiaries", token: tok, contentType: jsonCT, body: []byte(`{"first_name":"A","last_name":"B","birth_date":"2000-01-01"}`)},
		"beneficiaries.external_link": {method: "PATCH", path: beneficiary1 + "/add-external-link", token: tok, contentType: jsonCT, body: []byte(`{"distant_id":"dui-1"}`)},
		"documents.list":              {method: "GET", path: beneficiary1 + "/documents", token: tok},
		"documents.get":               {method: "GET", path: "/api/v3/documents/1", token: tok},
		"documents.toggle_visibility": {method: "PATCH", path: "/api/v3/documents/1/toggle-visibility", token: tok},
	}
	ct, body := multipartBody(t, ben("1"), pdf)
	valid["documents.create"] = call{method: "POST", path: "/api/v3/documents", token: tok, contentType: ct, body: body}
	for _, op := range slices.Sorted(maps.Keys(valid)) {
		for _, status := range transient {
			if err := mock.SetFaults(platform.Faults{Rules: []platform.Rule{{Operations: []string{op}, Status: status, RetryAfter: "1"}}}); err != nil {
				t.Fatalf("setting faults: %v", err)
			}
			cl := valid[op]
			cl.op, cl.status = op, status
			c.check(cl)
		}
	}
	if err := mock.SetFaults(platform.Faults{}); err != nil {
		t.Fatalf("clearing faults: %v", err)
	}

	// Expired tokens.
	clock.Advance(2 * time.Hour)
	read("documents.get", "GET", "/api/v3/documents/1", tok, 401, false)

	for op, statuses := range producible {
		for _, s := range append(slices.Clone(statuses), transient...) {
			if !c.seen[op][s] {
				t.Errorf("%s: status %d was never exercised", op, s)
			}
		}
	}
	if st := mock.Stats(); st.DuplicateRequests != 2 || st.ResponseViolations != 0 {
		t.Errorf("duplicate requests = %d, want 2; answers breaking the contract by the mock's own check = %d, want 0", st.DuplicateRequests, st.ResponseViolations)
	}
}
