package dmp

import (
	"bytes"
	"crypto/sha1" //nolint:gosec // the FHIR attachment hash
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/relais-dev/relais/connectors/clock"
	dmpcontract "github.com/relais-dev/relais/contracts/dmp"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// The fixture patients, by role in the tests.
var (
	patientNoDocs  = Identifier{System: SystemTestNIR, Value: "279036912304582"} // DUBOIS-LEFEVRE, no document
	patientWithDoc = Identifier{System: SystemTestNIR, Value: "148117511406227"} // N'DIAYE, one PDF
	patientEmpty   = Identifier{System: SystemTestNIR, Value: "252079913901713"} // DA SILVA SANTOS, no document
)

// fixtureDocID and fixtureMaster are the fixture document of patientWithDoc.
const (
	fixtureDocID  = "dr-000001"
	fixtureMaster = "urn:oid:1.2.250.1.999.2.20241120.1"
)

// env is a mock under httptest with a clock the test moves.
type env struct {
	t    *testing.T
	mock *Server
	ts   *httptest.Server
	clk  *clock.Fake
}

// setup starts a mock with opts (Now is set by env) and checks, when the
// test ends, that the mock never answered against its contract.
func setup(t *testing.T, opts Options) *env {
	t.Helper()
	e := &env{t: t, clk: clock.NewFake(time.Date(2025, 3, 12, 15, 10, 0, 0, time.UTC))}
	opts.Now = e.clk.Now
	e.mock = New(opts)
	e.ts = httptest.NewServer(e.mock)
	t.Cleanup(func() {
		e.ts.Close()
		if v := e.mock.Stats().ResponseViolations; v != 0 {
			t.Errorf("the mock gave %d answers that break its contract", v)
		}
	})
	return e
}

// do sends a request with the default token (unless headers set
// Authorization) and returns the status, headers and body.
func (e *env) do(method, path string, body []byte, headers ...string) (int, http.Header, []byte) {
	e.t.Helper()
	r, err := http.NewRequestWithContext(e.t.Context(), method, e.ts.URL+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatalf("building %s %s: %v", method, path, err)
	}
	r.Header.Set("Authorization", "Bearer "+DefaultToken)
	if body != nil {
		r.Header.Set("Content-Type", "application/fhir+json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	rsp, err := e.ts.Client().Do(r)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer rsp.Body.Close()
	b, err := io.ReadAll(rsp.Body)
	if err != nil {
		e.t.Fatalf("reading the answer to %s %s: %v", method, path, err)
	}
	return rsp.StatusCode, rsp.Header, b
}

// provide posts a bundle and decodes the answer.
func (e *env) provide(b map[string]any, headers ...string) (int, map[string]any) {
	e.t.Helper()
	raw, err := json.Marshal(b)
	if err != nil {
		e.t.Fatalf("encoding the bundle: %v", err)
	}
	status, _, body := e.do(http.MethodPost, "/fhir", raw, headers...)
	return status, decode(e.t, body)
}

// find searches a patient's documents and returns the DocumentReferences.
func (e *env) find(ins Identifier, status string) []map[string]any {
	e.t.Helper()
	q := "/fhir/DocumentReference?patient.identifier=" + ins.System + "%7C" + ins.Value
	if status != "" {
		q += "&status=" + status
	}
	code, _, body := e.do(http.MethodGet, q, nil)
	if code != http.StatusOK {
		e.t.Fatalf("find: status %d: %s", code, body)
	}
	set := decode(e.t, body)
	var out []map[string]any
	for _, en := range set["entry"].([]any) {
		out = append(out, en.(map[string]any)["resource"].(map[string]any))
	}
	if int(set["total"].(float64)) != len(out) {
		e.t.Fatalf("find: total %v for %d entries", set["total"], len(out))
	}
	return out
}

func decode(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("decoding %s: %v", body, err)
	}
	return m
}

// outcome reads the single issue of an OperationOutcome.
func outcome(t *testing.T, body map[string]any) (code, xds, expression string) {
	t.Helper()
	if body["resourceType"] != "OperationOutcome" {
		t.Fatalf("not an OperationOutcome: %v", body)
	}
	is := body["issue"].([]any)[0].(map[string]any)
	code, _ = is["code"].(string)
	if d, ok := is["details"].(map[string]any); ok {
		xds = d["coding"].([]any)[0].(map[string]any)["code"].(string)
	}
	if ex, ok := is["expression"].([]any); ok {
		expression = ex[0].(string)
	}
	return code, xds, expression
}

// exampleBundle is the contract's example: one plain-text document for
// patientNoDocs.
func exampleBundle(t testing.TB) map[string]any {
	t.Helper()
	b, err := dmpcontract.ExampleBundle()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func entries(b map[string]any) []map[string]any {
	var out []map[string]any
	for _, e := range b["entry"].([]any) {
		out = append(out, e.(map[string]any))
	}
	return out
}

// resource is the resource of the first entry of type rt.
func resource(b map[string]any, rt string) map[string]any {
	for _, e := range entries(b) {
		res := e["resource"].(map[string]any)
		if res["resourceType"] == rt {
			return res
		}
	}
	panic("no " + rt + " in the bundle")
}

func attachmentOf(b map[string]any) map[string]any {
	return resource(b, "DocumentReference")["content"].([]any)[0].(map[string]any)["attachment"].(map[string]any)
}

// setPatient names ins as the patient of every resource of b.
func setPatient(b map[string]any, ins Identifier) {
	for _, e := range entries(b) {
		res := e["resource"].(map[string]any)
		if s, ok := res["subject"].(map[string]any); ok {
			s["identifier"] = map[string]any{"system": ins.System, "value": ins.Value}
		}
	}
}

// bundleFor builds a valid bundle for ins with one text document per
// content, each with its own masterIdentifier (tag plus its index).
func bundleFor(t testing.TB, ins Identifier, tag string, contents ...string) map[string]any {
	t.Helper()
	ex := exampleBundle(t)
	var set, doc map[string]any
	for _, e := range entries(ex) {
		switch e["resource"].(map[string]any)["resourceType"] {
		case "List":
			set = e
		case "DocumentReference":
			doc = e
		}
	}
	out := []any{set}
	var items []any
	for i, c := range contents {
		docURL := fmt.Sprintf("urn:uuid:00000000-0000-4000-8000-%012d", 2*i+1)
		binURL := fmt.Sprintf("urn:uuid:00000000-0000-4000-8000-%012d", 2*i+2)
		d := deepCopy(t, doc)
		d["fullUrl"] = docURL
		res := d["resource"].(map[string]any)
		res["masterIdentifier"] = map[string]any{"system": "urn:ietf:rfc:3986", "value": fmt.Sprintf("urn:oid:1.2.250.1.999.9.%s.%d", tag, i)}
		sum := sha1.Sum([]byte(c)) //nolint:gosec // the FHIR attachment hash
		a := res["content"].([]any)[0].(map[string]any)["attachment"].(map[string]any)
		a["url"], a["size"], a["hash"] = binURL, len(c), base64.StdEncoding.EncodeToString(sum[:])
		out = append(out, d, map[string]any{
			"fullUrl":  binURL,
			"resource": map[string]any{"resourceType": "Binary", "contentType": "text/plain", "data": base64.StdEncoding.EncodeToString([]byte(c))},
			"request":  map[string]any{"method": "POST", "url": "Binary"},
		})
		items = append(items, map[string]any{"item": map[string]any{"reference": docURL}})
	}
	set["resource"].(map[string]any)["entry"] = items
	ex["entry"] = out
	setPatient(ex, ins)
	return ex
}

func deepCopy(t testing.TB, v map[string]any) map[string]any {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// locations reads the entry locations and statuses of a
// transaction-response.
func locations(t *testing.T, rsp map[string]any) (locs, statuses []string) {
	t.Helper()
	if rsp["type"] != "transaction-response" {
		t.Fatalf("not a transaction-response: %v", rsp)
	}
	for _, e := range rsp["entry"].([]any) {
		r := e.(map[string]any)["response"].(map[string]any)
		locs = append(locs, r["location"].(string))
		statuses = append(statuses, r["status"].(string))
	}
	return locs, statuses
}
