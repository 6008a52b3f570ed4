package apiparticulier_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/relais-dev/relais/connectors"
	"github.com/relais-dev/relais/connectors/apiparticulier"
	mockapi "github.com/relais-dev/relais/mocks/apiparticulier"
)

// BenchmarkPull pulls through the full stack from the mock platform, the
// mapping of the identity and of the answer included: one operation (the
// quotient familial, the largest answer, and the RSA status, the smallest),
// and every operation at once. The rate limit books from a Reserver that
// grants every slot at once, and the mock's own limits are off: the
// benchmark measures the connector, not the platform's 20 requests per
// second.
func BenchmarkPull(b *testing.B) {
	p := withFranceTravail(dupontSophie(), "123456A")
	for _, bc := range []struct {
		name string
		ops  []string
	}{
		{"quotient_familial", []string{apiparticulier.OpQuotientFamilial}},
		{"revenu_solidarite_active", []string{apiparticulier.OpRevenuSolidariteActive}},
		{"france_travail_statut", []string{apiparticulier.OpFranceTravailStatut}},
		{"all_operations", nil},
	} {
		b.Run(bc.name, func(b *testing.B) {
			bb := setup(b, mockapi.Options{RateLimit: -1, IPRateLimit: -1}, nil)
			c := bb.newClient(b, nil, connectors.Deps{Reserver: instantReserver{}})
			q := query(p, bc.ops...)
			ctx := context.Background()
			pull := func() {
				items, err := c.Pull(ctx, q)
				if err != nil {
					b.Fatal(err)
				}
				for _, it := range items {
					if it.Err != nil {
						b.Fatalf("%s: %v", it.Operation, it.Err)
					}
				}
			}
			pull() // warm the connection pool
			b.ReportAllocs()
			for b.Loop() {
				pull()
			}
		})
	}
}

// BenchmarkPullCanned is one quotient familial pull against a server that
// answers a canned body: the connector's own cost (identity mapping,
// transport stack, answer mapping and both schema validations), without
// the mock's contract checks.
func BenchmarkPullCanned(b *testing.B) {
	body, err := os.ReadFile("../../mapping/specs/apiparticulier/testdata/quotient_familial.inbound/cnaf_couple_two_children.input.json")
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Response-Cached", "false")
		_, _ = w.Write(body)
	}))
	b.Cleanup(srv.Close)
	c, err := apiparticulier.New("apiparticulier", apiparticulier.Config{BaseURL: srv.URL, Token: "jwt"},
		connectors.Deps{Reserver: instantReserver{}}, apiparticulier.WithCatalog(catalog(b)))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(c.CloseIdleConnections)
	q := query(dupontSophie(), apiparticulier.OpQuotientFamilial)
	ctx := context.Background()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		items, err := c.Pull(ctx, q)
		if err != nil || items[0].Err != nil {
			b.Fatal(err, items[0].Err)
		}
	}
}
