package tddui_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/relais-dev/relais/connectors/clock"
	"github.com/relais-dev/relais/mocks/tddui"
)

var start = time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)

type fixture struct {
	t     *testing.T
	mock  *tddui.Server
	ts    *httptest.Server
	clock *clock.Fake
}

func setup(t *testing.T) *fixture {
	t.Helper()
	c := clock.NewFake(start)
	mock := tddui.New(tddui.Options{Now: c.Now})
	ts := httptest.NewServer(mock)
	t.Cleanup(ts.Close)
	return &fixture{t: t, mock: mock, ts: ts, clock: c}
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(a.body, &m); err != nil {
		t.Fatalf("decoding %s: %v", a.body, err)
	}
	return m
}

func (f *fixture) do(method, path, contentType, body string, header map[string]string) answer {
	f.t.Helper()
	req, err := http.NewRequest(method, f.ts.URL+path, strings.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Authorization", "Bearer "+tddui.DefaultToken)
	for k, v := range header {
		if v == "" {
			req.Header.Del(k)
			continue
		}
		req.Header.Set(k, v)
	}
	rsp, err := f.ts.Client().Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer rsp.Body.Close()
	b, err := io.ReadAll(rsp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return answer{status: rsp.StatusCode, header: rsp.Header, body: b}
}

func (f *fixture) submit(bundle string) answer {
	f.t.Helper()
	return f.do(http.MethodPost, "/fhir", "application/fhir+json", bundle, nil)
}

// accepted submits bundle, wants 200 and returns the Task's path.
func (f *fixture) accepted(bundle string) string {
	f.t.Helper()
	a := f.submit(bundle)
	if a.status != http.StatusOK || a.header.Get("Content-Type") != "application/fhir+json" {
		f.t.Fatalf("submit: %d %s", a.status, a.body)
	}
	loc := a.header.Get("Location")
	if !strings.HasPrefix(loc, "/fhir/Task/") {
		f.t.Fatalf("Location %q", loc)
	}
	return loc
}

// task reads a Task after the processing delay has passed.
func (f *fixture) processed(taskPath string) map[string]any {
	f.t.Helper()
	f.clock.Advance(tddui.DefaultProcessingDelay)
	a := f.do(http.MethodGet, taskPath, "", "", nil)
	if a.status != http.StatusOK {
		f.t.Fatalf("task: %d %s", a.status, a.body)
	}
	return a.json(f.t)
}

// issues returns the issues of the Task's contained OperationOutcome as
// "severity code expression" lines.
func issues(task map[string]any) []string {
	var out []string
	for _, c := range task["contained"].([]any) {
		for _, i := range c.(map[string]any)["issue"].([]any) {
			m := i.(map[string]any)
			line := m["severity"].(string) + " " + m["code"].(string)
			if e, ok := m["expression"].([]any); ok && len(e) > 0 {
				line += " " + e[0].(string)
			}
			out = append(out, line)
		}
	}
	return out
}

func has(lines []string, want string) bool {
	for _, l := range lines {
		if l == want {
			return true
		}
	}
	return false
}

func noContractBreach(t *testing.T, mock *tddui.Server) {
	t.Helper()
	if n := mock.Stats().ResponseViolations; n != 0 {
		t.Fatalf("the mock broke its contract %d times", n)
	}
}

// Entries to build Bundles with.
const (
	org         = `{"resource":{"resourceType":"Organization","identifier":[{"system":"urn:oid:1.2.250.1.71.4.2.2","value":"1750000010"}]},"request":{"method":"POST","url":"Organization"}}`
	patient     = `{"resource":{"resourceType":"Patient","identifier":[{"value":"3750000010/DUI500"}],"gender":"male","birthDate":"1950"},"request":{"method":"POST","url":"Patient"}}`
	sejour      = `{"resource":{"resourceType":"Encounter","identifier":[{"system":"https://identifiant-medicosocial-sejour.esante.gouv.fr","value":"3750000010/DUI500-SEJOUR-1"}],"status":"in-progress","subject":{"identifier":{"value":"3750000010/DUI500"}},"period":{"start":"2024-01-02"}},"request":{"method":"POST","url":"Encounter"}}`
	event       = `{"resource":{"resourceType":"Encounter","identifier":[{"value":"E1"}],"status":"finished","period":{"start":"2024-03-04T09:00:00+01:00","end":"2024-03-04T10:00:00+01:00"},"partOf":{"identifier":{"system":"https://identifiant-medicosocial-sejour.esante.gouv.fr","value":"3750000010/DUI500-SEJOUR-1"}}},"request":{"method":"POST","url":"Encounter"}}`
	absence     = `{"resource":{"resourceType":"Slot","identifier":[{"system":"https://identifiant-medicosocial-presenceabsence.esante.gouv.fr","value":"3750000010/DUI500-PA-1"}],"serviceType":[{"text":"absence"}],"appointmentType":{"text":"Hospitalisation"},"status":"busy","schedule":{"reference":"Schedule/1"},"start":"2024-02-10T10:00:00+01:00","end":"2024-02-17T18:00:00+01:00"},"request":{"method":"POST","url":"Slot"}}`
	bundleStart = `{"resourceType":"Bundle","type":"transaction","entry":[`
)

func bundleOf(entries ...string) string {
	return bundleStart + strings.Join(entries, ",") + `]}`
}
