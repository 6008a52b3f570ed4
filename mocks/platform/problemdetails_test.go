package platform_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/relais-dev/relais/mocks/platform"
)

var testProblems = platform.ProblemWriter{
	Codes: map[string]platform.ProblemCode{
		"LETTER_NOT_FOUND": {Title: "Not found", Slug: "not-found"},
		"NOT_FOUND":        {Title: "Nothing here", Slug: "nothing-here"}, // replaces the runtime's
	},
	Unauthorized: "La clé d'API est absente ou inconnue.",
}

func TestProblemWriterWriteRefusal(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		p       platform.Problem
		want    platform.ProblemDetails
		authHdr string
	}{
		{"body field", platform.Problem{Kind: platform.KindInvalidRequest, Status: 400, Parameter: "/period/end"},
			platform.ProblemDetails{Type: platform.ProblemTypeBase + "invalid-request", Title: "Invalid request", Status: 400, Code: "INVALID_REQUEST",
				Detail: "La requête est invalide (/period/end).", Errors: []platform.ProblemField{{Pointer: "/period/end", Detail: "Valeur absente ou non conforme."}}}, ""},
		{"query parameter", platform.Problem{Kind: platform.KindInvalidRequest, Status: 400, Parameter: "year"},
			platform.ProblemDetails{Type: platform.ProblemTypeBase + "invalid-request", Title: "Invalid request", Status: 400, Code: "INVALID_REQUEST",
				Detail: "La requête est invalide (year)."}, ""},
		{"oversized body", platform.Problem{Kind: platform.KindInvalidRequest, Status: 413},
			platform.ProblemDetails{Type: platform.ProblemTypeBase + "payload-too-large", Title: "Payload too large", Status: 413, Code: "PAYLOAD_TOO_LARGE",
				Detail: "Le corps de la requête est trop volumineux."}, ""},
		{"media type", platform.Problem{Kind: platform.KindInvalidRequest, Status: 415},
			platform.ProblemDetails{Type: platform.ProblemTypeBase + "unsupported-media-type", Title: "Unsupported media type", Status: 415,
				Code: "UNSUPPORTED_MEDIA_TYPE", Detail: "Le type de contenu de la requête n'est pas pris en charge."}, ""},
		{"unauthorized", platform.Problem{Kind: platform.KindUnauthorized, Status: 401},
			platform.ProblemDetails{Type: platform.ProblemTypeBase + "unauthorized", Title: "Unauthorized", Status: 401, Code: "UNAUTHORIZED",
				Detail: "La clé d'API est absente ou inconnue."}, "Bearer"},
		{"forbidden", platform.Problem{Kind: platform.KindForbidden, Status: 403},
			platform.ProblemDetails{Type: platform.ProblemTypeBase + "forbidden", Title: "Forbidden", Status: 403, Code: "INSUFFICIENT_SCOPE",
				Detail: "Le jeton d'accès ne permet pas cette opération."}, ""},
		{"no path, the platform's title", platform.Problem{Kind: platform.KindNotFound, Status: 404},
			platform.ProblemDetails{Type: platform.ProblemTypeBase + "nothing-here", Title: "Nothing here", Status: 404, Code: "NOT_FOUND",
				Detail: "Ressource inconnue."}, ""},
		{"method", platform.Problem{Kind: platform.KindMethod, Status: 405},
			platform.ProblemDetails{Type: platform.ProblemTypeBase + "method-not-allowed", Title: "Method not allowed", Status: 405,
				Code: "METHOD_NOT_ALLOWED", Detail: "Méthode non autorisée sur cette ressource."}, ""},
		{"idempotency conflict", platform.Problem{Kind: platform.KindConflict, Status: 409},
			platform.ProblemDetails{Type: platform.ProblemTypeBase + "idempotency-conflict", Title: "Conflict", Status: 409,
				Code: "IDEMPOTENCY_CONFLICT", Detail: "Cette clé d'idempotence a déjà servi pour une autre requête."}, ""},
		{"rate limited", platform.Problem{Kind: platform.KindRateLimited, Status: 429},
			platform.ProblemDetails{Type: platform.ProblemTypeBase + "rate-limited", Title: "Too many requests", Status: 429,
				Code: "RATE_LIMITED", Detail: "Trop de requêtes ; réessayez plus tard."}, ""},
		{"outage", platform.Problem{Kind: platform.KindOutage, Status: 503},
			platform.ProblemDetails{Type: platform.ProblemTypeBase + "service-unavailable", Title: "Service unavailable", Status: 503,
				Code: "SERVICE_UNAVAILABLE", Detail: "Le service est momentanément indisponible."}, ""},
		{"injected 502", platform.Problem{Kind: platform.KindInjected, Status: 502},
			platform.ProblemDetails{Type: platform.ProblemTypeBase + "bad-gateway", Title: "Bad gateway", Status: 502,
				Code: "BAD_GATEWAY", Detail: "Le service a reçu une réponse invalide."}, ""},
		{"injected 504", platform.Problem{Kind: platform.KindInjected, Status: 504},
			platform.ProblemDetails{Type: platform.ProblemTypeBase + "gateway-timeout", Title: "Gateway timeout", Status: 504,
				Code: "GATEWAY_TIMEOUT", Detail: "Le service n'a pas répondu à temps."}, ""},
		{"injected 418", platform.Problem{Kind: platform.KindInjected, Status: 418},
			platform.ProblemDetails{Type: platform.ProblemTypeBase + "internal-error", Title: "Internal error", Status: 418,
				Code: "INTERNAL_ERROR", Detail: "Une erreur technique est survenue."}, ""},
		{"no status", platform.Problem{Kind: platform.KindInjected},
			platform.ProblemDetails{Type: platform.ProblemTypeBase + "internal-error", Title: "Internal error", Status: 500,
				Code: "INTERNAL_ERROR", Detail: "Une erreur technique est survenue."}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			testProblems.WriteRefusal(rec, httptest.NewRequest(http.MethodGet, "http://mock/", nil), tc.p)
			if got := problemDetailsOf(t, rec); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("problem:\n got %+v\nwant %+v", got, tc.want)
			}
			if rec.Code != tc.want.Status {
				t.Errorf("status %d, want %d", rec.Code, tc.want.Status)
			}
			if got := rec.Header().Get("WWW-Authenticate"); got != tc.authHdr {
				t.Errorf("WWW-Authenticate %q, want %q", got, tc.authHdr)
			}
		})
	}
}

func TestProblemWriterWrite(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		code string
		want platform.ProblemDetails
	}{
		{"LETTER_NOT_FOUND", platform.ProblemDetails{Type: platform.ProblemTypeBase + "not-found", Title: "Not found", Status: 404, Code: "LETTER_NOT_FOUND", Detail: "d"}},
		{"RATE_LIMITED", platform.ProblemDetails{Type: platform.ProblemTypeBase + "rate-limited", Title: "Too many requests", Status: 404, Code: "RATE_LIMITED", Detail: "d"}},
		{"NO_SUCH_CODE", platform.ProblemDetails{Type: platform.ProblemTypeBase, Status: 404, Code: "NO_SUCH_CODE", Detail: "d"}},
	} {
		rec := httptest.NewRecorder()
		testProblems.Write(rec, http.StatusNotFound, tc.code, "d")
		if got := problemDetailsOf(t, rec); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.code, got, tc.want)
		}
	}
}

func problemDetailsOf(t *testing.T, rec *httptest.ResponseRecorder) platform.ProblemDetails {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type %q", ct)
	}
	var p platform.ProblemDetails
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatalf("decoding %s: %v", rec.Body, err)
	}
	return p
}

func TestStaticToken(t *testing.T) {
	t.Parallel()
	auth := platform.StaticToken("k-123", "The API key is missing or unknown.")
	for header, ok := range map[string]bool{
		"Bearer k-123":  true,
		"bearer k-123":  false, // exactly as the platform documents it
		"Bearer k-1234": false,
		"Bearer ":       false,
		"k-123":         false,
		"":              false,
	} {
		r := httptest.NewRequest(http.MethodGet, "http://mock/", nil)
		if header != "" {
			r.Header.Set("Authorization", header)
		}
		key, p := auth(r, "reports.list")
		switch {
		case ok && (key != "k-123" || p != nil):
			t.Errorf("%q: key %q, problem %+v; want the token as key", header, key, p)
		case !ok && (key != "" || p == nil || p.Kind != platform.KindUnauthorized || p.Status != http.StatusUnauthorized ||
			p.OperationID != "reports.list" || p.Detail != "The API key is missing or unknown."):
			t.Errorf("%q: key %q, problem %+v; want a 401", header, key, p)
		}
	}
}

// A platform whose API Relais designed answers problem details with a
// stable code, its own and the runtime's refusals alike.
func ExampleProblemWriter() {
	problems := platform.ProblemWriter{
		Codes:        map[string]platform.ProblemCode{"LETTER_NOT_FOUND": {Title: "Not found", Slug: "not-found"}},
		Unauthorized: "La clé d'API est absente ou inconnue.",
	}
	l := &letters{byID: map[string]letter{}}
	ops := l.handlers()
	ops["getLetter"] = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		problems.Write(w, http.StatusNotFound, "LETTER_NOT_FOUND", "Aucun courrier n'a ce numéro.")
	})
	srv := platform.New(platform.Config{
		Name: "example", Contract: testContract, Operations: ops,
		Errors:       problems.WriteRefusal,
		Authenticate: platform.StaticToken("k-123", "The API key is missing or unknown."),
	})
	for _, auth := range []string{"", "Bearer k-123"} {
		req := httptest.NewRequest(http.MethodGet, "http://mock/base/letters/L-000007", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		fmt.Println(rec.Code, rec.Body.String())
	}
	// Output:
	// 401 {"type":"https://relais.invalid/problems/unauthorized","title":"Unauthorized","status":401,"code":"UNAUTHORIZED","detail":"La clé d'API est absente ou inconnue."}
	// 404 {"type":"https://relais.invalid/problems/not-found","title":"Not found","status":404,"code":"LETTER_NOT_FOUND","detail":"Aucun courrier n'a ce numéro."}
}
