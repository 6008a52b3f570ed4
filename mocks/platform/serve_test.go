package platform_test

import (
	"net/http/httptest"
	"strings"

	"github.com/relais-dev/relais/mocks/platform"
)

// serve runs one request through srv in memory.
func serve(srv *platform.Server, method, url, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, url, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	return rec
}
