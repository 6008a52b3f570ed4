package dmpcontract_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"go.uber.org/goleak"

	"github.com/relais-dev/relais/contracts"
	"github.com/relais-dev/relais/contracts/connectortest"
	dmpcontract "github.com/relais-dev/relais/contracts/dmp"
	"github.com/relais-dev/relais/mocks/dmp"
	"github.com/relais-dev/relais/mocks/platform"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestContractDocument(t *testing.T) {
	t.Parallel()
	doc, err := dmpcontract.Load()
	if err != nil {
		t.Fatalf("loading: %v", err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("openapi = %q, want 3.1", doc.OpenAPI)
	}
	for _, phrase := range []string{"Facts from the platforms' public material", "Designed by Relais", "UNKNOWN", "Pro Santé Connect", "NOT part of this contract"} {
		if !strings.Contains(doc.Info.Description, phrase) {
			t.Errorf("info.description does not say %q", phrase)
		}
	}
	ops := map[string]*openapi3.Operation{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			ops[op.OperationID] = op
			if op.OperationID == "" || op.Summary == "" || len(op.Tags) == 0 {
				t.Errorf("%s %s lacks an operationId, summary or tag", method, path)
			}
			errs := 0
			for code := range op.Responses.Map() {
				if code >= "400" {
					errs++
				}
			}
			if errs < 5 {
				t.Errorf("%s documents %d error responses", op.OperationID, errs)
			}
			for _, p := range op.Parameters {
				if p.Value.Example == nil {
					t.Errorf("%s: parameter %s has no example", op.OperationID, p.Value.Name)
				}
			}
			if rb := op.RequestBody; rb != nil && len(rb.Value.Content.Get("application/fhir+json").Examples) == 0 {
				t.Errorf("%s: the request body has no example", op.OperationID)
			}
		}
	}
	if got := slices.Sorted(func(yield func(string) bool) {
		for id := range ops {
			if !yield(id) {
				return
			}
		}
	}); !slices.Equal(got, []string{"capabilities", "documents.find", "documents.provide", "documents.retrieve"}) {
		t.Fatalf("operations %v", got)
	}
	if ops["documents.provide"].Extensions["x-relais-idempotent"] != true {
		t.Error("documents.provide is not marked x-relais-idempotent")
	}
	if ops["capabilities"].Security == nil || len(*ops["capabilities"].Security) != 0 {
		t.Error("the CapabilityStatement must be readable without credentials")
	}
}

func TestContractCatchesBadExamples(t *testing.T) {
	t.Parallel()
	// An example bundle whose document is not current breaks the
	// NewDocumentReference schema: the loader must notice.
	broken := bytes.Replace(dmpcontract.Spec(), []byte("            status: current\n            type:"), []byte("            status: superseded\n            type:"), 1)
	if bytes.Equal(broken, dmpcontract.Spec()) {
		t.Fatal("the example to break was not found")
	}
	doc, err := openapi3.NewLoader().LoadFromData(broken)
	if err != nil {
		t.Fatalf("loading: %v", err)
	}
	if err := doc.Validate(t.Context()); err == nil {
		t.Fatal("an example that breaks its schema validated")
	}
}

// verify runs the platform's cases against a fresh mock.
func verify(t *testing.T, mock *dmp.Server) contracts.Report {
	t.Helper()
	return connectortest.VerifyMock(t, dmpcontract.Platform(), mock)
}

func TestVerifyAgainstTheMock(t *testing.T) {
	t.Parallel()
	mock := dmp.New(dmp.Options{})
	p := dmpcontract.Platform()
	connectortest.RequirePass(t, p, verify(t, mock))
	cases := p.Cases
	st := mock.Stats()
	if st.ResponseViolations != 0 {
		t.Fatalf("the mock gave %d answers that break the contract", st.ResponseViolations)
	}
	// The cases that break the contract on purpose are refused by the
	// runtime and counted; the business refusals are counted apart.
	broken := 0
	for _, c := range cases {
		if c.Status == http.StatusBadRequest || c.Status == http.StatusUnsupportedMediaType {
			broken++
		}
	}
	if st.Violations != int64(broken) {
		t.Errorf("%d contract violations counted, %d cases break the contract", st.Violations, broken)
	}
	want := map[string]int64{dmp.XDSMissingDocument: 1, dmp.XDSNonIdenticalHash: 2, dmp.XDSUnknownPatientID: 1}
	if !reflect.DeepEqual(st.Rejected, want) {
		t.Errorf("rejections %v, want %v", st.Rejected, want)
	}
	if st.Accepted != 1 || st.Documents != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestVerifyReportsADriftingPlatform(t *testing.T) {
	t.Parallel()
	mock := dmp.New(dmp.Options{})
	err := mock.Platform().SetFaults(platform.Faults{Rules: []platform.Rule{{
		Operations: []string{"documents.find"},
		Drift:      []platform.Drift{{Kind: platform.DriftRename, Path: "/entry/*/resource/masterIdentifier", To: "uniqueId"}},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	rep := verify(t, mock)
	var kinds []string
	for _, r := range rep.Results {
		if r.Case == "find.current" {
			for _, v := range r.Violations {
				kinds = append(kinds, v.Kind+" "+v.Path)
			}
		}
	}
	for _, want := range []string{"removed $.entry[0].resource.masterIdentifier", "added $.entry[0].resource.uniqueId"} {
		if !slices.Contains(kinds, want) {
			t.Errorf("the drift did not show as %q: %v", want, kinds)
		}
	}
	if !rep.Failed() {
		t.Fatal("the report passed a drifting platform")
	}
}

// TestSuccessExamplesAreTheMocksAnswers replays the contract's examples on
// a mock with the examples' clock and base URL: every success example must
// be exactly what the mock answers.
func TestSuccessExamplesAreTheMocksAnswers(t *testing.T) {
	t.Parallel()
	doc, err := dmpcontract.Load()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2025, 3, 12, 15, 10, 0, 0, time.UTC)
	mock := dmp.New(dmp.Options{Now: func() time.Time { return now }, BaseURL: "http://127.0.0.1:8080/fhir"})
	ts := httptest.NewServer(mock)
	t.Cleanup(ts.Close)

	body, err := dmpcontract.ExampleBundle()
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(body)
	find := doc.Paths.Find("/fhir/DocumentReference").Get
	q := url.Values{}
	for _, p := range find.Parameters {
		q.Set(p.Value.Name, p.Value.Example.(string))
	}
	for _, c := range []struct {
		example, method, path, accept string
		body                          []byte
	}{
		{"TransactionResponse", http.MethodPost, "/fhir", "", raw},
		{"SearchSet", http.MethodGet, "/fhir/DocumentReference?" + q.Encode(), "", nil},
		{"Binary", http.MethodGet, "/fhir/Binary/" + dmpcontract.ExampleBinaryID, "application/fhir+json", nil},
		{"CapabilityStatement", http.MethodGet, "/fhir/metadata", "", nil},
	} {
		req, _ := http.NewRequestWithContext(t.Context(), c.method, ts.URL+c.path, bytes.NewReader(c.body))
		req.Header.Set("Authorization", "Bearer "+dmpcontract.MockToken)
		if c.body != nil {
			req.Header.Set("Content-Type", "application/fhir+json")
		}
		if c.accept != "" {
			req.Header.Set("Accept", c.accept)
		}
		rsp, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rsp.Body)
		rsp.Body.Close()
		var got, want any
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%s: %v: %s", c.example, err, b)
		}
		wantRaw, _ := json.Marshal(doc.Components.Examples[c.example].Value.Value)
		_ = json.Unmarshal(wantRaw, &want)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("the %s example is not the mock's answer (%d):\n got %s\nwant %s", c.example, rsp.StatusCode, b, wantRaw)
		}
	}
}

func TestPlatform(t *testing.T) {
	t.Parallel()
	p := dmpcontract.Platform()
	if p.Name != "dmp" || len(p.Credentials) != 1 || p.Credentials[0].Env != "RELAIS_CONTRACT_DMP_TOKEN" || !p.Credentials[0].Secret {
		t.Fatalf("platform %+v", p)
	}
	if p.Credentials[0].MockDefault != dmp.DefaultToken {
		t.Fatal("the credential's mock default is not the token the mock accepts")
	}
	names := map[string]bool{}
	for _, c := range p.Cases {
		if names[c.Name] {
			t.Errorf("case %q twice", c.Name)
		}
		names[c.Name] = true
	}
	// A real target gets the configured token.
	authz, err := p.Authorize(t.Context(), contracts.Target{}, map[string]string{dmpcontract.TokenEnv: "t0k"})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	authz(r)
	if r.Header.Get("Authorization") != "Bearer t0k" {
		t.Fatalf("Authorization %q", r.Header.Get("Authorization"))
	}
}
