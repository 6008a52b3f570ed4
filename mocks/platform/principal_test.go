package platform_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/relais-dev/relais/mocks/platform"
)

// citizen is what the test platform's AuthenticateFunc resolves a token to.
type citizen struct {
	Sub, Nom string
}

func TestAuthenticateFuncHandsThePrincipalToTheHandler(t *testing.T) {
	t.Parallel()
	seen := make(chan any, 4)
	f := setup(t, func(c *platform.Config) {
		c.Authenticate = nil
		c.AuthenticateFunc = func(r *http.Request, opID string) (string, any, *platform.Problem) {
			tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || tok == "forged" {
				return "", nil, &platform.Problem{Kind: platform.KindUnauthorized, Detail: "A valid bearer token is required."}
			}
			return tok, citizen{Sub: "fc-" + tok, Nom: "Dupont"}, nil
		}
		c.Operations["getLetter"] = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			seen <- platform.Principal(r)
			platform.WriteJSON(w, http.StatusOK, letter{ID: r.PathValue("id"), Status: "sent", Pages: 1})
		})
		c.Operations["listPeople"] = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			seen <- platform.Principal(r)
			platform.WriteJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"items": []any{}, "total": 0}})
		})
		c.RateLimit = platform.RateLimit{Limit: 1}
	})
	expect(t, f.do(t, call{method: http.MethodGet, path: "/base/letters/L-000001", token: "abc"}), http.StatusOK)
	if got := <-seen; got != (citizen{Sub: "fc-abc", Nom: "Dupont"}) {
		t.Errorf("Principal = %#v", got)
	}
	// The key is still the rate-limit key.
	expect(t, f.do(t, call{method: http.MethodGet, path: "/base/letters/L-000001", token: "abc"}), http.StatusTooManyRequests)
	expect(t, f.do(t, call{method: http.MethodGet, path: "/base/letters/L-000001", token: "xyz"}), http.StatusOK)
	if got := <-seen; got != (citizen{Sub: "fc-xyz", Nom: "Dupont"}) {
		t.Errorf("Principal = %#v", got)
	}
	// Refusals, and operations without security requirement.
	expect(t, f.do(t, call{method: http.MethodGet, path: "/base/letters/L-000001", token: "forged"}), http.StatusUnauthorized)
	expect(t, f.do(t, call{method: http.MethodGet, path: peoplePath, token: "abc"}), http.StatusOK)
	if got := <-seen; got != nil {
		t.Errorf("open operation: Principal = %#v, want nil", got)
	}
	if r := httptestRequest(); platform.Principal(r) != nil || platform.OperationID(r) != "" {
		t.Errorf("a request that did not come through a Server has a principal or an operation")
	}
}

func TestAuthenticateStillWorksWithoutPrincipal(t *testing.T) {
	t.Parallel()
	seen := make(chan string, 1)
	f := setup(t, func(c *platform.Config) {
		c.Operations["getLetter"] = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			seen <- platform.OperationID(r)
			if p := platform.Principal(r); p != nil {
				t.Errorf("Principal = %#v with Config.Authenticate", p)
			}
			platform.WriteJSON(w, http.StatusOK, letter{ID: r.PathValue("id"), Status: "sent", Pages: 1})
		})
	})
	expect(t, f.do(t, call{method: http.MethodGet, path: "/base/letters/L-000001", token: "good"}), http.StatusOK)
	if id := <-seen; id != "getLetter" {
		t.Errorf("OperationID = %q", id)
	}
}

func TestReplaysSayTheyAreReplays(t *testing.T) {
	t.Parallel()
	f := setup(t)
	first := f.do(t, newLetter("good", "key-00000001", letterBody))
	expect(t, first, http.StatusCreated)
	if v, ok := first.header[platform.ReplayedHeader]; ok {
		t.Errorf("first answer has %s: %v", platform.ReplayedHeader, v)
	}
	again := f.do(t, newLetter("good", "key-00000001", letterBody))
	expect(t, again, http.StatusCreated)
	if got := again.header.Get("Idempotent-Replayed"); got != "true" {
		t.Errorf("replay: Idempotent-Replayed %q, want true", got)
	}
	if !bytes.Equal(first.body, again.body) {
		t.Errorf("replay body %s, want %s", again.body, first.body)
	}
	// Another key is processed, not replayed.
	other := f.do(t, newLetter("good", "key-00000002", letterBody))
	if _, ok := other.header[platform.ReplayedHeader]; ok || other.status != http.StatusCreated {
		t.Errorf("new key: status %d, headers %v", other.status, other.header)
	}
}

func TestStatsCountAnswersByStatus(t *testing.T) {
	t.Parallel()
	f := setup(t)
	expect(t, f.do(t, call{method: http.MethodGet, path: "/base/letters/L-000001", token: "good"}), http.StatusNotFound) // business refusal
	expect(t, f.do(t, call{method: http.MethodGet, path: "/base/letters/L-000002", token: "good"}), http.StatusNotFound)
	expect(t, f.do(t, newLetter("good", "key-00000001", letterBody)), http.StatusCreated)
	expect(t, f.do(t, newLetter("good", "key-00000001", letterBody)), http.StatusCreated) // replay
	expect(t, f.do(t, newLetter("", "", letterBody)), http.StatusUnauthorized)
	expect(t, f.do(t, call{method: http.MethodGet, path: "/base/people"}), http.StatusBadRequest)
	expect(t, f.do(t, call{method: http.MethodGet, path: "/nowhere"}), http.StatusNotFound)
	f.setFaults(t, platform.Faults{Rules: []platform.Rule{{Operations: []string{"health"}, Status: 503}}})
	expect(t, f.do(t, call{method: http.MethodGet, path: "/base/health"}), http.StatusServiceUnavailable)

	want := map[string]int64{"201": 2, "400": 1, "401": 1, "404": 3, "503": 1}
	got := f.srv.Stats().ByStatus
	if len(got) != len(want) {
		t.Errorf("ByStatus %v, want %v", got, want)
	}
	for code, n := range want {
		if got[code] != n {
			t.Errorf("ByStatus[%s] = %d, want %d (all: %v)", code, got[code], n, got)
		}
	}
	f.srv.Reset()
	if got := f.srv.Stats().ByStatus; len(got) != 0 {
		t.Errorf("ByStatus after Reset: %v", got)
	}
}

func httptestRequest() *http.Request {
	r, _ := http.NewRequest(http.MethodGet, "http://mock/", nil)
	return r
}

func TestBearerToken(t *testing.T) {
	t.Parallel()
	for header, want := range map[string]string{
		"Bearer abc":   "abc",
		"bearer abc":   "abc",
		"BEARER  abc ": "abc",
		"Basic abc":    "",
		"Bearer":       "",
		"abc":          "",
		"":             "",
	} {
		r, _ := http.NewRequest(http.MethodGet, "http://mock/", nil)
		if header != "" {
			r.Header.Set("Authorization", header)
		}
		if got := platform.BearerToken(r); got != want {
			t.Errorf("BearerToken(%q) = %q, want %q", header, got, want)
		}
	}
}
