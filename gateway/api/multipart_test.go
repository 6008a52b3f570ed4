package api_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"testing"
)

// multipartBody builds a multipart submission: the JSON part, then the
// content part (omitted when content is nil), then any extra parts.
func multipartBody(tb testing.TB, submission any, content []byte, extra ...string) ([]byte, string) {
	tb.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="submission"`)
	h.Set("Content-Type", "application/json")
	pw, _ := mw.CreatePart(h)
	_ = json.NewEncoder(pw).Encode(submission)
	if content != nil {
		fw, _ := mw.CreateFormFile("content", "attestation.pdf")
		_, _ = fw.Write(content)
	}
	for _, name := range extra {
		fw, _ := mw.CreateFormField(name)
		_, _ = fw.Write([]byte("x"))
	}
	_ = mw.Close()
	return buf.Bytes(), mw.FormDataContentType()
}

// withoutContent returns the JSON submission of deposit(content) with the
// content removed, as the multipart "submission" part carries it.
func withoutContent(tb testing.TB, content []byte) map[string]any {
	tb.Helper()
	sub := deposit(content)
	delete(sub["document_deposit"].(map[string]any), "content")
	return sub
}

func TestMultipartSubmission(t *testing.T) {
	t.Parallel()
	bnd := setup(t)
	pdf := bytes.Repeat([]byte("%PDF-1.7 multipart "), 40000) // ~760 KiB: several chunks

	body, ct := multipartBody(t, withoutContent(t, pdf), pdf)
	post := func(key string, body []byte, ct string, docRejects bool) result {
		return bnd.do(t, call{method: http.MethodPost, path: "/v1/submissions", auth: bnd.a.bearer(), body: body,
			header: map[string]string{"Content-Type": ct, "Idempotency-Key": key}, docRejects: docRejects})
	}
	first := post("mp-1", body, ct, false)
	wantStatus(t, first, http.StatusAccepted)
	again := post("mp-1", body, ct, false)
	wantStatus(t, again, http.StatusAccepted)
	if again.header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(again.body, first.body) {
		t.Fatalf("the same multipart request was not replayed: %s", again.body)
	}
	other, ct2 := multipartBody(t, withoutContent(t, pdf), append(bytes.Clone(pdf), '!'))
	if r := post("mp-1", other, ct2, false); r.status != http.StatusUnprocessableEntity {
		t.Fatalf("same key, other content: HTTP %d %s", r.status, r.body)
	}

	var accepted struct{ ID string }
	if err := json.Unmarshal(first.body, &accepted); err != nil {
		t.Fatalf("decoding 202: %v", err)
	}
	sum := sha256.Sum256(pdf)
	sub, err := bnd.store.GetSubmission(t.Context(), bnd.a.id, accepted.ID)
	if err != nil || len(sub.Deliveries) == 0 {
		t.Fatalf("reading submission: %v", err)
	}
	w, err := bnd.store.LoadWork(t.Context(), sub.Deliveries[0].ID, sub.Deliveries[0].JobID)
	if err != nil {
		t.Fatalf("loading work: %v", err)
	}
	var payload struct {
		Document struct {
			Size   int64  `json:"size"`
			SHA256 string `json:"sha256"`
		} `json:"document"`
	}
	if err := json.Unmarshal(w.Payload, &payload); err != nil || payload.Document.Size != int64(len(pdf)) || payload.Document.SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("stored document: %+v, %v", payload.Document, err)
	}
	rd := bnd.store.OpenContent(t.Context(), w)
	var back bytes.Buffer
	if _, err := back.ReadFrom(rd); err != nil || !bytes.Equal(back.Bytes(), pdf) {
		t.Fatalf("stored content: %d bytes, want %d, %v", back.Len(), len(pdf), err)
	}
}

func TestMultipartBadInput(t *testing.T) {
	t.Parallel()
	bnd := setup(t)
	pdf := []byte("%PDF-1.7")
	cases := []struct {
		name       string
		submission any
		content    []byte
		extra      []string
		status     int
		code       string
		// docAccepts: the document cannot express this limit.
		docAccepts bool
	}{
		{"no content part", withoutContent(t, pdf), nil, nil, http.StatusUnprocessableEntity, "validation_failed", false},
		{"content twice", deposit(pdf), pdf, nil, http.StatusBadRequest, "content_twice", false},
		{"a third part", withoutContent(t, pdf), pdf, []string{"comment"}, http.StatusBadRequest, "malformed_multipart", false},
		{"document too large", withoutContent(t, pdf), bytes.Repeat([]byte("x"), 1<<20+1), nil, http.StatusRequestEntityTooLarge, "document_too_large", true},
		{"unknown field in the JSON part", set(withoutContent(t, pdf), "document_deposit.beneficiary.nickname", "Zozo"), pdf, nil, http.StatusBadRequest, "unknown_field", false},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			body, ct := multipartBody(t, tc.submission, tc.content, tc.extra...)
			r := bnd.do(t, call{method: http.MethodPost, path: "/v1/submissions", auth: bnd.a.bearer(), body: body, docRejects: !tc.docAccepts,
				header: map[string]string{"Content-Type": ct, "Idempotency-Key": "mp-bad-" + string(rune('a'+i))}})
			wantStatus(t, r, tc.status)
			var p struct{ Code string }
			if err := json.Unmarshal(r.body, &p); err != nil || p.Code != tc.code {
				t.Fatalf("code %q (%v), want %q: %s", p.Code, err, tc.code, r.body)
			}
		})
	}
	// The first part must be the submission.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("content", "a.pdf")
	_, _ = fw.Write(pdf)
	_ = mw.Close()
	r := bnd.do(t, call{method: http.MethodPost, path: "/v1/submissions", auth: bnd.a.bearer(), body: buf.Bytes(), docRejects: true,
		header: map[string]string{"Content-Type": mw.FormDataContentType(), "Idempotency-Key": "mp-order"}})
	wantStatus(t, r, http.StatusBadRequest)
}
