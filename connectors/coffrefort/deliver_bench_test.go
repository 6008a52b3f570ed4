package coffrefort_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/relais-dev/relais/mapping"
)

// BenchmarkDeliver deposits a 64 KiB document for a cached beneficiary
// through the full stack into the mock safe: one upload when private, plus
// the toggle when shared.
func BenchmarkDeliver(b *testing.B) {
	content := pdf(64 << 10)
	for _, vis := range []mapping.Visibility{mapping.VisibilityPrivate, mapping.VisibilityShared} {
		b.Run(string(vis), func(b *testing.B) {
			bb := setup(b, nil, nil)
			ctx := context.Background()
			if _, err := bb.client.Deliver(ctx, delivery("warm-up", "ESMS-BENCH", content, vis)); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(content)))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				if _, err := bb.client.Deliver(ctx, delivery("key-"+strconv.Itoa(i), "ESMS-BENCH", content, vis)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
