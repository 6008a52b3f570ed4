package connectors_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/relais-dev/relais/connectors"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		status     int
		retryAfter string
		body       string
		class      connectors.Class
		wantAfter  time.Duration
	}{
		{400, "", `{"title":"Bad Request","violations":[{"propertyPath":"birth_date"}]}`, connectors.Permanent, 0},
		{401, "", `{"code":401,"message":"Expired JWT Token"}`, connectors.Permanent, 0},
		{404, "", `{"title":"Not Found"}`, connectors.NotFound, 0},
		{409, "", `{"existing_id":12}`, connectors.Permanent, 0},
		{429, "7", "", connectors.Retryable, 7 * time.Second},
		{503, "Mon, 02 Mar 2026 09:02:00 GMT", "down", connectors.Retryable, 2 * time.Minute},
		{503, "soon", "down", connectors.Retryable, 0},
		// Beyond what a Duration holds: the longest one, not a wrapped one.
		{503, "9999999999", "down", connectors.Retryable, math.MaxInt64 / time.Second * time.Second},
		{504, "", "", connectors.Retryable, 0},
	}
	for _, tt := range tests {
		resp := &http.Response{
			StatusCode: tt.status,
			Header:     http.Header{"Content-Type": {"application/problem+json"}},
			Body:       io.NopCloser(strings.NewReader(tt.body)),
		}
		if tt.retryAfter != "" {
			resp.Header.Set("Retry-After", tt.retryAfter)
		}
		e := connectors.Classify(resp, "uploading document", now)
		if e.Class != tt.class || e.Status != tt.status || e.RetryAfter != tt.wantAfter ||
			string(e.Body) != tt.body || e.ContentType != "application/problem+json" || e.Op != "uploading document" {
			t.Errorf("Classify(%d, %q) = %+v", tt.status, tt.retryAfter, e)
		}
	}
}

func TestClassifyBoundsBody(t *testing.T) {
	t.Parallel()
	resp := &http.Response{StatusCode: 500, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(strings.Repeat("x", 3*connectors.MaxErrorBody)))}
	if e := connectors.Classify(resp, "op", time.Now()); len(e.Body) != connectors.MaxErrorBody {
		t.Errorf("kept %d bytes, want %d", len(e.Body), connectors.MaxErrorBody)
	}
}

func TestClassifyTransportError(t *testing.T) {
	t.Parallel()
	boe := &connectors.BreakerOpenError{Destination: "safe", RetryIn: time.Second}
	if got := connectors.ClassifyTransportError("op", fmt.Errorf("sending: %w", boe)); !errors.Is(got, boe) {
		t.Errorf("breaker error became %v", got)
	}
	if got := connectors.ClassifyTransportError("op", boe); got != error(boe) {
		t.Errorf("breaker error not passed unchanged: %v", got)
	}
	if connectors.ClassifyTransportError("op", nil) != nil {
		t.Error("nil error classified")
	}
	ue := &url.Error{Op: "Get", URL: "https://safe.example/api/v3/beneficiaries?distantId=D-1", Err: context.DeadlineExceeded}
	err := connectors.ClassifyTransportError("finding beneficiary", ue)
	var ce *connectors.Error
	if !errors.As(err, &ce) || ce.Class != connectors.Retryable || ce.Op != "finding beneficiary" || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("classified = %#v", err)
	}
	if strings.Contains(err.Error(), "D-1") || !strings.Contains(err.Error(), "https://safe.example/api/v3/beneficiaries") {
		t.Errorf("error text = %q, want the URL without its query", err)
	}
	if ue.URL != "https://safe.example/api/v3/beneficiaries?distantId=D-1" {
		t.Error("the caller's *url.Error was modified")
	}
}

// An open breaker's or an already classified error keeps its type, but never
// the query string of the request that met it: it may hold a person's
// identity.
func TestClassifyTransportErrorRedactsPassThrough(t *testing.T) {
	t.Parallel()
	const raw = "https://particulier.api.gouv.fr/v3/dss/quotient_familial/identite?nomNaissance=DUPONT&prenoms[]=Jean"
	for _, inner := range []error{
		&connectors.BreakerOpenError{Destination: "apiparticulier"},
		&connectors.Error{Class: connectors.Permanent, Op: "reading"},
	} {
		err := connectors.ClassifyTransportError("pulling", &url.Error{Op: "Get", URL: raw, Err: inner})
		if strings.Contains(err.Error(), "DUPONT") || !errors.Is(err, inner) {
			t.Errorf("ClassifyTransportError(%T) = %q, want the type kept and the query dropped", inner, err)
		}
	}
}
