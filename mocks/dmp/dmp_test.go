package dmp

import (
	"bytes"
	"crypto/sha1" //nolint:gosec // the FHIR attachment hash
	"encoding/base64"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/relais-dev/relais/mocks/platform"
)

func TestProvideThenFindAndRetrieve(t *testing.T) {
	t.Parallel()
	e := setup(t, Options{})
	b := exampleBundle(t)
	want := resource(b, "Binary")["data"].(string)

	status, rsp := e.provide(b)
	if status != http.StatusOK {
		t.Fatalf("provide: %d %v", status, rsp)
	}
	locs, statuses := locations(t, rsp)
	if !slices.Equal(locs, []string{"List/ss-000002/_history/1", "DocumentReference/dr-000002/_history/1", "Binary/bin-000002/_history/1"}) {
		t.Fatalf("locations %v", locs)
	}
	if !slices.Equal(statuses, []string{"201 Created", "201 Created", "201 Created"}) {
		t.Fatalf("statuses %v", statuses)
	}

	docs := e.find(patientNoDocs, "current")
	if len(docs) != 1 {
		t.Fatalf("found %d documents, want 1", len(docs))
	}
	d := docs[0]
	if d["id"] != "dr-000002" || d["status"] != "current" || d["meta"].(map[string]any)["versionId"] != "1" {
		t.Fatalf("stored document %v", d)
	}
	if got := d["masterIdentifier"].(map[string]any)["value"]; got != "urn:oid:1.2.250.1.999.1.20250312.1" {
		t.Fatalf("masterIdentifier %v", got)
	}
	url := d["content"].([]any)[0].(map[string]any)["attachment"].(map[string]any)["url"].(string)
	if url != e.ts.URL+"/fhir/Binary/bin-000002" {
		t.Fatalf("attachment URL %q, want the retrieve URL on the server the request came to", url)
	}

	// ITI-68 on the attachment URL, raw and as a Binary resource.
	code, h, raw := e.do(http.MethodGet, strings.TrimPrefix(url, e.ts.URL), nil)
	if code != http.StatusOK || h.Get("Content-Type") != "text/plain" || base64.StdEncoding.EncodeToString(raw) != want {
		t.Fatalf("raw retrieve: %d %q %q", code, h.Get("Content-Type"), raw)
	}
	code, _, body := e.do(http.MethodGet, "/fhir/Binary/bin-000002", nil, "Accept", "application/fhir+json")
	bin := decode(t, body)
	if code != http.StatusOK || bin["resourceType"] != "Binary" || bin["data"] != want || bin["contentType"] != "text/plain" {
		t.Fatalf("Binary retrieve: %d %v", code, bin)
	}

	// The other patients' records are untouched.
	if n := len(e.find(patientWithDoc, "")); n != 1 {
		t.Fatalf("patient with the fixture document has %d documents", n)
	}
	if n := len(e.find(patientEmpty, "")); n != 0 {
		t.Fatalf("empty record has %d documents", n)
	}
	st := e.mock.Stats()
	if st.Accepted != 1 || st.Documents != 2 || st.Replayed != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestResubmissionIsReplayedByMasterIdentifier(t *testing.T) {
	t.Parallel()
	e := setup(t, Options{})
	_, first := e.provide(exampleBundle(t))
	e.clk.Advance(time.Minute)
	status, again := e.provide(exampleBundle(t))
	if status != http.StatusOK {
		t.Fatalf("replay: %d %v", status, again)
	}
	l1, _ := locations(t, first)
	l2, statuses := locations(t, again)
	if !slices.Equal(l1, l2) {
		t.Fatalf("replay points at %v, the first submission created %v", l2, l1)
	}
	if !slices.Equal(statuses, []string{"200 OK", "200 OK", "200 OK"}) {
		t.Fatalf("replay statuses %v", statuses)
	}
	if got := again["entry"].([]any)[1].(map[string]any)["response"].(map[string]any)["lastModified"]; got != "2025-03-12T15:10:00.000Z" {
		t.Fatalf("replay lastModified %v, want the first submission's", got)
	}
	st := e.mock.Stats()
	if st.Accepted != 1 || st.Replayed != 1 || st.Documents != 2 {
		t.Fatalf("stats %+v", st)
	}
	if n := len(e.find(patientNoDocs, "")); n != 1 {
		t.Fatalf("%d documents after a replay, want 1", n)
	}
}

func TestIdempotencyKeyReplaysTheFirstAnswer(t *testing.T) {
	t.Parallel()
	e := setup(t, Options{})
	_, first := e.provide(exampleBundle(t), "Idempotency-Key", "dlv-1")
	status, again := e.provide(exampleBundle(t), "Idempotency-Key", "dlv-1")
	if status != http.StatusOK || again["id"] != first["id"] {
		t.Fatalf("replay by key: %d, bundle %v then %v", status, first["id"], again["id"])
	}
	_, statuses := locations(t, again)
	if statuses[0] != "201 Created" {
		t.Fatalf("a key replay repeats the first answer as is, got %v", statuses)
	}
	// The same key with another body is a conflict.
	other := bundleFor(t, patientNoDocs, "k", "autre contenu")
	status, body := e.provide(other, "Idempotency-Key", "dlv-1")
	if code, _, _ := outcome(t, body); status != http.StatusConflict || code != "conflict" {
		t.Fatalf("key reuse: %d %v", status, body)
	}
	st := e.mock.Stats()
	if st.Duplicates != 1 || st.Accepted != 1 || st.Replayed != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestProvideRejections(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		edit       func(t *testing.T, b map[string]any)
		xds, code  string
		expression string
	}{
		{"attachment points to no Binary", func(_ *testing.T, b map[string]any) {
			attachmentOf(b)["url"] = "urn:uuid:00000000-0000-4000-8000-00000000abcd"
		}, XDSMissingDocument, "invalid", "Bundle.entry[1].resource.content[0].attachment.url"},
		{"content type differs from the Binary's", func(_ *testing.T, b map[string]any) {
			attachmentOf(b)["contentType"] = "application/pdf"
		}, XDSRegistryMetadataError, "value", "Bundle.entry[1].resource.content[0].attachment.contentType"},
		{"size differs", func(_ *testing.T, b map[string]any) {
			attachmentOf(b)["size"] = 12
		}, XDSNonIdenticalSize, "value", "Bundle.entry[1].resource.content[0].attachment.size"},
		{"hash differs", func(_ *testing.T, b map[string]any) {
			attachmentOf(b)["hash"] = "2jmj7l5rSw0yVb/vlWAYkK/YBwk="
		}, XDSNonIdenticalHash, "value", "Bundle.entry[1].resource.content[0].attachment.hash"},
		{"patient not named by an INS system", func(_ *testing.T, b map[string]any) {
			setPatient(b, Identifier{System: "urn:oid:1.2.250.1.71.4.2.1", Value: "810002345678"})
		}, XDSUnknownPatientID, "value", "Bundle.entry[0].resource.subject.identifier.system"},
		{"NIR with a wrong key", func(_ *testing.T, b map[string]any) {
			setPatient(b, Identifier{System: SystemTestNIR, Value: "279036912304583"})
		}, XDSUnknownPatientID, "value", "Bundle.entry[0].resource.subject.identifier.value"},
		{"patient without a record", func(_ *testing.T, b map[string]any) {
			setPatient(b, Identifier{System: SystemTestNIR, Value: "185057800608491"})
		}, XDSUnknownPatientID, "not-found", "Bundle.entry[0].resource.subject.identifier"},
		{"document of another patient than the submission set", func(_ *testing.T, b map[string]any) {
			resource(b, "DocumentReference")["subject"] = map[string]any{"identifier": map[string]any{"system": SystemTestNIR, "value": patientEmpty.Value}}
		}, XDSPatientIDDoesNotMatch, "business-rule", "Bundle.entry[1].resource.subject.identifier"},
		{"author that is not contained", func(_ *testing.T, b map[string]any) {
			resource(b, "DocumentReference")["author"] = []any{map[string]any{"reference": "PractitionerRole/123"}}
		}, XDSRegistryMetadataError, "invalid", "Bundle.entry[1].resource.author[0]"},
		{"author that resolves to nothing", func(_ *testing.T, b map[string]any) {
			resource(b, "DocumentReference")["author"] = []any{map[string]any{"reference": "#nobody"}}
		}, XDSRegistryMetadataError, "invalid", "Bundle.entry[1].resource.author[0].reference"},
		{"submission set that misses a document", func(t *testing.T, b map[string]any) {
			two := bundleFor(t, patientNoDocs, "m", "un", "deux")
			set := resource(two, "List")
			set["entry"] = set["entry"].([]any)[:1]
			b["entry"] = two["entry"]
		}, XDSRegistryMetadataError, "invalid", "Bundle.entry[0].resource.entry"},
		{"submission set that lists what the bundle lacks", func(_ *testing.T, b map[string]any) {
			set := resource(b, "List")
			set["entry"] = append(set["entry"].([]any), map[string]any{"item": map[string]any{"reference": "urn:uuid:00000000-0000-4000-8000-0000000000ff"}})
		}, XDSRegistryMetadataError, "invalid", "Bundle.entry[0].resource.entry[1].item.reference"},
		{"Binary that no document uses", func(_ *testing.T, b map[string]any) {
			b["entry"] = append(b["entry"].([]any), map[string]any{
				"fullUrl":  "urn:uuid:00000000-0000-4000-8000-0000000000ee",
				"resource": map[string]any{"resourceType": "Binary", "contentType": "text/plain", "data": "b3JwaGVsaW4="},
				"request":  map[string]any{"method": "POST", "url": "Binary"},
			})
		}, XDSRegistryMetadataError, "invalid", "Bundle.entry[3]"},
		{"masterIdentifier twice in the bundle", func(t *testing.T, b map[string]any) {
			two := bundleFor(t, patientNoDocs, "m", "un", "deux")
			es := entries(two)
			es[3]["resource"].(map[string]any)["masterIdentifier"] = es[1]["resource"].(map[string]any)["masterIdentifier"]
			b["entry"] = two["entry"]
		}, XDSDuplicateUniqueIDInRegistry, "duplicate", "Bundle.entry[3].resource.masterIdentifier"},
		{"masterIdentifier of a stored document, other content", func(_ *testing.T, b map[string]any) {
			resource(b, "DocumentReference")["masterIdentifier"] = map[string]any{"system": "urn:ietf:rfc:3986", "value": fixtureMaster}
		}, XDSNonIdenticalHash, "duplicate", "Bundle.entry[1].resource.masterIdentifier"},
		{"replaces an unknown document", func(_ *testing.T, b map[string]any) {
			resource(b, "DocumentReference")["relatesTo"] = []any{map[string]any{"code": "replaces", "target": map[string]any{"reference": "DocumentReference/dr-999999"}}}
		}, XDSRegistryMetadataError, "not-found", "Bundle.entry[1].resource.relatesTo"},
		{"replaces another patient's document", func(_ *testing.T, b map[string]any) {
			resource(b, "DocumentReference")["relatesTo"] = []any{map[string]any{"code": "replaces", "target": map[string]any{"reference": "DocumentReference/" + fixtureDocID}}}
		}, XDSPatientIDDoesNotMatch, "business-rule", "Bundle.entry[1].resource.relatesTo"},
		{"replaces with a reference that is no DocumentReference", func(_ *testing.T, b map[string]any) {
			resource(b, "DocumentReference")["relatesTo"] = []any{map[string]any{"code": "replaces", "target": map[string]any{"reference": "Binary/bin-000001"}}}
		}, XDSRegistryMetadataError, "invalid", "Bundle.entry[1].resource.relatesTo[0].target.reference"},
	}
	// One mock takes every refusal in turn: a refused bundle must leave
	// the store as it was, so each case also checks that none of the
	// refusals before it stored anything (and a mock costs 100 ms to load).
	e := setup(t, Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.mock.Stats().Rejected[tt.xds]
			b := exampleBundle(t)
			tt.edit(t, b)
			status, body := e.provide(b)
			if status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422: %v", status, body)
			}
			code, xds, expr := outcome(t, body)
			if code != tt.code || xds != tt.xds || expr != tt.expression {
				t.Fatalf("issue (%s, %s, %s), want (%s, %s, %s)", code, xds, expr, tt.code, tt.xds, tt.expression)
			}
			st := e.mock.Stats()
			if st.Documents != 1 || st.Accepted != 0 || st.Rejected[tt.xds] != before+1 {
				t.Fatalf("a refused bundle changed the store or was not counted: %+v", st)
			}
			if st.Violations != 0 {
				t.Fatalf("a business refusal counted as a contract violation: %+v", st)
			}
		})
	}
	if n := len(e.find(patientNoDocs, "")) + len(e.find(patientEmpty, "")); n != 0 {
		t.Fatalf("%d documents stored by refused bundles", n)
	}
}

func TestPartialResubmissionIsRefused(t *testing.T) {
	t.Parallel()
	e := setup(t, Options{})
	if status, body := e.provide(bundleFor(t, patientNoDocs, "p", "un", "deux")); status != http.StatusOK {
		t.Fatalf("first: %d %v", status, body)
	}
	// The first document again, alone: same content, another submission.
	status, body := e.provide(bundleFor(t, patientNoDocs, "p", "un"))
	if _, xds, _ := outcome(t, body); status != http.StatusUnprocessableEntity || xds != XDSDuplicateUniqueIDInRegistry {
		t.Fatalf("partial resubmission: %d %v", status, body)
	}
	if st := e.mock.Stats(); st.Documents != 3 || st.Replayed != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestReplacementSupersedesTheOldDocument(t *testing.T) {
	t.Parallel()
	e := setup(t, Options{})
	b := bundleFor(t, patientWithDoc, "r", "Synthèse corrigée")
	resource(b, "DocumentReference")["relatesTo"] = []any{map[string]any{
		"code": "replaces", "target": map[string]any{"reference": "DocumentReference/" + fixtureDocID},
	}}
	e.clk.Advance(time.Hour)
	if status, body := e.provide(b); status != http.StatusOK {
		t.Fatalf("replacement: %d %v", status, body)
	}
	current := e.find(patientWithDoc, "current")
	if len(current) != 1 || current[0]["id"] != "dr-000002" {
		t.Fatalf("current documents %v", current)
	}
	old := e.find(patientWithDoc, "superseded")
	if len(old) != 1 || old[0]["id"] != fixtureDocID {
		t.Fatalf("superseded documents %v", old)
	}
	meta := old[0]["meta"].(map[string]any)
	if meta["versionId"] != "2" || meta["lastUpdated"] != "2025-03-12T16:10:00.000Z" {
		t.Fatalf("the superseded document's meta %v", meta)
	}
	if n := len(e.find(patientWithDoc, "current,superseded")); n != 2 {
		t.Fatalf("%d documents for both statuses", n)
	}
	docs := e.mock.Documents(patientWithDoc)
	if docs[0].ReplacedBy != "dr-000002" || docs[1].Replaces != fixtureDocID {
		t.Fatalf("documents %+v", docs)
	}

	// A superseded document cannot be replaced again.
	again := bundleFor(t, patientWithDoc, "r2", "Encore")
	resource(again, "DocumentReference")["relatesTo"] = resource(b, "DocumentReference")["relatesTo"]
	status, body := e.provide(again)
	if code, xds, _ := outcome(t, body); status != http.StatusUnprocessableEntity || code != "business-rule" || xds != XDSRegistryMetadataError {
		t.Fatalf("replacing a superseded document: %d %v", status, body)
	}
}

func TestRequestErrorsAreOperationOutcomes(t *testing.T) {
	t.Parallel()
	e := setup(t, Options{MaxBundleBytes: 16 << 10})
	big := bundleFor(t, patientNoDocs, "big", strings.Repeat("x", 16<<10))
	bigRaw := mustJSON(big)

	tests := []struct {
		name, method, path string
		body               []byte
		headers            []string
		status             int
		code, expression   string
	}{
		{"malformed JSON", http.MethodPost, "/fhir", []byte(`{"resourceType":`), nil, 400, "invalid", ""},
		{"not a transaction", http.MethodPost, "/fhir", bytes.Replace(mustJSON(exampleBundle(t)), []byte(`"transaction"`), []byte(`"batch"`), 1), nil, 400, "invalid", "Bundle.type"},
		{"XML body", http.MethodPost, "/fhir", []byte(`<Bundle/>`), []string{"Content-Type", "application/fhir+xml"}, 415, "not-supported", ""},
		{"body over the limit", http.MethodPost, "/fhir", bigRaw, nil, 413, "too-long", ""},
		{"search without patient", http.MethodGet, "/fhir/DocumentReference?status=current", nil, nil, 400, "invalid", "patient.identifier"},
		{"search by a non-INS identifier", http.MethodGet, "/fhir/DocumentReference?patient.identifier=urn:oid:1.2.3%7C42", nil, nil, 400, "invalid", "patient.identifier"},
		{"unknown path", http.MethodGet, "/fhir/Patient", nil, nil, 404, "not-found", ""},
		{"method not allowed", http.MethodDelete, "/fhir/Binary/bin-000001", nil, nil, 405, "not-supported", ""},
	}
	for _, tt := range tests {
		status, h, raw := e.do(tt.method, tt.path, tt.body, tt.headers...)
		if status != tt.status || !strings.HasPrefix(h.Get("Content-Type"), "application/fhir+json") {
			t.Errorf("%s: %d %q, want %d in FHIR JSON: %s", tt.name, status, h.Get("Content-Type"), tt.status, raw)
			continue
		}
		code, _, expr := outcome(t, decode(t, raw))
		if code != tt.code || expr != tt.expression {
			t.Errorf("%s: issue (%s, %s), want (%s, %s)", tt.name, code, expr, tt.code, tt.expression)
		}
	}
	if st := e.mock.Stats(); st.Violations != int64(len(tests)) || st.Documents != 1 {
		t.Fatalf("%d contract violations counted for %d bad requests (stats %+v)", st.Violations, len(tests), st)
	}
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	e := setup(t, Options{Tokens: []string{"t1", "t2"}})
	for _, tc := range []struct {
		auth   string
		status int
	}{{"", 401}, {"Bearer nope", 401}, {"Basic dDE6dDE=", 401}, {"Bearer t1", 200}, {"Bearer t2", 200}} {
		status, h, body := e.do(http.MethodGet, "/fhir/Binary/bin-000001", nil, "Authorization", tc.auth)
		if status != tc.status {
			t.Errorf("Authorization %q: %d, want %d", tc.auth, status, tc.status)
		}
		if status == 401 {
			if code, _, _ := outcome(t, decode(t, body)); code != "login" || !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("Authorization %q: issue %q, WWW-Authenticate %q", tc.auth, code, h.Get("WWW-Authenticate"))
			}
		}
	}
	// The CapabilityStatement needs no token.
	if status, _, _ := e.do(http.MethodGet, "/fhir/metadata", nil, "Authorization", ""); status != http.StatusOK {
		t.Fatalf("metadata without a token: %d", status)
	}
}

func TestRetrieveNegotiation(t *testing.T) {
	t.Parallel()
	e := setup(t, Options{})
	tests := []struct {
		accept string
		status int
		ctype  string
	}{
		{"", 200, "application/pdf"},
		{"*/*", 200, "application/pdf"},
		{"application/pdf", 200, "application/pdf"},
		{"application/*", 200, "application/pdf"},
		{"application/fhir+json", 200, "application/fhir+json; charset=utf-8"},
		{"application/json", 200, "application/fhir+json; charset=utf-8"},
		{"application/pdf;q=0.5, application/fhir+json", 200, "application/fhir+json; charset=utf-8"},
		{"application/pdf, application/fhir+json;q=0.5", 200, "application/pdf"},
		{"application/fhir+json, */*;q=0.1", 200, "application/fhir+json; charset=utf-8"},
		{"image/png", 406, "application/fhir+json; charset=utf-8"},
		{"application/pdf;q=0", 406, "application/fhir+json; charset=utf-8"},
	}
	for _, tt := range tests {
		status, h, body := e.do(http.MethodGet, "/fhir/Binary/bin-000001", nil, "Accept", tt.accept)
		if status != tt.status || h.Get("Content-Type") != tt.ctype {
			t.Errorf("Accept %q: %d %q, want %d %q", tt.accept, status, h.Get("Content-Type"), tt.status, tt.ctype)
			continue
		}
		if tt.ctype == "application/pdf" {
			if !bytes.HasPrefix(body, []byte("%PDF-")) {
				t.Errorf("Accept %q: not the PDF: %.20q", tt.accept, body)
			}
			sum := sha1.Sum(body) //nolint:gosec // the FHIR attachment hash
			doc := e.mock.Documents(patientWithDoc)[0]
			if base64.StdEncoding.EncodeToString(sum[:]) != doc.SHA1 || int64(len(body)) != doc.Size {
				t.Errorf("Accept %q: the bytes do not match the stored hash and size", tt.accept)
			}
		}
	}
	if status, _, _ := e.do(http.MethodGet, "/fhir/Binary/bin-424242", nil); status != http.StatusNotFound {
		t.Fatalf("unknown Binary: %d", status)
	}
	// Searches and the CapabilityStatement answer FHIR JSON only.
	if status, _, _ := e.do(http.MethodGet, "/fhir/metadata", nil, "Accept", "application/fhir+xml"); status != http.StatusNotAcceptable {
		t.Fatalf("metadata as XML: %d", status)
	}
}

func TestBaseURL(t *testing.T) {
	t.Parallel()
	e := setup(t, Options{BaseURL: "https://dmp.example/fhir/"})
	docs := e.find(patientWithDoc, "current")
	url := docs[0]["content"].([]any)[0].(map[string]any)["attachment"].(map[string]any)["url"]
	if url != "https://dmp.example/fhir/Binary/bin-000001" {
		t.Fatalf("attachment URL %v", url)
	}
}

func TestResetRestoresTheFixtures(t *testing.T) {
	t.Parallel()
	e := setup(t, Options{})
	e.provide(exampleBundle(t))
	if err := e.mock.Platform().SetFaults(platform.Faults{Rules: []platform.Rule{{Operations: []string{"documents.find"}, Status: 503}}}); err != nil {
		t.Fatal(err)
	}
	e.mock.Reset()
	st := e.mock.Stats()
	if st.Documents != 1 || st.Accepted != 0 || st.Requests != 0 || len(e.mock.Platform().Faults().Rules) != 0 {
		t.Fatalf("after reset: %+v", st)
	}
	if n := len(e.find(patientNoDocs, "")); n != 0 {
		t.Fatalf("%d documents after reset", n)
	}
	// The example can be submitted again and gets the same ids.
	_, rsp := e.provide(exampleBundle(t))
	if locs, _ := locations(t, rsp); locs[1] != "DocumentReference/dr-000002/_history/1" {
		t.Fatalf("after reset: %v", locs)
	}
}

func TestFaultsAndRateLimitAreOperationOutcomes(t *testing.T) {
	t.Parallel()
	e := setup(t, Options{RateLimit: platform.RateLimit{Limit: 2, Window: time.Minute}})
	if err := e.mock.Platform().SetFaults(platform.Faults{Rules: []platform.Rule{{Operations: []string{"documents.retrieve"}, Status: 503, RetryAfter: "7"}}}); err != nil {
		t.Fatal(err)
	}
	status, h, body := e.do(http.MethodGet, "/fhir/Binary/bin-000001", nil)
	if code, _, _ := outcome(t, decode(t, body)); status != 503 || code != "transient" || h.Get("Retry-After") != "7" {
		t.Fatalf("injected 503: %d %q %s", status, h.Get("Retry-After"), body)
	}
	// Two requests in the window per token, the third is throttled.
	e.find(patientWithDoc, "")
	e.find(patientWithDoc, "")
	status, h, body = e.do(http.MethodGet, "/fhir/DocumentReference?patient.identifier=urn:oid:1.2.250.1.213.1.4.10%7C148117511406227", nil)
	if code, _, _ := outcome(t, decode(t, body)); status != 429 || code != "throttled" || h.Get("Retry-After") == "" || h.Get("RateLimit-Remaining") != "0" {
		t.Fatalf("third request: %d %v %s", status, h, body)
	}
	// Another token has its own window.
	other := setup(t, Options{Tokens: []string{"a", "b"}, RateLimit: platform.RateLimit{Limit: 1, Window: time.Minute}})
	for _, tok := range []string{"a", "b"} {
		if status, _, _ := other.do(http.MethodGet, "/fhir/Binary/bin-000001", nil, "Authorization", "Bearer "+tok); status != 200 {
			t.Fatalf("token %s: %d", tok, status)
		}
	}
	if st := e.mock.Stats(); st.RateLimited != 1 || st.Injected["error"] != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestCapabilityStatement(t *testing.T) {
	t.Parallel()
	e := setup(t, Options{})
	status, _, body := e.do(http.MethodGet, "/fhir/metadata", nil)
	cs := decode(t, body)
	if status != 200 || cs["resourceType"] != "CapabilityStatement" || cs["fhirVersion"] != "4.0.1" || cs["kind"] != "instance" {
		t.Fatalf("%d %v", status, cs)
	}
	rest := cs["rest"].([]any)[0].(map[string]any)
	if rest["mode"] != "server" || rest["interaction"].([]any)[0].(map[string]any)["code"] != "transaction" {
		t.Fatalf("rest %v", rest)
	}
	if url := cs["implementation"].(map[string]any)["url"]; url != e.ts.URL+"/fhir" {
		t.Fatalf("implementation.url %v", url)
	}
}

func TestOptions(t *testing.T) {
	t.Parallel()
	for _, o := range []Options{
		{MaxBundleBytes: -1},
		{Tokens: []string{"a", ""}},
		{Patients: []Patient{{INS: Identifier{System: SystemTestNIR, Value: "279036912304583"}}}},
		{Patients: []Patient{{INS: Identifier{System: "urn:oid:1.2.3", Value: "279036912304582"}}}},
		{BaseURL: "dmp.example/fhir"},
	} {
		if err := o.WithDefaults().Validate(); err == nil {
			t.Errorf("%+v validated", o)
		}
	}
	if err := (Options{}).WithDefaults().Validate(); err != nil {
		t.Fatal(err)
	}
	// Patients of one's own, without the fixture documents.
	e := setup(t, Options{Patients: []Patient{{INS: patientEmpty}}, NoFixtureDocuments: true})
	if st := e.mock.Stats(); st.Documents != 0 {
		t.Fatalf("%d documents without fixtures", st.Documents)
	}
	if status, _, _ := e.do(http.MethodGet, "/fhir/DocumentReference?patient.identifier=urn:oid:1.2.250.1.213.1.4.10%7C148117511406227", nil); status != 404 {
		t.Fatalf("a patient not configured: %d", status)
	}
}

func TestFixturePatientsAreValidINS(t *testing.T) {
	t.Parallel()
	ps := FixturePatients()
	if len(ps) != 3 {
		t.Fatalf("%d fixture patients", len(ps))
	}
	for _, p := range ps {
		if p.INS.System != SystemTestNIR || !validNIR(p.INS.Value) {
			t.Errorf("%s: not a test NIR with a valid key", p.INS.Value)
		}
		// The NIR carries the sex, year and month of birth and the birth
		// place: the traits must agree with it.
		sex := map[string]byte{"male": '1', "female": '2'}[p.Gender]
		if p.INS.Value[0] != sex || p.INS.Value[1:3] != p.BirthDate[2:4] || p.INS.Value[3:5] != p.BirthDate[5:7] || p.INS.Value[5:10] != p.BirthPlace {
			t.Errorf("%s: traits %s %s %s disagree with the NIR", p.INS.Value, p.Gender, p.BirthDate, p.BirthPlace)
		}
		if p.FirstGivenName != p.GivenNames[0] {
			t.Errorf("%s: first given name %q is not the first of %v", p.INS.Value, p.FirstGivenName, p.GivenNames)
		}
	}
}

func TestValidNIR(t *testing.T) {
	t.Parallel()
	for v, want := range map[string]bool{
		"279036912304582": true,
		"148117511406227": true,
		"279036912304583": false, // wrong key
		"27903691230458":  false, // short
		"2790369123045a2": false,
		"1850578006084+1": false,
		"":                false,
		// Corsica: 2A counts as 19, 2B as 18 for the key.
		"185052A001034" + key("1850519001034"): true,
		"185052B001034" + key("1850518001034"): true,
		"185052A001034" + key("1850520001034"): false,
	} {
		if got := validNIR(v); got != want {
			t.Errorf("validNIR(%q) = %v, want %v", v, got, want)
		}
	}
}

// key computes a NIR key the slow way, independently of validNIR.
func key(num string) string {
	rem := 0
	for _, c := range num {
		rem = (rem*10 + int(c-'0')) % 97
	}
	k := 97 - rem
	return string([]byte{byte('0' + k/10), byte('0' + k%10)})
}

func TestFHIRPath(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"/entry/1/resource/content/0/attachment/url": "Bundle.entry[1].resource.content[0].attachment.url",
		"/type":              "Bundle.type",
		"patient.identifier": "patient.identifier",
		"":                   "",
		"/a~1b/c~0d":         "Bundle.a/b.c~d",
	} {
		if got := fhirPath(in); got != want {
			t.Errorf("fhirPath(%q) = %q, want %q", in, got, want)
		}
	}
}
