package connectors_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/relais-dev/relais/connectors"
)

func TestReadAnswer(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		status int
		body   io.Reader
		want   []int
		// wantBody is the body returned; when empty, the error's class,
		// status and what its Op ends with.
		wantBody string
		class    connectors.Class
		errCode  int
		opSuffix string
	}{
		{name: "any 2xx", status: 202, body: strings.NewReader(`{"id":1}`), wantBody: `{"id":1}`},
		{name: "wanted status", status: 201, body: strings.NewReader(`{"id":1}`), want: []int{201, 200}, wantBody: `{"id":1}`},
		{name: "at the limit", status: 200, body: strings.NewReader(strings.Repeat("x", 16)), wantBody: strings.Repeat("x", 16)},
		{name: "other success", status: 200, body: strings.NewReader(`{}`), want: []int{201}, class: connectors.Permanent, errCode: 200, opSuffix: ": contract: unexpected success status"},
		{name: "refused", status: 422, body: strings.NewReader(`{"code":"X"}`), want: []int{201}, class: connectors.Permanent, errCode: 422, opSuffix: "posting"},
		{name: "unavailable", status: 503, body: strings.NewReader(`down`), class: connectors.Retryable, errCode: 503, opSuffix: "posting"},
		{name: "not found", status: 404, body: strings.NewReader(``), class: connectors.NotFound, errCode: 404, opSuffix: "posting"},
		{name: "too large", status: 200, body: strings.NewReader(strings.Repeat("x", 17)), class: connectors.Permanent, errCode: 200, opSuffix: ": answer_too_large"},
		{name: "cut", status: 200, body: iotest.ErrReader(io.ErrUnexpectedEOF), class: connectors.Retryable, opSuffix: "posting"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp := &http.Response{StatusCode: tt.status, Header: http.Header{}, Body: io.NopCloser(tt.body)}
			body, err := connectors.ReadAnswer(resp, "posting", now, 16, tt.want...)
			if tt.wantBody != "" {
				if err != nil || string(body) != tt.wantBody {
					t.Fatalf("ReadAnswer = %q, %v; want %q", body, err, tt.wantBody)
				}
				return
			}
			ce, ok := errors.AsType[*connectors.Error](err)
			if !ok || body != nil {
				t.Fatalf("ReadAnswer = %q, %v; want a *connectors.Error", body, err)
			}
			if ce.Class != tt.class || ce.Status != tt.errCode || !strings.HasSuffix(ce.Op, tt.opSuffix) {
				t.Errorf("error %+v: want class %s, status %d, op ending %q", ce, tt.class, tt.errCode, tt.opSuffix)
			}
		})
	}
}

func TestDecodeAnswer(t *testing.T) {
	t.Parallel()
	type answer struct {
		ID int `json:"id"`
	}
	tests := []struct {
		body    string
		class   connectors.Class // 0: decoded
		opWants string
	}{
		{body: `{"id":7}`},
		{body: `{"id":"7"}`, class: connectors.Permanent, opWants: `posting: contract: field "id" is a JSON string, want int`},
		{body: `<html>maintenance</html>`, class: connectors.Retryable, opWants: "posting: decoding the answer"},
		{body: `{"id":`, class: connectors.Retryable, opWants: "posting: decoding the answer"},
	}
	for _, tt := range tests {
		var a answer
		err := connectors.DecodeAnswer("posting", []byte(tt.body), &a)
		if tt.class == 0 {
			if err != nil || a.ID != 7 {
				t.Errorf("%s: %+v, %v", tt.body, a, err)
			}
			continue
		}
		ce, ok := errors.AsType[*connectors.Error](err)
		if !ok || ce.Class != tt.class || ce.Op != tt.opWants || ce.Err == nil {
			t.Errorf("%s: error %v, want %s %q wrapping the JSON error", tt.body, err, tt.class, tt.opWants)
		}
	}
}

// FuzzDecodeAnswer decodes any answer: nil, or a Permanent or Retryable
// *connectors.Error, never a panic.
func FuzzDecodeAnswer(f *testing.F) {
	f.Add([]byte(`{"id":"d-1","received_at":"2026-03-02T09:00:00Z"}`))
	f.Add([]byte(`{"id":12}`))
	f.Add([]byte(`<html>maintenance</html>`))
	f.Add([]byte(`{"id":"d-1"`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var a struct {
			ID         string    `json:"id"`
			ReceivedAt time.Time `json:"received_at"`
		}
		err := connectors.DecodeAnswer("posting", body, &a)
		if err == nil {
			return
		}
		if c := connectors.ClassOf(err); c != connectors.Permanent && c != connectors.Retryable {
			t.Fatalf("class %s for %q", c, body)
		}
		if _, ok := errors.AsType[*connectors.Error](err); !ok {
			t.Fatalf("%T is not a *connectors.Error", err)
		}
	})
}
