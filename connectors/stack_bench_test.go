package connectors_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/relais-dev/relais/connectors"
)

// BenchmarkStack measures one GET through the full stack (logger disabled,
// retry, breaker, rate limiter, OAuth2 with a cached token, metrics,
// timeout) against a local server.
func BenchmarkStack(b *testing.B) {
	p := &tokenPlatform{expiresIn: 3600}
	srv := newServerB(b, p)
	cfg := oauthConfig(connectors.AuthOAuth2ClientCredentialsJSON, srv.URL+"/token")
	cfg.RateLimit = connectors.RateLimitConfig{RequestsPerSecond: 1e9, Burst: 1 << 20}
	s, err := connectors.NewStack("bench", cfg, connectors.Deps{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(s.CloseIdleConnections)
	do := func() error {
		resp, err := s.Do(context.Background(), "benchmarking", func(ctx context.Context) (*http.Request, error) {
			return http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/api", nil)
		})
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	}
	if err := do(); err != nil { // fetches tok-1
		b.Fatal(err)
	}
	// baseline is a bare client with a fixed token, to see the stack's own
	// cost.
	bare := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.Cleanup(bare.CloseIdleConnections)
	b.Run("baseline", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL+"/api", nil)
			req.Header.Set("Authorization", "Bearer tok-1")
			resp, err := bare.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := do(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := do(); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
