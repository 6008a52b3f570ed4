package api_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/relais-dev/relais/gateway/store/storetest"
)

// TestTenantIsolation: on every store, a tenant can neither read nor replay
// another tenant's submissions and deliveries, and cannot tell them from ids
// that do not exist.
func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	for _, driver := range storetest.Drivers {
		t.Run(storetest.Name(driver), func(t *testing.T) {
			t.Parallel()
			bnd := setupWith(t, options{driver: driver})
			a, b := bnd.a, bnd.b
			body := validBody(t)
			sub := bnd.createSubmission(t, a, "dossier-451", body)
			dlv := sub.Deliveries[0].ID
			bnd.coffre.queue(rejected())
			bnd.work(t, a, dlv) // failed: A could replay it
			const noSub, noDlv = "sub_aaaaaaaaaaaaaaaa", "dlv_aaaaaaaaaaaaaaaa"

			for _, tc := range []struct {
				name            string
				theirs, missing call
			}{
				{"read submission", get(b, sub.Href), get(b, "/v1/submissions/"+noSub)},
				{"read delivery", get(b, "/v1/deliveries/"+dlv), get(b, "/v1/deliveries/"+noDlv)},
				{"replay delivery", replay(b, dlv), replay(b, noDlv)},
			} {
				theirs, none := bnd.do(t, tc.theirs), bnd.do(t, tc.missing)
				pt := wantProblem(t, theirs, http.StatusNotFound, "not_found")
				pn := wantProblem(t, none, http.StatusNotFound, "not_found")
				pt.RequestID, pn.RequestID = "", ""
				pt.Instance = strings.NewReplacer(sub.ID, "ID", dlv, "ID").Replace(pt.Instance)
				pn.Instance = strings.NewReplacer(noSub, "ID", noDlv, "ID").Replace(pn.Instance)
				if !equalProblems(pt, pn) {
					t.Errorf("%s: another tenant's id answers %+v, a missing id %+v", tc.name, pt, pn)
				}
				if ht, hn := headerNames(theirs.header), headerNames(none.header); !slices.Equal(ht, hn) || len(theirs.body) != len(none.body) {
					t.Errorf("%s: headers %v and %v, body lengths %d and %d", tc.name, ht, hn, len(theirs.body), len(none.body))
				}
			}

			// A's delivery is untouched by B's attempt to replay it.
			if d := bnd.getDelivery(t, a, dlv); d.Status != "failed" || d.Attempts != 1 {
				t.Fatalf("A's delivery after B's replay: %+v", d)
			}
			// Idempotency keys are per tenant: B's request with A's key and
			// A's body is B's own new submission, not A's.
			r := bnd.do(t, submit(b, "dossier-451", body))
			wantStatus(t, r, http.StatusAccepted)
			if mine := decode[accepted](t, r); mine.ID == sub.ID || r.header.Get("Idempotent-Replayed") != "" {
				t.Fatalf("B got A's submission back: %s %v", r.body, r.header)
			}
			// A still reads and replays its own.
			wantStatus(t, bnd.do(t, get(a, sub.Href)), http.StatusOK)
			wantStatus(t, bnd.do(t, replay(a, dlv)), http.StatusAccepted)
		})
	}
}

func equalProblems(a, b problem) bool {
	return a.Type == b.Type && a.Title == b.Title && a.Status == b.Status && a.Code == b.Code && a.Detail == b.Detail &&
		a.Instance == b.Instance && a.Field == b.Field && a.Offset == nil && b.Offset == nil && len(a.Errors) == 0 && len(b.Errors) == 0
}

func headerNames(h http.Header) []string {
	var names []string
	for k := range h {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// TestRevokedKey: a revoked key stops working once the authentication
// cache expires, with no sleep: the server's clock is the test's.
func TestRevokedKey(t *testing.T) {
	t.Parallel()
	bnd := setup(t)
	c := get(bnd.a, "/v1/connectors")
	wantStatus(t, bnd.do(t, c), http.StatusOK)
	if err := bnd.store.RevokeAPIKey(context.Background(), bnd.a.id, bnd.a.keyID); err != nil {
		t.Fatalf("RevokeAPIKey: %v", err)
	}
	wantStatus(t, bnd.do(t, c), http.StatusOK) // still cached
	bnd.clock.Advance(5 * time.Second)         // the default AuthCacheTTL
	p := wantProblem(t, bnd.do(t, c), http.StatusUnauthorized, "invalid_api_key")
	if p.Instance != "/v1/connectors" {
		t.Fatalf("instance %q", p.Instance)
	}
	wantStatus(t, bnd.do(t, get(bnd.b, "/v1/connectors")), http.StatusOK) // B is unaffected
}
