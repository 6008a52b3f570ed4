package connectors_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/relais-dev/relais/connectors"
)

func TestLogsNeverCarryCredentialsOrQueries(t *testing.T) {
	t.Parallel()
	const (
		clientSecret = "the-client-secret"
		queryValue   = "DISTANT-4242-query-value"
	)
	b := setup(t)
	p := &tokenPlatform{expiresIn: 3600}
	srv := newServer(t, p)
	cfg := oauthConfig(connectors.AuthOAuth2ClientCredentialsJSON, srv.URL+"/token")
	cfg.Retry = connectors.RetryConfig{Max: 1, WaitMin: 1, WaitMax: 1}
	s := newStack(t, "safe", cfg, b.deps)

	if status, _, err := get(t, s, srv.URL+"/api?distantId="+queryValue); err != nil || status != http.StatusOK {
		t.Fatalf("call = %d %v", status, err)
	}
	// A transport error: its text quotes the URL, query included.
	dead := newServer(t, http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	_, _, err := get(t, s, deadURL+"/api?distantId="+queryValue)
	if err == nil {
		t.Fatal("a call to a closed server succeeded")
	}
	if strings.Contains(err.Error(), queryValue) {
		t.Errorf("classified error quotes the query string: %v", err)
	}

	logs := b.logs.String()
	for _, secret := range []string{clientSecret, "tok-1", "Bearer", "Authorization", queryValue, "distantId"} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain %q:\n%s", secret, logs)
		}
	}
	var calls []map[string]any
	for line := range strings.Lines(logs) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec["msg"] == "platform call" {
			calls = append(calls, rec)
		}
	}
	if len(calls) != 2 {
		t.Fatalf("logged %d calls, want 2:\n%s", len(calls), logs)
	}
	ok, failed := calls[0], calls[1]
	if ok["level"] != "DEBUG" || ok["method"] != "GET" || ok["path"] != "/api" || ok["status"] != 200.0 ||
		ok["attempts"] != 1.0 || ok["destination"] != "safe" || !strings.HasPrefix(srv.URL, "http://"+ok["host"].(string)) {
		t.Errorf("call log = %v", ok)
	}
	if failed["error"] != "transport" || failed["attempts"] != 2.0 {
		t.Errorf("failed call log = %v, want error kind transport after 2 tries", failed)
	}
}
