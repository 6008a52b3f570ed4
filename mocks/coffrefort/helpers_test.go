package coffrefort

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/relais-dev/relais/connectors/clock"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// fixture is what setup gives a test.
type fixture struct {
	srv   *Server
	ts    *httptest.Server
	clock *clock.Fake
}

// setup starts a mock on an injected clock. configure runs before the
// server starts listening.
func setup(t testing.TB, opts Options, configure ...func(*Server)) *fixture {
	t.Helper()
	clock := clock.NewFake(time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC))
	if opts.Now == nil {
		opts.Now = clock.Now
	}
	srv := New(opts)
	for _, c := range configure {
		c(srv)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &fixture{srv: srv, ts: ts, clock: clock}
}

// response is a finished HTTP exchange.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
}

// request describes one call to the mock.
type request struct {
	method, path string
	token        string
	contentType  string
	body         []byte
	header       map[string]string
	ctx          context.Context
}

func (f *fixture) do(t testing.TB, req request) response {
	t.Helper()
	rsp, err := f.send(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.method, req.path, err)
	}
	return rsp
}

func (f *fixture) send(req request) (response, error) {
	ctx := req.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	r, err := http.NewRequestWithContext(ctx, req.method, f.ts.URL+req.path, bytes.NewReader(req.body))
	if err != nil {
		return response{}, fmt.Errorf("building request: %w", err)
	}
	if req.token != "" {
		r.Header.Set("Authorization", "Bearer "+req.token)
	}
	if req.contentType != "" {
		r.Header.Set("Content-Type", req.contentType)
	}
	for k, v := range req.header {
		r.Header.Set(k, v)
	}
	rsp, err := f.ts.Client().Do(r)
	if err != nil {
		return response{}, fmt.Errorf("sending request: %w", err)
	}
	defer rsp.Body.Close()
	body, err := io.ReadAll(rsp.Body)
	if err != nil {
		return response{}, fmt.Errorf("reading response: %w", err)
	}
	return response{status: rsp.StatusCode, header: rsp.Header, body: body}, nil
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("encoding %v: %v", v, err)
	}
	return b
}

func wantStatus(t testing.TB, rsp response, want int) {
	t.Helper()
	if rsp.status != want {
		t.Fatalf("status = %d, want %d; body %s", rsp.status, want, rsp.body)
	}
}

// token gets an access token for scope ("" is every scope).
func (f *fixture) token(t testing.TB, scope string) string {
	t.Helper()
	rsp := f.do(t, request{method: "POST", path: "/api/token", contentType: "application/json", body: mustJSON(t, map[string]string{
		"grant_type": "client_credentials", "scope": scope,
		"client_id": DefaultClientID, "client_secret": DefaultClientSecret,
	})})
	wantStatus(t, rsp, http.StatusOK)
	var tok tokenResponse
	rsp.decode(t, &tok)
	return tok.AccessToken
}

func (f *fixture) createBeneficiary(t testing.TB, tok, distantID string) int64 {
	t.Helper()
	rsp := f.do(t, request{method: "POST", path: "/api/v3/beneficiaries", token: tok, contentType: "application/json", body: mustJSON(t, map[string]any{
		"first_name": "Élodie", "last_name": "Dupont-Martin", "birth_date": "1987-02-28", "distant_id": distantID,
	})})
	wantStatus(t, rsp, http.StatusCreated)
	var b beneficiaryJSON
	rsp.decode(t, &b)
	return b.ID
}

// part is one part of a multipart body; a part with a filename is a file.
type part struct {
	name, filename, contentType string
	content                     []byte
}

func multipartBody(t testing.TB, parts ...part) (contentType string, body []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		disp := fmt.Sprintf(`form-data; name=%q`, p.name)
		if p.filename != "" {
			disp += fmt.Sprintf(`; filename=%q`, p.filename)
		}
		h.Set("Content-Disposition", disp)
		if p.contentType != "" {
			h.Set("Content-Type", p.contentType)
		}
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatalf("creating part: %v", err)
		}
		if _, err := w.Write(p.content); err != nil {
			t.Fatalf("writing part: %v", err)
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatalf("closing multipart: %v", err)
	}
	return mw.FormDataContentType(), buf.Bytes()
}

func uploadRequest(t testing.TB, tok, key string, beneficiaryID int64, content []byte) request {
	t.Helper()
	ct, body := multipartBody(t,
		part{name: "beneficiary_id", content: fmt.Appendf(nil, "%d", beneficiaryID)},
		part{name: "file", filename: "Attestation CAF.PDF", contentType: "application/pdf", content: content},
	)
	req := request{method: "POST", path: "/api/v3/documents", token: tok, contentType: ct, body: body}
	if key != "" {
		req.header = map[string]string{"Idempotency-Key": key}
	}
	return req
}

// countRoute counts the log entries of a route.
func countRoute(log []LogEntry, route string) (n, injected int) {
	for _, e := range log {
		if e.Route == route {
			n++
			if e.Injected() {
				injected++
			}
		}
	}
	return n, injected
}
