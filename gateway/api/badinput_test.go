package api_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// badCase is a malformed or hostile request and the problem it must get.
type badCase struct {
	name   string
	call   call
	status int
	code   string
	// field is the problem's field; empty when it must have none.
	field string
	// errors are the (field, code) pairs a validation_failed must list.
	errors []fieldProblem
	// echo are more values of the request the answer must not quote.
	echo []string
	// knownBug, when set, names a reported handler bug that makes this case
	// fail: the case is skipped while it does.
	knownBug string
}

// badFixtures are the ids and keys the cases refer to.
type badFixtures struct {
	caller          tenant // sends every request
	otherSubmission string // another tenant's
	otherDelivery   string // another tenant's
	queuedDelivery  string // the caller's, queued
	revokedSecret   string // the caller's, revoked
	usedKey         string // an Idempotency-Key the caller used with validBody
}

// badInputCases lists the table. It depends on fx only for ids and keys,
// so the fuzz target can take its bodies with zero fixtures.
func badInputCases(tb testing.TB, fx badFixtures) []badCase {
	tb.Helper()
	n := 0
	key := func() string { n++; return fmt.Sprintf("bad-%03d", n) }
	sub := func(body []byte) call { return submit(fx.caller, key(), body) }
	// breaks marks a request the OpenAPI document rejects too.
	breaks := func(c call) call { c.docRejects = true; return c }
	with := func(c call, header, value string) call {
		h := map[string]string{}
		for k, v := range c.header {
			h[k] = v
		}
		h[header] = value
		c.header = h
		return c
	}
	body := validBody(tb)
	edit := func(path string, v any) []byte { return encode(tb, set(deposit(samplePDF), path, v)) }
	otherDigest := sha256.Sum256([]byte("another document"))
	fields := func(pairs ...string) []fieldProblem {
		var out []fieldProblem
		for i := 0; i < len(pairs); i += 2 {
			out = append(out, fieldProblem{Field: pairs[i], Code: pairs[i+1]})
		}
		return out
	}
	big := encode(tb, deposit(make([]byte, maxDocument*6/5))) // its base64 is over the body limit
	oversizedChunked := sub(big)
	oversizedChunked.chunked = true
	noContentType := sub(body)
	noContentType.noContentType = true
	noKey := sub(body)
	noKey.header = nil
	sansAuth := sub(body)
	sansAuth.auth = ""

	return []badCase{
		// Authentication comes first.
		{name: "no Authorization", call: breaks(sansAuth), status: 401, code: "unauthenticated"},
		{name: "Bearer without a key", call: breaks(with(sub(body), "Authorization", "Bearer")), status: 401, code: "invalid_authorization"},
		{name: "Basic Authorization", call: breaks(with(sub(body), "Authorization", "Basic ZHVpOnNlY3JldA==")), status: 401, code: "invalid_authorization"},
		{name: "garbled Authorization", call: breaks(with(sub(body), "Authorization", "Bearer:"+fx.caller.secret)), status: 401, code: "invalid_authorization"},
		{name: "unknown API key", call: with(sub(body), "Authorization", "Bearer rls_"+strings.Repeat("x", 43)), status: 401, code: "invalid_api_key"},
		{name: "revoked API key", call: with(sub(body), "Authorization", "Bearer "+fx.revokedSecret), status: 401, code: "invalid_api_key"},

		// Idempotency-Key.
		{name: "no Idempotency-Key", call: breaks(noKey), status: 400, code: "idempotency_key_required", field: "Idempotency-Key"},
		{name: "Idempotency-Key too long", call: breaks(with(sub(body), "Idempotency-Key", strings.Repeat("k", 256))), status: 400, code: "invalid_idempotency_key", field: "Idempotency-Key"},
		{name: "non-ASCII Idempotency-Key", call: breaks(with(sub(body), "Idempotency-Key", "clé-dépôt-1")), status: 400, code: "invalid_idempotency_key", field: "Idempotency-Key"},
		{name: "Idempotency-Key with a space", call: breaks(with(sub(body), "Idempotency-Key", "lot 42")), status: 400, code: "invalid_idempotency_key", field: "Idempotency-Key"},

		// Content type.
		{name: "text/plain", call: breaks(with(sub(body), "Content-Type", "text/plain")), status: 415, code: "unsupported_media_type"},
		{name: "no Content-Type", call: breaks(noContentType), status: 415, code: "unsupported_media_type"},
		{name: "multipart without parts", call: breaks(with(sub(body), "Content-Type", "multipart/form-data; boundary=x")), status: 400, code: "malformed_multipart"},
		{name: "multipart without boundary", call: breaks(with(sub(body), "Content-Type", "multipart/form-data")), status: 415, code: "unsupported_media_type"},

		// Sizes.
		{name: "oversized body", call: sub(big), status: 413, code: "body_too_large"},
		{name: "oversized chunked body", call: oversizedChunked, status: 413, code: "body_too_large"},
		{name: "document over MaxDocumentSize", call: sub(encode(tb, deposit(make([]byte, maxDocument+1)))), status: 413, code: "document_too_large", field: "document_deposit.content"},

		// Broken JSON.
		{name: "empty body", call: breaks(sub([]byte{})), status: 400, code: "empty_body"},
		{name: "blank body", call: breaks(sub([]byte(" \r\n\t"))), status: 400, code: "empty_body"},
		{name: "truncated", call: breaks(sub(body[:len(body)/2])), status: 400, code: "malformed_json"},
		// kin-openapi reads only the first JSON value of a body, so these
		// two pass its check, not the server's.
		{name: "trailing garbage", call: sub(append(slices.Clip(body), " ok"...)), status: 400, code: "trailing_data"},
		{name: "two objects", call: sub(append(slices.Clip(body), body...)), status: 400, code: "trailing_data"},
		{name: "trailing comma", call: breaks(sub([]byte(`{"destinations":["coffrefort"],}`))), status: 400, code: "malformed_json"},
		{name: "invalid UTF-8", call: breaks(sub([]byte("\xff\xfe{}"))), status: 400, code: "malformed_json"},
		{name: "a string", call: breaks(sub([]byte(`"Zoé Lefèvre"`))), status: 400, code: "invalid_type", field: "(body)"},
		{name: "a number", call: breaks(sub([]byte(`19480314`))), status: 400, code: "invalid_type", field: "(body)", echo: []string{"19480314"}},
		{name: "an array", call: breaks(sub(append(append([]byte("["), body...), ']'))), status: 400, code: "invalid_type", field: "(body)"},
		{name: "null", call: breaks(sub([]byte(`null`))), status: 400, code: "invalid_type", field: "(body)"},

		// Wrong types.
		{name: "destinations as a string", call: breaks(sub(edit("destinations", "coffrefort"))), status: 400, code: "invalid_type", field: "destinations"},
		{name: "destination as a number", call: breaks(sub(edit("destinations", []any{42}))), status: 400, code: "invalid_type", field: "destinations[0]"},
		{name: "distant_id as a number", call: breaks(sub(edit("document_deposit.beneficiary.distant_id", 451))), status: 400, code: "invalid_type", field: "document_deposit.beneficiary.distant_id"},
		{name: "content as a number", call: breaks(sub(edit("document_deposit.content", 1234))), status: 400, code: "invalid_type", field: "document_deposit.content"},
		{name: "visibility as a boolean", call: breaks(sub(edit("document_deposit.document.visibility", true))), status: 400, code: "invalid_type", field: "document_deposit.document.visibility"},
		{
			name: "beneficiary as a string", call: breaks(sub(edit("document_deposit.beneficiary", "Zoé Lefèvre, née le 14/03/1948"))),
			status: 400, code: "invalid_type", field: "document_deposit.beneficiary", echo: []string{"14/03/1948"},
		},
		{name: "payload as an array", call: breaks(sub(edit("document_deposit", []any{"Zoé"}))), status: 400, code: "invalid_type", field: "document_deposit"},

		// Fields that are not part of the API.
		{
			name: "duplicate field", call: breaks(sub([]byte(`{"destinations":["coffrefort"],"destinations":["archiviste"]}`))),
			status: 400, code: "duplicate_field", field: "destinations",
		},
		{name: "unknown top-level field", call: breaks(sub(edit("priority", "high"))), status: 400, code: "unknown_field", field: "priority"},
		{
			name: "unknown nested field", call: breaks(sub(edit("document_deposit.beneficiary.nickname", "Zozo"))),
			status: 400, code: "unknown_field", field: "document_deposit.beneficiary.nickname", echo: []string{"Zozo"},
		},
		{
			name: "field name in another case", call: breaks(sub(encode(tb, map[string]any{"Destinations": []any{"coffrefort"}, "document_deposit": deposit(samplePDF)["document_deposit"]}))),
			status: 400, code: "unknown_field", field: "Destinations",
		},

		// Base64.
		{name: "content not base64", call: sub(edit("document_deposit.content", "pas du base64 !")), status: 400, code: "invalid_base64", field: "document_deposit.content"},
		{name: "content unpadded", call: sub(edit("document_deposit.content", "JVBERi0")), status: 400, code: "invalid_base64", field: "document_deposit.content"},

		// Validation: every invalid field is listed.
		{
			name: "unknown destination", call: sub(edit("destinations", []any{"nowhere"})), status: 422, code: "validation_failed",
			field: "destinations[0]", errors: fields("destinations[0]", "unknown_destination"),
		},
		{
			name: "duplicate destination", call: breaks(sub(edit("destinations", []any{"coffrefort", "archiviste", "coffrefort"}))), status: 422, code: "validation_failed",
			field: "destinations[2]", errors: fields("destinations[2]", "duplicate_destination"),
		},
		{
			name: "empty destinations", call: breaks(sub(edit("destinations", []any{}))), status: 422, code: "validation_failed",
			field: "destinations", errors: fields("destinations", "required"),
		},
		{
			name: "no payload", call: breaks(sub(encode(tb, del(deposit(samplePDF), "document_deposit")))), status: 422, code: "validation_failed",
			field: "document_deposit", errors: fields("document_deposit", "required"),
		},
		{
			name: "null payload", call: breaks(sub(edit("document_deposit", nil))), status: 422, code: "validation_failed",
			field: "document_deposit", errors: fields("document_deposit", "required"),
		},
		{
			name: "every required field missing", status: 422, code: "validation_failed", field: "destinations",
			call: breaks(sub([]byte(`{"destinations":[],"document_deposit":{"beneficiary":{},"document":{},"content":""}}`))),
			errors: fields(
				"destinations", "required",
				"document_deposit.beneficiary.distant_id", "required",
				"document_deposit.beneficiary.first_name", "required",
				"document_deposit.beneficiary.last_name", "required",
				"document_deposit.beneficiary.birth_date", "required",
				"document_deposit.document.kind", "required",
				"document_deposit.document.title", "required",
				"document_deposit.document.file_name", "required",
				"document_deposit.document.media_type", "invalid_format",
				"document_deposit.document.visibility", "invalid_value",
				"document_deposit.content", "required",
			),
		},
		{
			name: "impossible birth_date", call: breaks(sub(edit("document_deposit.beneficiary.birth_date", "1948-02-30"))), status: 422, code: "validation_failed",
			field: "document_deposit.beneficiary.birth_date", errors: fields("document_deposit.beneficiary.birth_date", "invalid_date"), echo: []string{"1948-02-30"},
		},
		{
			name: "French birth_date", call: breaks(sub(edit("document_deposit.beneficiary.birth_date", "14/03/1948"))), status: 422, code: "validation_failed",
			field: "document_deposit.beneficiary.birth_date", errors: fields("document_deposit.beneficiary.birth_date", "invalid_date"), echo: []string{"14/03/1948"},
		},
		{
			name: "bad issue_date", call: sub(edit("document_deposit.document.issue_date", "2026-13-01")), status: 422, code: "validation_failed",
			field: "document_deposit.document.issue_date", errors: fields("document_deposit.document.issue_date", "invalid_date"),
		},
		{
			name: "blank first_name", call: breaks(sub(edit("document_deposit.beneficiary.first_name", "   "))), status: 422, code: "validation_failed",
			field: "document_deposit.beneficiary.first_name", errors: fields("document_deposit.beneficiary.first_name", "required"),
		},
		{
			// 101 characters, 202 bytes: within maxLength, over the byte limit.
			name: "last_name over 200 bytes", call: sub(edit("document_deposit.beneficiary.last_name", strings.Repeat("é", 101))), status: 422, code: "validation_failed",
			field: "document_deposit.beneficiary.last_name", errors: fields("document_deposit.beneficiary.last_name", "too_long"), echo: []string{strings.Repeat("é", 101)},
		},
		{
			name: "distant_id with a space", call: breaks(sub(edit("document_deposit.beneficiary.distant_id", "DUI 451"))), status: 422, code: "validation_failed",
			field: "document_deposit.beneficiary.distant_id", errors: fields("document_deposit.beneficiary.distant_id", "invalid_format"),
		},
		{
			name: "email without @", call: breaks(sub(edit("document_deposit.beneficiary.email", "zoe.lefevre.example.fr"))), status: 422, code: "validation_failed",
			field: "document_deposit.beneficiary.email", errors: fields("document_deposit.beneficiary.email", "invalid_format"), echo: []string{"zoe.lefevre.example.fr"},
		},
		{
			name: "media_type not lowercase", call: breaks(sub(edit("document_deposit.document.media_type", "PDF"))), status: 422, code: "validation_failed",
			field: "document_deposit.document.media_type", errors: fields("document_deposit.document.media_type", "invalid_format"),
		},
		{
			name: "file_name with a slash", call: breaks(sub(edit("document_deposit.document.file_name", "../../etc/passwd"))), status: 422, code: "validation_failed",
			field: "document_deposit.document.file_name", errors: fields("document_deposit.document.file_name", "invalid_format"), echo: []string{"etc/passwd"},
		},
		{
			name: "file_name with a backslash", call: breaks(sub(edit("document_deposit.document.file_name", `C:\Dossiers\attestation.pdf`))), status: 422, code: "validation_failed",
			field: "document_deposit.document.file_name", errors: fields("document_deposit.document.file_name", "invalid_format"),
		},
		{
			name: "unknown visibility", call: breaks(sub(edit("document_deposit.document.visibility", "public"))), status: 422, code: "validation_failed",
			field: "document_deposit.document.visibility", errors: fields("document_deposit.document.visibility", "invalid_value"),
		},
		{
			name: "sha256 mismatch", call: sub(edit("document_deposit.document.sha256", hex.EncodeToString(otherDigest[:]))), status: 422, code: "validation_failed",
			field: "document_deposit.document.sha256", errors: fields("document_deposit.document.sha256", "content_digest_mismatch"),
		},

		// Idempotency.
		{
			name: "Idempotency-Key reused with another body", call: submit(fx.caller, fx.usedKey, edit("document_deposit.document.title", "Avis d'imposition 2025")),
			status: 422, code: "idempotency_key_reused", field: "Idempotency-Key",
		},

		// Ids: another tenant's are not found, like ids that do not exist.
		{name: "another tenant's submission", call: get(fx.caller, "/v1/submissions/"+fx.otherSubmission), status: 404, code: "not_found"},
		{name: "another tenant's delivery", call: get(fx.caller, "/v1/deliveries/"+fx.otherDelivery), status: 404, code: "not_found"},
		{name: "replay of another tenant's delivery", call: replay(fx.caller, fx.otherDelivery), status: 404, code: "not_found"},
		{name: "unknown submission", call: get(fx.caller, "/v1/submissions/sub_aaaaaaaaaaaaaaaa"), status: 404, code: "not_found"},
		{name: "id with a path in it", call: get(fx.caller, "/v1/submissions/..%2F..%2Fetc%2Fpasswd"), status: 404, code: "not_found"},
		{name: "replay of a queued delivery", call: replay(fx.caller, fx.queuedDelivery), status: 409, code: "delivery_not_replayable"},

		// Routes.
		{name: "unknown route", call: breaks(get(fx.caller, "/v1/submission")), status: 404, code: "route_not_found"},
		{name: "unknown version", call: breaks(get(fx.caller, "/v2/connectors")), status: 404, code: "route_not_found"},
		{name: "DELETE a submission", call: breaks(call{method: http.MethodDelete, path: "/v1/submissions/" + fx.otherSubmission, auth: fx.caller.bearer()}), status: 405, code: "method_not_allowed"},
		{name: "GET the submissions", call: breaks(get(fx.caller, "/v1/submissions")), status: 405, code: "method_not_allowed"},
		{name: "GET a replay", call: breaks(get(fx.caller, "/v1/deliveries/"+fx.queuedDelivery+"/replay")), status: 405, code: "method_not_allowed"},
	}
}

// TestBadInput sends malformed and hostile requests: each gets its problem,
// with a request id, without a stack trace, and without quoting what was
// sent.
func TestBadInput(t *testing.T) {
	t.Parallel()
	bnd := setup(t)
	ctx := context.Background()
	other := bnd.createSubmission(t, bnd.a, "a-1", validBody(t))
	usedKey := "b-used"
	own := bnd.createSubmission(t, bnd.b, usedKey, validBody(t))
	revoked := newTenant(t, bnd.store, "ccas-de-rennes") // a second key of the caller's tenant
	if err := bnd.store.RevokeAPIKey(ctx, revoked.id, revoked.keyID); err != nil {
		t.Fatalf("RevokeAPIKey: %v", err)
	}
	cases := badInputCases(t, badFixtures{
		caller: bnd.b, otherSubmission: other.ID, otherDelivery: other.Deliveries[0].ID,
		queuedDelivery: own.Deliveries[0].ID, revokedSecret: revoked.secret, usedKey: usedKey,
	})
	if len(cases) < 30 {
		t.Fatalf("only %d cases", len(cases))
	}
	t.Cleanup(func() {
		// After every case: the one place that logs errors never logged
		// personal data either.
		logs := bnd.logs.String()
		for _, v := range personalValues {
			if strings.Contains(logs, v) {
				t.Errorf("the logs quote %q", v)
			}
		}
	})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := bnd.do(t, tc.call)
			body := string(r.body)
			for _, s := range []string{"goroutine ", ".go:", "panic"} {
				if strings.Contains(body, s) {
					t.Fatalf("the answer shows internals (%q): %s", s, body)
				}
			}
			for _, v := range append(slices.Clip(personalValues), tc.echo...) {
				if strings.Contains(body, v) {
					t.Fatalf("the answer quotes %q: %s", v, body)
				}
			}
			if !requestIDPattern.MatchString(r.header.Get("X-Request-Id")) {
				t.Fatalf("X-Request-Id %q", r.header.Get("X-Request-Id"))
			}
			if diff := checkProblem(r, tc); len(diff) > 0 {
				if tc.knownBug != "" {
					knownBug(t, "%s: %s", tc.knownBug, strings.Join(diff, "; "))
				}
				for _, d := range diff {
					t.Error(d)
				}
			}
		})
	}
}

// checkProblem lists how r differs from what tc expects.
func checkProblem(r result, tc badCase) []string {
	var diff []string
	if r.status != tc.status {
		diff = append(diff, fmt.Sprintf("status %d, want %d: %s", r.status, tc.status, r.body))
	}
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		return append(diff, fmt.Sprintf("Content-Type %q, want application/problem+json", ct))
	}
	var p problem
	if err := json.Unmarshal(r.body, &p); err != nil {
		return append(diff, fmt.Sprintf("decoding problem: %v", err))
	}
	if p.Code != tc.code {
		diff = append(diff, fmt.Sprintf("code %q, want %q", p.Code, tc.code))
	}
	if p.Field != tc.field {
		diff = append(diff, fmt.Sprintf("field %q, want %q", p.Field, tc.field))
	}
	if p.Status != r.status || p.Title == "" || p.Detail == "" || p.Type != "https://relais.dev/problems/"+strings.ReplaceAll(p.Code, "_", "-") {
		diff = append(diff, fmt.Sprintf("status %d, title %q, detail %q, type %q", p.Status, p.Title, p.Detail, p.Type))
	}
	if p.RequestID == "" || p.RequestID != r.header.Get("X-Request-Id") {
		diff = append(diff, fmt.Sprintf("request_id %q, X-Request-Id %q", p.RequestID, r.header.Get("X-Request-Id")))
	}
	if path, _, _ := strings.Cut(tc.call.path, "?"); p.Instance != unescapePath(path) {
		diff = append(diff, fmt.Sprintf("instance %q, want %q", p.Instance, path))
	}
	if tc.errors != nil || p.Errors != nil {
		var got []fieldProblem
		for _, e := range p.Errors {
			if e.Detail == "" {
				diff = append(diff, fmt.Sprintf("errors: %s has no detail", e.Field))
			}
			got = append(got, fieldProblem{Field: e.Field, Code: e.Code})
		}
		if !slices.Equal(got, tc.errors) {
			diff = append(diff, fmt.Sprintf("errors %v, want %v", got, tc.errors))
		}
	}
	return diff
}

// TestIdempotentReplay: the same key with the same bytes answers the first
// 202 again, marked replayed, however many times and however concurrently;
// the platform gets one delivery.
func TestIdempotentReplay(t *testing.T) {
	t.Parallel()
	bnd := setup(t)
	body := encode(t, set(deposit(samplePDF), "destinations", []any{"coffrefort", "archiviste"}))
	first := bnd.do(t, submit(bnd.a, "7d0c4e0e-4f0b-4b53-9a8e-3f1f2b1c9d11", body))
	wantStatus(t, first, http.StatusAccepted)
	if first.header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("the first answer is marked replayed")
	}
	sub := decode[accepted](t, first)

	// Concurrent retries, as after a timeout.
	const n = 8
	reqs := make([]*http.Request, n)
	for i := range reqs {
		reqs[i] = newRequest(t, bnd.srv.URL, submit(bnd.a, sub.IdempotencyKey, body))
	}
	answers := make([]result, n)
	errs := make(chan error, n)
	for i, req := range reqs {
		go func() {
			resp, err := bnd.srv.Client().Do(req)
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			var buf bytes.Buffer
			_, err = buf.ReadFrom(resp.Body)
			answers[i] = result{status: resp.StatusCode, header: resp.Header, body: buf.Bytes()}
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatalf("retry: %v", err)
		}
	}
	for _, again := range append(answers, bnd.do(t, submit(bnd.a, sub.IdempotencyKey, body))) {
		wantStatus(t, again, http.StatusAccepted)
		if again.header.Get("Idempotent-Replayed") != "true" || again.header.Get("Location") != first.header.Get("Location") {
			t.Fatalf("replayed answer headers: %v", again.header)
		}
		got := decode[accepted](t, again)
		if got.ID != sub.ID || got.IdempotencyKey != sub.IdempotencyKey || !got.CreatedAt.Truncate(time.Microsecond).Equal(sub.CreatedAt.Truncate(time.Microsecond)) {
			t.Fatalf("replayed answer %+v, first %+v", got, sub)
		}
		if !sameDeliveries(got.Deliveries, sub.Deliveries) {
			t.Fatalf("replayed deliveries %+v, first %+v", got.Deliveries, sub.Deliveries)
		}
	}

	// One submission, one delivery per destination, whatever the retries.
	r := bnd.do(t, get(bnd.a, sub.Href))
	wantStatus(t, r, http.StatusOK)
	if v := decode[submissionView](t, r); len(v.Deliveries) != 2 {
		t.Fatalf("deliveries after retries: %s", r.body)
	}

	t.Run("ByteIdentical", func(t *testing.T) {
		again := bnd.do(t, submit(bnd.a, sub.IdempotencyKey, body))
		if !bytes.Equal(again.body, first.body) {
			t.Fatalf("the replayed 202 body is not byte-identical to the first:\nfirst %s\nagain %s", first.body, again.body)
		}
	})
}

func sameDeliveries(a, b []deliveryRef) bool {
	key := func(d deliveryRef) string { return d.Destination + " " + d.ID + " " + d.Href }
	as, bs := make([]string, len(a)), make([]string, len(b))
	for i := range a {
		as[i] = key(a[i])
	}
	for i := range b {
		bs[i] = key(b[i])
	}
	slices.Sort(as)
	slices.Sort(bs)
	return slices.Equal(as, bs)
}

func unescapePath(p string) string {
	if u, err := url.PathUnescape(p); err == nil {
		return u
	}
	return p
}
