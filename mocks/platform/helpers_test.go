package platform_test

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/relais-dev/relais/connectors/clock"
	"github.com/relais-dev/relais/mocks/platform"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

//go:embed testdata/contract.yaml
var testContract []byte

// letters is the test platform's state.
type letters struct {
	mu      sync.Mutex
	created int
	byID    map[string]letter
}

type letter struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Pages  int    `json:"pages"`
}

// problemBody is the test platform's error format.
type problemBody struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	Parameter string `json:"parameter,omitempty"`
}

func writeProblem(w http.ResponseWriter, _ *http.Request, p platform.Problem) {
	w.Header().Set("Content-Type", "application/problem+json")
	platform.WriteJSON(w, p.Status, problemBody{Code: string(p.Kind), Message: p.Detail, Parameter: p.Parameter})
}

// authenticate accepts the bearer tokens "good" and "other"; "readonly" is
// valid but refused.
func authenticate(r *http.Request, _ string) (string, *platform.Problem) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	switch {
	case ok && (tok == "good" || tok == "other"):
		return tok, nil
	case ok && tok == "readonly":
		return "", &platform.Problem{Kind: platform.KindForbidden, Detail: "The token may not do this."}
	default:
		return "", &platform.Problem{Kind: platform.KindUnauthorized, Detail: "A valid bearer token is required."}
	}
}

// handlers are the test platform's operations.
func (l *letters) handlers() map[string]http.Handler {
	return map[string]http.Handler{
		"listPeople": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			nom := r.URL.Query().Get("nom")
			platform.WriteJSON(w, http.StatusOK, map[string]any{"data": map[string]any{
				"items": []map[string]any{
					{"nom": nom, "prenom": "Jeanne", "age": 34},
					{"nom": nom, "prenom": "Luc", "age": 7},
				},
				"total": 2,
			}})
		}),
		"createLetter": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var in struct {
				Pages int `json:"pages"`
			}
			if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
				writeProblem(w, r, platform.Problem{Kind: platform.KindInvalidRequest, Status: http.StatusBadRequest, Detail: "unreadable body"})
				return
			}
			l.mu.Lock()
			l.created++
			lt := letter{ID: fmt.Sprintf("L-%06d", l.created), Status: "queued", Pages: in.Pages}
			l.byID[lt.ID] = lt
			l.mu.Unlock()
			platform.WriteJSON(w, http.StatusCreated, lt)
		}),
		"getLetter": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			l.mu.Lock()
			lt, ok := l.byID[r.PathValue("id")]
			l.mu.Unlock()
			if !ok {
				writeProblem(w, r, platform.Problem{Kind: "not_found", Status: http.StatusNotFound, Detail: "No such letter."})
				return
			}
			platform.WriteJSON(w, http.StatusOK, lt)
		}),
		"uploadDocument": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := r.ParseMultipartForm(1 << 20); err != nil {
				writeProblem(w, r, platform.Problem{Kind: platform.KindInvalidRequest, Status: http.StatusBadRequest, Detail: "unreadable form"})
				return
			}
			f, _, err := r.FormFile("file")
			if err != nil {
				writeProblem(w, r, platform.Problem{Kind: platform.KindInvalidRequest, Status: http.StatusBadRequest, Detail: "no file"})
				return
			}
			defer f.Close()
			n, _ := io.Copy(io.Discard, f)
			platform.WriteJSON(w, http.StatusCreated, map[string]any{"title": r.FormValue("title"), "size": n})
		}),
		"health": http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			platform.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
		}),
	}
}

func (l *letters) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.created
}

// fixture is what setup gives a test.
type fixture struct {
	srv     *platform.Server
	ts      *httptest.Server
	clock   *clock.Fake
	letters *letters
}

var epoch = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// setup starts the test platform on a fake clock; edit changes its Config
// before New.
func setup(t testing.TB, edit ...func(*platform.Config)) *fixture {
	t.Helper()
	f := &fixture{clock: clock.NewFake(epoch), letters: &letters{byID: map[string]letter{}}}
	cfg := platform.Config{
		Name:         "testplatform",
		Contract:     testContract,
		Operations:   f.letters.handlers(),
		Errors:       writeProblem,
		Authenticate: authenticate,
		Now:          f.clock.Now,
		OnReset: func() {
			f.letters.mu.Lock()
			f.letters.created, f.letters.byID = 0, map[string]letter{}
			f.letters.mu.Unlock()
		},
	}
	for _, e := range edit {
		e(&cfg)
	}
	f.srv = platform.New(cfg)
	f.ts = httptest.NewServer(f.srv)
	t.Cleanup(f.ts.Close)
	return f
}

// call is one request to the mock.
type call struct {
	method, path string
	token        string
	contentType  string
	body         string
	header       map[string]string
	ctx          context.Context
}

// response is a finished exchange.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) problem(t testing.TB) problemBody {
	t.Helper()
	var p problemBody
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("decoding problem %s: %v", r.body, err)
	}
	return p
}

func (f *fixture) send(c call) (response, error) {
	ctx := c.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	req, err := http.NewRequestWithContext(ctx, c.method, f.ts.URL+c.path, body)
	if err != nil {
		return response{}, err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.contentType != "" {
		req.Header.Set("Content-Type", c.contentType)
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	rsp, err := f.ts.Client().Do(req)
	if err != nil {
		return response{}, err
	}
	defer rsp.Body.Close()
	b, err := io.ReadAll(rsp.Body)
	return response{status: rsp.StatusCode, header: rsp.Header, body: b}, err
}

func (f *fixture) do(t testing.TB, c call) response {
	t.Helper()
	r, err := f.send(c)
	if err != nil {
		t.Fatalf("%s %s: %v", c.method, c.path, err)
	}
	return r
}

// expect fails unless r has status.
func expect(t testing.TB, r response, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
}

func (f *fixture) setFaults(t testing.TB, fs platform.Faults) {
	t.Helper()
	if err := f.srv.SetFaults(fs); err != nil {
		t.Fatalf("SetFaults: %v", err)
	}
}

// waitFor polls cond every millisecond for at most 5s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	deadline := time.After(5 * time.Second)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

const (
	peoplePath = "/base/people?nom=Dupont&annee=1984"
	letterBody = `{"recipient":{"nom":"Dupont","prenoms":["Jeanne"]},"pages":2}`
)

func newLetter(token, key, body string) call {
	c := call{method: http.MethodPost, path: "/base/letters", token: token, contentType: "application/json", body: body}
	if key != "" {
		c.header = map[string]string{"Idempotency-Key": key}
	}
	return c
}

// multipartBody builds an upload form; empty title or file leaves it out.
func multipartBody(t testing.TB, title, file string) (contentType, body string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if title != "" {
		if err := mw.WriteField("title", title); err != nil {
			t.Fatal(err)
		}
	}
	if file != "" {
		fw, err := mw.CreateFormFile("file", "courrier.pdf")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(fw, file); err != nil {
			t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return mw.FormDataContentType(), buf.String()
}

func (c call) withContext(ctx context.Context) call {
	c.ctx = ctx
	return c
}
