package api_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

// BenchmarkCreateSubmission measures POST /v1/submissions through the
// handler, a 4 KiB document stored on SQLite: decode, validate, seal, insert
// the submission, its content, delivery and River job in one transaction.
func BenchmarkCreateSubmission(b *testing.B) {
	bnd := setup(b)
	doc := make([]byte, 4<<10)
	for i := range doc {
		doc[i] = byte(i * 7)
	}
	body := encode(b, deposit(doc))
	auth := bnd.a.bearer()
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	i := 0
	for b.Loop() {
		i++
		req := httptest.NewRequest(http.MethodPost, "/v1/submissions", bytes.NewReader(body))
		req.Header.Set("Authorization", auth)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", "bench-"+strconv.Itoa(i))
		rec := httptest.NewRecorder()
		bnd.server.ServeHTTP(rec, req)
		if rec.Code != http.StatusAccepted {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}
