package francetravail_test

import (
	"context"
	"testing"

	"github.com/relais-dev/relais/connectors/francetravail"
	mockft "github.com/relais-dev/relais/mocks/francetravail"
)

// BenchmarkPull pulls Martine Courtet's registration and payments from the
// mock through the full stack: one search and two reads, mapped by the
// specs, with the token cached. The mock answers at once: this measures
// Relais's own cost per pull, HTTP on loopback included.
func BenchmarkPull(b *testing.B) {
	for _, ops := range [][]string{{francetravail.OpStatut}, nil} {
		name := "statut"
		if ops == nil {
			name = "both"
		}
		b.Run(name, func(b *testing.B) {
			bb := setup(b, mockft.Options{}, nil)
			ctx := context.Background()
			pull := func() {
				items, err := bb.source.Pull(ctx, query(courtet(), ops...))
				if err != nil {
					b.Fatal(err)
				}
				for _, it := range items {
					if it.Err != nil {
						b.Fatal(it.Err)
					}
				}
			}
			pull() // the token
			b.ReportAllocs()
			for b.Loop() {
				pull()
			}
		})
	}
}
