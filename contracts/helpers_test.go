package contracts_test

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/relais-dev/relais/contracts"
)

//go:embed testdata/shop.yaml
var shopSpec []byte

const (
	shopSecret = "shop-secret-0123"
	shopToken  = "tok-123"
	secretEnv  = "RELAIS_CONTRACT_SHOP_SECRET"
)

// shop is a handwritten server that honours testdata/shop.yaml until told
// to misbehave, one operation at a time.
type shop struct {
	mu          sync.Mutex
	status      map[string]int
	contentType map[string]string
	dropHeader  map[string]string
	setHeader   map[string]http.Header
	mutate      map[string]func(any) any
	truncate    map[string]bool
	rawBody     map[string]string
	// throttle is how many 429s an operation answers before it serves;
	// retryAfter their Retry-After.
	throttle   map[string]int
	retryAfter string
	// openDoor answers every request as if it were authenticated.
	openDoor bool

	tokens atomic.Int32
	mux    *http.ServeMux
}

func newShop() *shop {
	s := &shop{
		status: map[string]int{}, contentType: map[string]string{}, dropHeader: map[string]string{},
		setHeader: map[string]http.Header{}, mutate: map[string]func(any) any{}, truncate: map[string]bool{}, rawBody: map[string]string{}, throttle: map[string]int{},
		mux: http.NewServeMux(),
	}
	s.mux.HandleFunc("POST /token", s.token)
	s.mux.HandleFunc("GET /items", s.authed("items.search", s.search))
	s.mux.HandleFunc("POST /items", s.authed("items.create", s.create))
	s.mux.HandleFunc("GET /items/{id}", s.authed("items.get", s.get))
	s.mux.HandleFunc("POST /items/{id}/labels", s.authed("items.label", s.label))
	s.mux.HandleFunc("POST /items/{id}/photo", s.authed("items.photo", s.photo))
	s.mux.HandleFunc("GET /shapes/{id}", s.authed("shapes.get", s.shape))
	s.mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) {
		s.write(w, "health", http.StatusOK, "text/plain; charset=utf-8", nil, "ok")
	})
	return s
}

func (s *shop) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// set changes the shop under its lock.
func (s *shop) set(f func(s *shop)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

func (s *shop) token(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Secret string `json:"client_secret"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Secret != shopSecret {
		s.write(w, "token", http.StatusUnauthorized, "application/json", nil, map[string]any{"error": "invalid_client"})
		return
	}
	s.tokens.Add(1)
	s.write(w, "token", http.StatusOK, "application/json", nil, map[string]any{"access_token": shopToken})
}

func (s *shop) authed(op string, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		open := s.openDoor
		s.mu.Unlock()
		if !open && r.Header.Get("Authorization") != "Bearer "+shopToken {
			if op == "shapes.get" {
				s.write(w, op, http.StatusForbidden, "application/problem+json", nil, map[string]any{"title": "Forbidden", "status": 403})
				return
			}
			s.write(w, op, http.StatusUnauthorized, "application/json", nil, map[string]any{"error": "unauthorized"})
			return
		}
		next(w, r)
	}
}

func item(id int, name string) map[string]any {
	return map[string]any{
		"id": id, "name": name, "price": 12.5, "tags": []any{"maison"},
		"owner": map[string]any{"nom_naissance": "Dupont", "prenoms": []any{"Jean", "Éloïse"}},
		"note":  nil,
	}
}

func (s *shop) search(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("q") == "" || r.Header.Get("X-Tenant") == "" {
		http.Error(w, "q and X-Tenant are required", http.StatusBadRequest)
		return
	}
	h := http.Header{"Ratelimit-Limit": {"20"}, "Ratelimit-Remaining": {"19"}, "Ratelimit-Reset": {"1"}}
	s.write(w, "items.search", http.StatusOK, "application/json", h, map[string]any{"data": []any{item(1, "Lampe"), item(2, "Table")}})
}

func (s *shop) create(w http.ResponseWriter, r *http.Request) {
	var in map[string]any
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in["name"] == nil {
		s.write(w, "items.create", http.StatusUnprocessableEntity, "application/problem+json", nil, map[string]any{"title": "Invalid", "status": 422})
		return
	}
	out := item(3, fmt.Sprint(in["name"]))
	out["price"] = in["price"]
	s.write(w, "items.create", http.StatusCreated, "application/json", http.Header{"Location": {"/items/3"}}, out)
}

func (s *shop) get(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("id") != "1" {
		s.write(w, "items.get", http.StatusNotFound, "application/problem+json", nil, map[string]any{"title": "Not found", "status": 404})
		return
	}
	s.write(w, "items.get", http.StatusOK, "application/json", nil, item(1, "Lampe"))
}

// label takes the form of items.label, checking each value's encoding.
func (s *shop) label(w http.ResponseWriter, r *http.Request) {
	invalid := func(why string) {
		s.write(w, "items.label", http.StatusUnprocessableEntity, "application/problem+json", nil, map[string]any{"title": why, "status": 422})
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		invalid("content type " + ct)
		return
	}
	if err := r.ParseForm(); err != nil {
		invalid(err.Error())
		return
	}
	f := r.PostForm
	labels := f["labels"]
	if len(labels) == 0 {
		invalid("no labels")
		return
	}
	for _, size := range strings.Split(f.Get("sizes"), ",") {
		if _, err := strconv.Atoi(size); err != nil && f.Has("sizes") {
			invalid("sizes: " + err.Error())
			return
		}
	}
	if f.Has("meta") && !json.Valid([]byte(f.Get("meta"))) {
		invalid("meta is not JSON")
		return
	}
	for _, k := range []string{"filter[min]", "filter[max]"} {
		if _, err := strconv.Atoi(f.Get(k)); err != nil && f.Has(k) {
			invalid(k + ": " + err.Error())
			return
		}
	}
	id, _ := strconv.Atoi(r.PathValue("id"))
	s.write(w, "items.label", http.StatusOK, "application/json", nil, map[string]any{"id": id, "labels": labels})
}

// photo takes the multipart body of items.photo.
func (s *shop) photo(w http.ResponseWriter, r *http.Request) {
	invalid := func(why string) {
		s.write(w, "items.photo", http.StatusUnprocessableEntity, "application/problem+json", nil, map[string]any{"title": why, "status": 422})
	}
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		invalid(err.Error())
		return
	}
	files := r.MultipartForm.File["photo"]
	if len(files) != 1 || files[0].Header.Get("Content-Type") != "image/png" {
		invalid("no PNG photo")
		return
	}
	out := map[string]any{"filename": files[0].Filename, "size": files[0].Size, "caption": r.FormValue("caption"), "tags": r.MultipartForm.Value["tags"]}
	if d := r.FormValue("details"); d != "" {
		var details struct {
			Width int `json:"width"`
		}
		if err := json.Unmarshal([]byte(d), &details); err != nil {
			invalid("details: " + err.Error())
			return
		}
		out["width"] = details.Width
	}
	s.write(w, "items.photo", http.StatusCreated, "application/json", nil, out)
}

func (s *shop) shape(w http.ResponseWriter, r *http.Request) {
	switch r.PathValue("id") {
	case "c1":
		s.write(w, "shapes.get", http.StatusOK, "application/json", nil, map[string]any{"kind": "circle", "radius": 2})
	default:
		s.write(w, "shapes.get", http.StatusOK, "application/json", nil, map[string]any{"kind": "square", "side": 3.5})
	}
}

// write answers, applying the misbehaviour set for op to its successes.
func (s *shop) write(w http.ResponseWriter, op string, status int, ct string, h http.Header, body any) {
	var (
		drop, raw string
		extra     http.Header
		mutate    func(any) any
		truncate  bool
	)
	if status < 300 {
		s.mu.Lock()
		if s.throttle[op] > 0 {
			s.throttle[op]--
			w.Header().Set("Retry-After", s.retryAfter)
			s.mu.Unlock()
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		if st, ok := s.status[op]; ok {
			status = st
		}
		if c, ok := s.contentType[op]; ok {
			ct = c
		}
		drop, extra, mutate, truncate, raw = s.dropHeader[op], s.setHeader[op], s.mutate[op], s.truncate[op], s.rawBody[op]
		s.mu.Unlock()
	}

	var out []byte
	switch b := body.(type) {
	case string:
		out = []byte(b)
	default:
		out, _ = json.Marshal(body)
		if mutate != nil {
			var generic any
			_ = json.Unmarshal(out, &generic)
			out, _ = json.Marshal(mutate(generic))
		}
	}
	if raw != "" {
		out = []byte(raw)
	}
	for k, vs := range h {
		w.Header()[k] = vs
	}
	for k, vs := range extra {
		w.Header()[http.CanonicalHeaderKey(k)] = vs
	}
	if drop != "" {
		w.Header().Del(drop)
	}
	w.Header().Set("Content-Type", ct)
	if truncate {
		w.Header().Set("Content-Length", strconv.Itoa(len(out)+100))
	}
	w.WriteHeader(status)
	_, _ = w.Write(out)
}

// authorize fetches a token from the shop's token endpoint.
func authorize(ctx context.Context, t contracts.Target, creds map[string]string) (contracts.Authorizer, error) {
	body, _ := json.Marshal(map[string]string{"client_secret": creds[secretEnv]})
	u := t.BaseURL.JoinPath("token")
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("building the token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	rsp, err := t.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("getting a token: %w", err)
	}
	defer rsp.Body.Close()
	raw, _ := io.ReadAll(rsp.Body)
	if rsp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("getting a token with secret %s: status %d", creds[secretEnv], rsp.StatusCode)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(raw, &tok); err != nil || tok.AccessToken == "" {
		return nil, errors.New("getting a token: no access_token")
	}
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok.AccessToken) }, nil
}

// shopPlatform covers every operation of the shop's contract.
func shopPlatform() contracts.Platform {
	return contracts.Platform{
		Name:        "shop",
		Spec:        shopSpec,
		Credentials: []contracts.Credential{{Env: secretEnv, MockDefault: shopSecret, Secret: true}},
		Authorize:   authorize,
		Cases: []contracts.Case{
			{Name: "token.ok", Operation: "token", Auth: contracts.AuthNone, Status: 200, Body: func() (string, io.Reader) {
				return "application/json", strings.NewReader(`{"client_secret":"` + shopSecret + `"}`)
			}},
			{Name: "token.wrong_secret", Operation: "token", Auth: contracts.AuthNone, Status: 401, Body: func() (string, io.Reader) {
				return "application/json", strings.NewReader(`{"client_secret":"not-the-secret"}`)
			}},
			{Name: "items.search", Operation: "items.search", Status: 200},
			{Name: "items.create", Operation: "items.create", Status: 201},
			{Name: "items.get", Operation: "items.get", Status: 200},
			{Name: "items.get.missing", Operation: "items.get", PathParams: map[string]string{"id": "99"}, Status: 404},
			{Name: "items.get.invalid_token", Operation: "items.get", Auth: contracts.AuthInvalid, Status: 401},
			{Name: "shapes.get.circle", Operation: "shapes.get", Status: 200},
			{Name: "shapes.get.square", Operation: "shapes.get", PathParams: map[string]string{"id": "s1"}, Status: 200},
			{Name: "health", Operation: "health", Auth: contracts.AuthNone, Status: 200},
			{Name: "items.get.fixture", Operation: "items.get", Query: url.Values{"fixture": {"x"}}, Status: 200, MockOnly: true},
			{Name: "items.search.no_tenant", Operation: "items.search", Header: http.Header{"X-Tenant": nil}, Status: 400},
			{Name: "items.label", Operation: "items.label", Status: 200},
			{Name: "items.photo", Operation: "items.photo", Status: 201},
		},
	}
}

// setup starts a shop and returns it with a target pointing at it.
func setup(t *testing.T) (*shop, contracts.Target) {
	t.Helper()
	s := newShop()
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	u, err := url.Parse(ts.URL)
	if err != nil {
		t.Fatalf("parsing %s: %v", ts.URL, err)
	}
	return s, contracts.Target{Name: "shop", BaseURL: u, Client: ts.Client(), Mock: true}
}

func noEnv(string) string { return "" }

// result returns the result named name, failing the test if there is none.
func result(t *testing.T, rep contracts.Report, name string) contracts.Result {
	t.Helper()
	for _, r := range rep.Results {
		if r.Case == name {
			return r
		}
	}
	t.Fatalf("no result %q in %+v", name, rep.Results)
	return contracts.Result{}
}

// hasViolation reports whether res has a violation of kind at path whose
// detail contains detail.
func hasViolation(res contracts.Result, kind, path, detail string) bool {
	for _, v := range res.Violations {
		if v.Kind == kind && v.Path == path && strings.Contains(v.Detail, detail) {
			return true
		}
	}
	return false
}

// failedCases lists the names of the failed results.
func failedCases(rep contracts.Report) []string {
	var out []string
	for _, r := range rep.Results {
		if r.Failed() {
			out = append(out, r.Case)
		}
	}
	return out
}

func text(t *testing.T, reps ...contracts.Report) string {
	t.Helper()
	var b strings.Builder
	if err := contracts.WriteText(&b, reps); err != nil {
		t.Fatalf("writing text: %v", err)
	}
	return b.String()
}
