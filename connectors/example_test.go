package connectors_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/relais-dev/relais/connectors"
)

// Build the transport stack of a destination and call it through Stack.Do,
// which sends a request once more after a refreshable token was refused.
func ExampleNewStack() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, r.Header.Get("X-API-Key") != "")
	}))
	defer srv.Close()

	stack, err := connectors.NewStack("example", connectors.StackConfig{
		Auth: connectors.AuthConfig{Kind: connectors.AuthAPIKey, Token: connectors.Secret("k-123")},
	}, connectors.Deps{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stack.CloseIdleConnections()

	resp, err := stack.Do(context.Background(), "reading example", func(ctx context.Context) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	})
	if err != nil {
		fmt.Println(connectors.ClassOf(err), err)
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Println(connectors.Classify(resp, "reading example", time.Now()))
		return
	}
	body, _ := io.ReadAll(resp.Body)
	fmt.Println("key sent:", string(body), "- breaker:", stack.Status().Breaker)
	// Output: key sent: true - breaker: closed
}

// A connector records each delivery's outcome and reports it with its
// stack's state.
func ExampleLastOutcomes() {
	var last connectors.LastOutcomes
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	last.Record(t0, nil)
	last.Record(t0.Add(time.Minute), &connectors.Error{Class: connectors.Permanent, Op: "posting", Status: 422})

	s := last.Fill(connectors.Status{Name: "safe", Breaker: "closed"})
	fmt.Println(s.Breaker, s.LastSuccess.Format(time.TimeOnly), s.LastFailure.Format(time.TimeOnly), s.LastError)
	// Output: closed 09:00:00 09:01:00 permanent (HTTP 422)
}
