package coffrefort

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relais-dev/relais/mocks/platform"
)

func TestTokenFlowAndExpiry(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{TokenTTL: 10 * time.Minute})

	rsp := f.do(t, request{method: "POST", path: "/api/token", contentType: "application/json",
		body: []byte(`{"grant_type":"client_credentials","scope":"documents_create documents_read","client_id":"relais-sandbox","client_secret":"relais-sandbox-secret"}`)})
	wantStatus(t, rsp, http.StatusOK)
	var tok tokenResponse
	rsp.decode(t, &tok)
	if tok.AccessToken == "" || tok.TokenType != "Bearer" || tok.ExpiresIn != 600 || tok.Scope != "documents_read documents_create" {
		t.Fatalf("token response = %+v", tok)
	}
	if other := f.token(t, ""); other == tok.AccessToken {
		t.Fatal("two grants gave the same token")
	}

	get := request{method: "GET", path: "/api/v3/documents/1", token: tok.AccessToken}
	wantStatus(t, f.do(t, get), http.StatusNotFound) // authenticated: the document does not exist
	f.clock.Advance(10*time.Minute - time.Second)
	wantStatus(t, f.do(t, get), http.StatusNotFound)
	f.clock.Advance(time.Second)
	rsp = f.do(t, get)
	wantStatus(t, rsp, http.StatusUnauthorized)
	var jwt jwtError
	rsp.decode(t, &jwt)
	if jwt.Code != 401 || jwt.Message != msgTokenExpired {
		t.Fatalf("expired token body = %+v", jwt)
	}
	if st := f.srv.Stats(); st.TokensIssued != 2 {
		t.Fatalf("tokens issued = %d, want 2", st.TokensIssued)
	}
}

func TestTokenErrors(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{ClientID: "c1", ClientSecret: "s1"})
	for _, tc := range []struct {
		name, body string
		status     int
		code       string
	}{
		{"wrong secret", `{"grant_type":"client_credentials","client_id":"c1","client_secret":"nope"}`, 401, "invalid_client"},
		{"wrong client", `{"grant_type":"client_credentials","client_id":"c2","client_secret":"s1"}`, 401, "invalid_client"},
		{"wrong grant", `{"grant_type":"password","client_id":"c1","client_secret":"s1"}`, 400, "unsupported_grant_type"},
		{"unknown scope", `{"grant_type":"client_credentials","scope":"everything","client_id":"c1","client_secret":"s1"}`, 400, "invalid_scope"},
		{"malformed", `{"grant_type":`, 400, "invalid_request"},
		{"unknown field", `{"grant_type":"client_credentials","client_id":"c1","client_secret":"s1","audience":"x"}`, 400, "invalid_request"},
	} {
		rsp := f.do(t, request{method: "POST", path: "/api/token", contentType: "application/json", body: []byte(tc.body)})
		var e oauthError
		rsp.decode(t, &e)
		if rsp.status != tc.status || e.Error != tc.code || e.Description == "" {
			t.Errorf("%s: got %d %+v, want %d %s", tc.name, rsp.status, e, tc.status, tc.code)
		}
	}
	if st := f.srv.Stats(); st.TokensIssued != 0 || st.ContractViolations != 4 {
		t.Fatalf("stats = %+v, want no token and 4 violations", st)
	}
}

func TestAuthFailures(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{})
	readOnly := f.token(t, "beneficiaries_read")
	for _, tc := range []struct {
		name, authorization string
		message             string
	}{
		{"missing", "", msgTokenMissing},
		{"basic scheme", "Basic cmVsYWlzOnNlY3JldA==", msgTokenMissing},
		{"unknown token", "Bearer forged", msgTokenInvalid},
	} {
		req := request{method: "GET", path: "/api/v3/beneficiaries?distantId=x"}
		if tc.authorization != "" {
			req.header = map[string]string{"Authorization": tc.authorization}
		}
		rsp := f.do(t, req)
		var jwt jwtError
		rsp.decode(t, &jwt)
		if rsp.status != 401 || jwt.Code != 401 || jwt.Message != tc.message || rsp.header.Get("WWW-Authenticate") != "Bearer" {
			t.Errorf("%s: got %d %+v %v", tc.name, rsp.status, jwt, rsp.header)
		}
	}

	// A valid token without the operation's scope is forbidden.
	wantStatus(t, f.do(t, request{method: "GET", path: "/api/v3/beneficiaries?distantId=x", token: readOnly}), http.StatusOK)
	rsp := f.do(t, uploadRequest(t, readOnly, "", 1, []byte("%PDF")))
	wantStatus(t, rsp, http.StatusForbidden)
	if !strings.Contains(string(rsp.body), "documents_create") {
		t.Fatalf("403 body does not name the scope: %s", rsp.body)
	}
	if n := len(f.srv.Documents()); n != 0 {
		t.Fatalf("%d documents created without the scope", n)
	}
}

func TestBeneficiaryCreateSearchAndConflict(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{})
	tok := f.token(t, "")

	rsp := f.do(t, request{method: "POST", path: "/api/v3/beneficiaries", token: tok, contentType: "application/json", body: []byte(`{
		"birth_date": "1987-02-28", "first_name": "Élodie", "last_name": "Dupont-Martin",
		"email": "elodie@example.org", "phone": null, "distant_id": "dui-42",
		"centers": [3, 7], "external_center": 12, "external_pro_id": "pro-9"}`)})
	wantStatus(t, rsp, http.StatusCreated)
	var created beneficiaryJSON
	rsp.decode(t, &created)
	if created.ID != 1 || created.FirstName != "Élodie" || created.Phone != nil || *created.DistantID != "dui-42" ||
		!created.CreatedAt.Equal(f.clock.Now()) || len(created.ExternalLinks) != 1 || *created.ExternalLinks[0].ExternalCenter != "12" {
		t.Fatalf("created = %+v", created)
	}

	rsp = f.do(t, request{method: "GET", path: "/api/v3/beneficiaries?distantId=dui-42", token: tok})
	wantStatus(t, rsp, http.StatusOK)
	var found []beneficiaryJSON
	rsp.decode(t, &found)
	if len(found) != 1 || found[0].ID != created.ID {
		t.Fatalf("search = %+v", found)
	}
	rsp = f.do(t, request{method: "GET", path: "/api/v3/beneficiaries?distantId=nobody", token: tok})
	if rsp.status != 200 || string(rsp.body) != "[]" {
		t.Fatalf("empty search = %d %s, want 200 []", rsp.status, rsp.body)
	}
	wantStatus(t, f.do(t, request{method: "GET", path: "/api/v3/beneficiaries", token: tok}), http.StatusBadRequest)

	rsp = f.do(t, request{method: "POST", path: "/api/v3/beneficiaries", token: tok, contentType: "application/json",
		body: []byte(`{"birth_date":"1990-01-01","first_name":"Jean","last_name":"Martin","distant_id":"dui-42"}`)})
	wantStatus(t, rsp, http.StatusConflict)
	var p problem
	rsp.decode(t, &p)
	if p.ExistingID != created.ID || p.Status != 409 || rsp.header.Get("Content-Type") != contentTypeProblem {
		t.Fatalf("409 = %+v (%s)", p, rsp.header.Get("Content-Type"))
	}
	if n := len(f.srv.Beneficiaries()); n != 1 {
		t.Fatalf("%d beneficiaries after a conflict, want 1", n)
	}
}

func TestBeneficiaryValidation(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{})
	tok := f.token(t, "")
	for _, tc := range []struct {
		name, contentType, body string
		status                  int
		paths                   []string
	}{
		// The contract check reports the first broken constraint.
		{"required", "application/json", `{"email":"not-an-address"}`, 422, []string{"first_name"}},
		{"blank", "application/json", `{"first_name":"","last_name":"B","birth_date":"1987-02-28"}`, 422, []string{"first_name"}},
		{"bad email", "application/json", `{"first_name":"A","last_name":"B","birth_date":"1987-02-28","email":"not-an-address"}`, 422, []string{"email"}},
		{"bad date", "application/json", `{"first_name":"A","last_name":"B","birth_date":"28/02/1987"}`, 422, []string{"birth_date"}},
		{"malformed", "application/json", `{"first_name":`, 400, nil},
		{"unknown field", "application/json", `{"first_name":"A","last_name":"B","birth_date":"1987-02-28","firstName":"A"}`, 400, nil},
		{"wrong type", "application/json", `{"first_name":1}`, 400, nil},
		{"not json", "text/plain", `first_name=A`, 415, nil},
	} {
		rsp := f.do(t, request{method: "POST", path: "/api/v3/beneficiaries", token: tok, contentType: tc.contentType, body: []byte(tc.body)})
		var p problem
		rsp.decode(t, &p)
		if rsp.status != tc.status || p.Status != tc.status || p.Detail == "" || rsp.header.Get("Content-Type") != contentTypeProblem {
			t.Errorf("%s: got %d %+v", tc.name, rsp.status, p)
			continue
		}
		var paths []string
		for _, v := range p.Violations {
			paths = append(paths, v.PropertyPath)
		}
		if strings.Join(paths, ",") != strings.Join(tc.paths, ",") {
			t.Errorf("%s: violations on %v, want %v", tc.name, paths, tc.paths)
		}
	}
	if st := f.srv.Stats(); st.Beneficiaries != 0 || st.ContractViolations != 7 || st.ResponseViolations != 0 { // a bad email is the handler's business: the contract check does not assert that format
		t.Fatalf("stats = %+v", st)
	}
}

func TestExternalLink(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{})
	tok := f.token(t, "")
	id := f.createBeneficiary(t, tok, "")
	other := f.createBeneficiary(t, tok, "taken")

	link := func(id string, body string) response {
		return f.do(t, request{method: "PATCH", path: "/api/v3/beneficiaries/" + id + "/add-external-link", token: tok,
			contentType: "application/merge-patch+json", body: []byte(body)})
	}
	rsp := link("1", `{"distant_id":"dui-7","external_center":"c-1","external_pro_id":null}`)
	wantStatus(t, rsp, http.StatusOK)
	var b beneficiaryJSON
	rsp.decode(t, &b)
	if b.ID != id || *b.DistantID != "dui-7" || len(b.ExternalLinks) != 1 || b.ExternalLinks[0].ExternalProID != nil {
		t.Fatalf("linked = %+v", b)
	}
	rsp = f.do(t, request{method: "GET", path: "/api/v3/beneficiaries?distantId=dui-7", token: tok})
	var found []beneficiaryJSON
	rsp.decode(t, &found)
	if len(found) != 1 || found[0].ID != id {
		t.Fatalf("search by the new link = %s", rsp.body)
	}

	wantStatus(t, link("1", `{"distant_id":"dui-7"}`), http.StatusOK) // linking again is harmless
	wantStatus(t, link("99", `{"distant_id":"dui-8"}`), http.StatusNotFound)
	wantStatus(t, link("abc", `{"distant_id":"dui-8"}`), http.StatusNotFound)
	wantStatus(t, link("1", `{}`), http.StatusUnprocessableEntity)
	rsp = link("1", `{"distant_id":"taken"}`)
	wantStatus(t, rsp, http.StatusConflict)
	var p problem
	rsp.decode(t, &p)
	if p.ExistingID != other {
		t.Fatalf("conflict names %d, want %d", p.ExistingID, other)
	}
	if got := f.srv.Beneficiaries()[0].ExternalLinks; len(got) != 1 {
		t.Fatalf("links = %+v, want one", got)
	}
}

func TestDocumentUploadReadAndToggle(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{})
	tok := f.token(t, "")
	bid := f.createBeneficiary(t, tok, "dui-1")

	content := bytes.Repeat([]byte("%PDF-1.7 attestation "), 1000) // 21 kB, more than HeadSize
	sum := sha256.Sum256(content)
	ct, body := multipartBody(t,
		part{name: "beneficiary_id", content: []byte("1")},
		part{name: "folder_id", content: []byte("5")},
		part{name: "distant_id", content: []byte("doc-9")},
		part{name: "issue_date", content: []byte("2025-01-31")},
		part{name: "file", filename: "Attestation CAF.PDF", contentType: "application/pdf", content: content},
	)
	rsp := f.do(t, request{method: "POST", path: "/api/v3/documents", token: tok, contentType: ct, body: body})
	wantStatus(t, rsp, http.StatusCreated)
	var d documentJSON
	rsp.decode(t, &d)
	if d.ID != 1 || d.Name != "Attestation CAF.PDF" || !d.Private || d.DepositedBy != DefaultClientID ||
		*d.IssueDate != "2025-01-31" || *d.Extension != "pdf" || d.Size != int64(len(content)) || d.MimeType != "application/pdf" ||
		d.HashAlgorithm != "SHA-256" || d.Hash != hex.EncodeToString(sum[:]) || d.BeneficiaryID != bid ||
		*d.FolderID != 5 || *d.DistantID != "doc-9" || d.ThumbnailURL == nil || !d.CreatedAt.Equal(f.clock.Now()) {
		t.Fatalf("document = %+v", d)
	}
	docs := f.srv.Documents()
	if len(docs) != 1 || !bytes.Equal(docs[0].Head, content[:HeadSize]) || docs[0].SHA256 != d.Hash {
		t.Fatalf("stored document = %+v", docs)
	}

	// A name part wins over the file name; an upload without one is named
	// after its file.
	ct, body = multipartBody(t,
		part{name: "file", filename: "photo.JPG", contentType: "image/jpeg", content: []byte{0xff, 0xd8, 0xff}},
		part{name: "name", content: []byte("Carte d'identité")},
		part{name: "beneficiary_id", content: []byte("1")},
	)
	rsp = f.do(t, request{method: "POST", path: "/api/v3/documents", token: tok, contentType: ct, body: body})
	wantStatus(t, rsp, http.StatusCreated)
	var d2 documentJSON
	rsp.decode(t, &d2)
	if d2.Name != "Carte d'identité" || *d2.Extension != "jpg" || d2.IssueDate != nil || d2.FolderID != nil {
		t.Fatalf("second document = %+v", d2)
	}

	rsp = f.do(t, request{method: "GET", path: "/api/v3/beneficiaries/1/documents", token: tok})
	var list []documentJSON
	rsp.decode(t, &list)
	if rsp.status != 200 || len(list) != 2 || list[0].ID != 1 || list[1].ID != 2 {
		t.Fatalf("list = %d %s", rsp.status, rsp.body)
	}
	wantStatus(t, f.do(t, request{method: "GET", path: "/api/v3/beneficiaries/2/documents", token: tok}), http.StatusNotFound)

	f.clock.Advance(time.Hour - time.Second)
	rsp = f.do(t, request{method: "PATCH", path: "/api/v3/documents/1/toggle-visibility", token: tok})
	var toggled documentJSON
	rsp.decode(t, &toggled)
	if rsp.status != 200 || toggled.Private || !toggled.UpdatedAt.Equal(f.clock.Now()) || toggled.CreatedAt.Equal(toggled.UpdatedAt) {
		t.Fatalf("toggled = %d %+v", rsp.status, toggled)
	}
	rsp = f.do(t, request{method: "GET", path: "/api/v3/documents/1", token: tok})
	var got documentJSON
	rsp.decode(t, &got)
	if rsp.status != 200 || got.Private || got.Hash != d.Hash {
		t.Fatalf("get = %d %+v", rsp.status, got)
	}
	wantStatus(t, f.do(t, request{method: "PATCH", path: "/api/v3/documents/3/toggle-visibility", token: tok}), http.StatusNotFound)
	wantStatus(t, f.do(t, request{method: "GET", path: "/api/v3/documents/x", token: tok}), http.StatusNotFound)
}

func TestDocumentUploadErrors(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{MaxFileSize: 1 << 10})
	tok := f.token(t, "")
	f.createBeneficiary(t, tok, "dui-1")

	file := func(content []byte) part {
		return part{name: "file", filename: "a.txt", contentType: "text/plain", content: content}
	}
	for _, tc := range []struct {
		name   string
		parts  []part
		status int
		path   string
	}{
		{"too big", []part{{name: "beneficiary_id", content: []byte("1")}, file(make([]byte, 1<<10+1))}, 413, ""},
		{"unknown beneficiary", []part{{name: "beneficiary_id", content: []byte("2")}, file([]byte("x"))}, 422, "beneficiary_id"},
		{"bad beneficiary", []part{{name: "beneficiary_id", content: []byte("one")}, file([]byte("x"))}, 400, ""},
		{"beneficiary zero", []part{{name: "beneficiary_id", content: []byte("0")}, file([]byte("x"))}, 422, "beneficiary_id"},
		{"no beneficiary", []part{file([]byte("x"))}, 422, "beneficiary_id"},
		{"no file", []part{{name: "beneficiary_id", content: []byte("1")}}, 422, "file"},
		{"empty file", []part{{name: "beneficiary_id", content: []byte("1")}, file(nil)}, 422, "file"},
		{"bad issue date", []part{{name: "beneficiary_id", content: []byte("1")}, {name: "issue_date", content: []byte("31/01/2025")}, file([]byte("x"))}, 422, "issue_date"},
		{"unknown part", []part{{name: "beneficiary_id", content: []byte("1")}, {name: "owner", content: []byte("me")}, file([]byte("x"))}, 400, ""},
	} {
		ct, body := multipartBody(t, tc.parts...)
		rsp := f.do(t, request{method: "POST", path: "/api/v3/documents", token: tok, contentType: ct, body: body})
		var p problem
		rsp.decode(t, &p)
		if rsp.status != tc.status || p.Status != tc.status {
			t.Errorf("%s: got %d %s", tc.name, rsp.status, rsp.body)
			continue
		}
		if tc.path != "" && (len(p.Violations) != 1 || p.Violations[0].PropertyPath != tc.path) {
			t.Errorf("%s: violations %+v, want one on %s", tc.name, p.Violations, tc.path)
		}
	}
	wantStatus(t, f.do(t, request{method: "POST", path: "/api/v3/documents", token: tok, contentType: "application/json", body: []byte(`{}`)}), http.StatusUnsupportedMediaType)
	if n := len(f.srv.Documents()); n != 0 {
		t.Fatalf("%d documents created by failed uploads", n)
	}
}

func TestUnknownRoutesAndMethods(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{})
	tok := f.token(t, "")
	rsp := f.do(t, request{method: "DELETE", path: "/api/v3/documents/1", token: tok})
	wantStatus(t, rsp, http.StatusMethodNotAllowed)
	if rsp.header.Get("Allow") != "GET" {
		t.Fatalf("Allow = %q", rsp.header.Get("Allow"))
	}
	wantStatus(t, f.do(t, request{method: "GET", path: "/api/v2/beneficiaries", token: tok}), http.StatusNotFound)
	st := f.srv.Stats()
	if st.Requests != 3 || st.ContractViolations != 2 {
		t.Fatalf("stats = %+v", st)
	}
}

func TestIdempotentReplay(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{})
	tok := f.token(t, "")

	// A key whose first processing failed is processed again.
	wantStatus(t, f.do(t, uploadRequest(t, tok, "k1", 1, []byte("a"))), http.StatusUnprocessableEntity)
	bid := f.createBeneficiary(t, tok, "dui-1")
	first := f.do(t, uploadRequest(t, tok, "k1", bid, []byte("a")))
	wantStatus(t, first, http.StatusCreated)
	if first.header.Get("Idempotent-Replayed") != "" {
		t.Fatal("a first success is marked replayed")
	}

	f.clock.Advance(time.Minute)
	again := f.do(t, uploadRequest(t, tok, "k1", bid, []byte("a")))
	if again.status != first.status || !bytes.Equal(again.body, first.body) || again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay = %d %s %v, want the first answer", again.status, again.body, again.header)
	}
	wantStatus(t, f.do(t, uploadRequest(t, tok, "k2", bid, []byte("a"))), http.StatusCreated)
	wantStatus(t, f.do(t, uploadRequest(t, tok, "", bid, []byte("a"))), http.StatusCreated)
	wantStatus(t, f.do(t, uploadRequest(t, tok, "", bid, []byte("a"))), http.StatusCreated)

	// Keys are scoped to a route.
	rsp := f.do(t, request{method: "POST", path: "/api/v3/beneficiaries", token: tok, contentType: "application/json",
		header: map[string]string{"Idempotency-Key": "k1"}, body: []byte(`{"first_name":"A","last_name":"B","birth_date":"2000-01-01"}`)})
	wantStatus(t, rsp, http.StatusCreated)
	if rsp.header.Get("Idempotent-Replayed") != "" {
		t.Fatal("a key was shared across routes")
	}

	st := f.srv.Stats()
	if st.Documents != 4 || st.DuplicateRequests != 1 {
		t.Fatalf("stats = %+v, want 4 documents and 1 duplicate", st)
	}
	if got := f.srv.CreatedPerKey(); len(got) != 2 || got["k1"] != 1 || got["k2"] != 1 {
		t.Fatalf("created per key = %v", got)
	}
	log := f.srv.Log()
	if e := log[1]; e.Route != "documents.create" || e.IdempotencyKey != "k1" || e.Status != 422 || e.Method != "POST" {
		t.Fatalf("log entry = %+v", e)
	}
	if e := log[3]; e.Route != "documents.create" || e.IdempotencyKey != "k1" || e.Status != 201 {
		t.Fatalf("log entry = %+v", e)
	}
}

func TestIdempotentConcurrentUploads(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{})
	tok := f.token(t, "")
	bid := f.createBeneficiary(t, tok, "dui-1")

	const n = 16
	req := uploadRequest(t, tok, "same-key", bid, bytes.Repeat([]byte("x"), 64<<10))
	var wg sync.WaitGroup
	responses := make([]response, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { responses[i], errs[i] = f.send(req) })
	}
	wg.Wait()
	replayed := 0
	for i, rsp := range responses {
		if errs[i] != nil {
			t.Fatalf("upload %d: %v", i, errs[i])
		}
		if rsp.status != http.StatusCreated || !bytes.Equal(rsp.body, responses[0].body) {
			t.Fatalf("upload %d = %d %s", i, rsp.status, rsp.body)
		}
		if rsp.header.Get("Idempotent-Replayed") == "true" {
			replayed++
		}
	}
	if replayed != n-1 || len(f.srv.Documents()) != 1 || f.srv.CreatedPerKey()["same-key"] != 1 || f.srv.Stats().DuplicateRequests != n-1 {
		t.Fatalf("replayed %d, documents %d, created per key %v", replayed, len(f.srv.Documents()), f.srv.CreatedPerKey())
	}
}

func TestLogIsBounded(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{LogLimit: 3})
	tok := f.token(t, "")
	for i := range 5 {
		f.do(t, request{method: "GET", path: "/api/v3/documents/" + string(rune('1'+i)), token: tok})
	}
	log := f.srv.Log()
	if len(log) != 3 || log[0].Route != "documents.get" || f.srv.Stats().Requests != 6 {
		t.Fatalf("log = %+v", log)
	}
}

func TestReset(t *testing.T) {
	t.Parallel()
	f := setup(t, Options{})
	tok := f.token(t, "")
	bid := f.createBeneficiary(t, tok, "dui-1")
	wantStatus(t, f.do(t, uploadRequest(t, tok, "k", bid, []byte("a"))), http.StatusCreated)
	if err := f.srv.SetFaults(platform.Faults{Rules: []platform.Rule{{Latency: &platform.Latency{Median: platform.Duration(time.Hour)}}}}); err != nil {
		t.Fatal(err)
	}

	f.srv.Reset()
	if st := f.srv.Stats(); st.Requests != 0 || st.Documents != 0 || st.Beneficiaries != 0 || st.TokensIssued != 0 || st.ByRoute["token"] != 0 {
		t.Fatalf("stats after reset = %+v", st)
	}
	if len(f.srv.Log()) != 0 || len(f.srv.CreatedPerKey()) != 0 || len(f.srv.Faults().Rules) != 0 {
		t.Fatal("reset kept the log, keys or faults")
	}
	wantStatus(t, f.do(t, request{method: "GET", path: "/api/v3/documents/1", token: tok}), http.StatusUnauthorized)
}
