package coffrefort

import (
	"bytes"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
)

// benchUpload uploads a 16 KiB PDF per iteration, each with its own
// Idempotency-Key, through a real HTTP round trip.
func benchUpload(b *testing.B, parallel bool) {
	f := setup(b, Options{})
	f.ts.Client().Transport.(*http.Transport).MaxIdleConnsPerHost = 64
	tok := f.token(b, "")
	bid := f.createBeneficiary(b, tok, "dui-bench")
	req := uploadRequest(b, tok, "", bid, bytes.Repeat([]byte("%PDF-1.7 bench "), 16<<10/15))
	var seq atomic.Int64
	upload := func() {
		r, err := http.NewRequest(http.MethodPost, f.ts.URL+req.path, bytes.NewReader(req.body))
		if err != nil {
			b.Fatal(err)
		}
		r.Header.Set("Authorization", "Bearer "+tok)
		r.Header.Set("Content-Type", req.contentType)
		r.Header.Set("Idempotency-Key", "bench-"+strconv.FormatInt(seq.Add(1), 10))
		rsp, err := f.ts.Client().Do(r)
		if err != nil {
			b.Fatal(err)
		}
		var sink [512]byte
		for {
			if _, err := rsp.Body.Read(sink[:]); err != nil {
				break
			}
		}
		rsp.Body.Close()
		if rsp.StatusCode != http.StatusCreated {
			b.Fatalf("status %d", rsp.StatusCode)
		}
	}
	b.SetBytes(int64(len(req.body)))
	b.ReportAllocs()
	b.ResetTimer()
	if parallel {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				upload()
			}
		})
	} else {
		for b.Loop() {
			upload()
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "uploads/s")
	if got := f.srv.Stats().Documents; got != seq.Load() {
		b.Fatalf("%d documents for %d uploads", got, seq.Load())
	}
}

func BenchmarkDocumentUpload(b *testing.B)         { benchUpload(b, false) }
func BenchmarkDocumentUploadParallel(b *testing.B) { benchUpload(b, true) }
