package web

import (
	"bytes"
	"errors"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/relais-dev/relais/gateway/mandate"
)

func TestNormalisePhone(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]string{
		"06 12 34 56 78":     "+33612345678",
		"07.12.34.56.78":     "+33712345678",
		"+33 6 12 34 56 78":  "+33612345678",
		"0033612345678":      "+33612345678",
		" (06) 12-34-56-78":  "+33612345678",
		"06\u00a012\u00a034": "0612" + "34", // too short: left for the service to refuse
		"01 23 45 67 89":     "+33123456789",
		"":                   "",
	} {
		if got := normalisePhone(raw); got != want {
			t.Errorf("normalisePhone(%q) = %q, want %q", raw, got, want)
		}
	}
}

var testNow = time.Date(2026, 3, 2, 9, 15, 0, 0, time.UTC)

func TestFrenchErrors(t *testing.T) {
	t.Parallel()
	err := mandate.Person{BirthCountry: "99100", BirthPlace: "x"}.Validate(testNow)
	got := frenchErrors(err)
	for _, field := range []string{"family_name", "given_names", "birth_date", "sex", "birth_place"} {
		if got[field] == "" || strings.Contains(got[field], "_") || !strings.HasSuffix(got[field], ".") {
			t.Errorf("field %s: %q, want a French message", field, got[field])
		}
	}
	if got := frenchErrors(errors.New("boom")); got[""] == "" {
		t.Errorf("a non-validation error: %v", got)
	}
}

// createBody is a creation form as the page sends it.
func createBody(tb testing.TB) (string, []byte) {
	tb.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, kv := range [][2]string{
		{"csrf", "token"}, {"family_name", "Lefèvre"}, {"given_names", "Zoé"}, {"birth_date", "1948-03-14"}, {"sex", "female"},
		{"birth_country", "99134"}, {"demarches", "social"}, {"demarches", "sante"}, {"duration_days", "31"},
		{"consent_method", "in_person"}, {"phone", ""},
	} {
		_ = mw.WriteField(kv[0], kv[1])
	}
	fw, _ := mw.CreateFormFile("attestation", "a.pdf")
	_, _ = fw.Write([]byte("%PDF attestation"))
	_ = mw.Close()
	return mw.FormDataContentType(), buf.Bytes()
}

func TestReadCreateForm(t *testing.T) {
	t.Parallel()
	ct, body := createBody(t)
	r := httptest.NewRequest(http.MethodPost, "/pro/mandats", bytes.NewReader(body))
	r.Header.Set("Content-Type", ct)
	f, err := readCreateForm(httptest.NewRecorder(), r)
	if err != nil {
		t.Fatal(err)
	}
	if f.CSRF != "token" || f.Person.FamilyName != "Lefèvre" || strings.Join(f.Demarches, ",") != "social,sante" ||
		f.Duration != "31" || f.Attestation != mandate.AttestationSHA256([]byte("%PDF attestation")) {
		t.Fatalf("read %+v", f)
	}
	for name, c := range map[string]struct{ ct, body string }{
		"not multipart":   {"application/x-www-form-urlencoded", "csrf=token"},
		"no boundary":     {"multipart/form-data", "x"},
		"truncated":       {ct, string(body[:len(body)/2])},
		"too many parts":  {"multipart/form-data; boundary=b", strings.Repeat("--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\ny\r\n", 70) + "--b--\r\n"},
		"a field too big": {"multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n" + strings.Repeat("y", 2000) + "\r\n--b--\r\n"},
	} {
		r := httptest.NewRequest(http.MethodPost, "/pro/mandats", strings.NewReader(c.body))
		r.Header.Set("Content-Type", c.ct)
		if _, err := readCreateForm(httptest.NewRecorder(), r); err == nil {
			t.Errorf("%s: read without error", name)
		}
	}
}

// FuzzReadCreateForm: whatever the body, the reader returns a form or an
// error, never panics, and never hashes an attestation it did not read.
func FuzzReadCreateForm(f *testing.F) {
	ct, body := createBody(f)
	boundary := strings.TrimPrefix(ct, "multipart/form-data; boundary=")
	f.Add(body)
	f.Add([]byte("--" + boundary + "--\r\n"))
	f.Add([]byte("--" + boundary + "\r\nContent-Disposition: form-data; name=\"attestation\"; filename=\"a\"\r\n\r\n\r\n--" + boundary + "--\r\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		r := httptest.NewRequest(http.MethodPost, "/pro/mandats", bytes.NewReader(raw))
		r.Header.Set("Content-Type", ct)
		form, err := readCreateForm(httptest.NewRecorder(), r)
		if err != nil {
			return
		}
		if form.Attestation != "" && len(form.Attestation) != 64 {
			t.Fatalf("attestation hash %q", form.Attestation)
		}
		if len(form.Demarches) > maxFormParts {
			t.Fatalf("%d démarches from at most %d parts", len(form.Demarches), maxFormParts)
		}
	})
}

// BenchmarkReadCreateForm reads a creation form with a 1 MiB attestation:
// the file is hashed as it streams, so the allocations stay far below its
// size.
func BenchmarkReadCreateForm(b *testing.B) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, kv := range [][2]string{{"csrf", "token"}, {"family_name", "Lefèvre"}, {"demarches", "social"}, {"consent_method", "in_person"}} {
		_ = mw.WriteField(kv[0], kv[1])
	}
	fw, _ := mw.CreateFormFile("attestation", "a.pdf")
	_, _ = fw.Write(bytes.Repeat([]byte("%PDF-1.4 scan "), (1<<20)/14))
	_ = mw.Close()
	body, ct := buf.Bytes(), mw.FormDataContentType()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest(http.MethodPost, "/pro/mandats", bytes.NewReader(body))
		r.Header.Set("Content-Type", ct)
		if f, err := readCreateForm(httptest.NewRecorder(), r); err != nil || f.Attestation == "" {
			b.Fatalf("%+v, %v", f, err)
		}
	}
}
