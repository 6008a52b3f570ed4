package delivery_test

import (
	"context"
	"io"
	"testing"

	"github.com/relais-dev/relais/connectors"
)

// BenchmarkWork is one successful attempt: load, decode the payload, call
// the connector (which streams the content), record.
func BenchmarkWork(b *testing.B) {
	bnd := setup(b)
	bnd.store.discard = true
	receipt := connectors.Receipt{RemoteID: "doc-991", At: now}
	bnd.conn.deliver = func(ctx context.Context, d *connectors.Delivery) (connectors.Receipt, error) {
		r, err := d.Document.Open(ctx)
		if err != nil {
			return connectors.Receipt{}, err
		}
		defer r.Close()
		if _, err := io.Copy(io.Discard, r); err != nil {
			return connectors.Receipt{}, err
		}
		return receipt, nil
	}
	ctx := b.Context()
	job := newJob()
	b.ReportAllocs()
	for b.Loop() {
		if err := bnd.worker.Work(ctx, job); err != nil {
			b.Fatal(err)
		}
		bnd.conn.mu.Lock()
		bnd.conn.calls = bnd.conn.calls[:0]
		bnd.conn.mu.Unlock()
	}
}
