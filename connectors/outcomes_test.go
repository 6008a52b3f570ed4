package connectors_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relais-dev/relais/connectors"
)

func TestDescribeFailure(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want string
	}{
		{&connectors.BreakerOpenError{Destination: "safe"}, "retryable: breaker open"},
		{fmt.Errorf("delivering: %w", &connectors.BreakerOpenError{Destination: "safe"}), "retryable: breaker open"},
		{&connectors.Error{Class: connectors.Permanent, Op: "posting", Status: 422, Body: []byte(`{"email":"a@b.fr"}`)}, "permanent (HTTP 422)"},
		{&connectors.Error{Class: connectors.Permanent, Op: "posting", Status: 409, Code: "OUTDATED_VERSION"}, "permanent (HTTP 409, code OUTDATED_VERSION)"},
		{&connectors.Error{Class: connectors.Permanent, Op: "posting", Status: 409, Code: strings.Repeat("x", 65)}, "permanent (HTTP 409)"},
		{&connectors.Error{Class: connectors.Retryable, Op: "posting", Err: context.DeadlineExceeded}, "retryable"},
		{&connectors.Error{Class: connectors.Permanent, Op: "posting: answer_too_large"}, "permanent"},
		{errors.New("connection reset"), "retryable"},
	}
	for _, tt := range tests {
		if got := connectors.DescribeFailure(tt.err); got != tt.want {
			t.Errorf("DescribeFailure(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

func TestLastOutcomes(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	base := connectors.Status{Name: "safe", Breaker: "closed"}

	var o connectors.LastOutcomes
	if s := o.Fill(base); s != base {
		t.Fatalf("nothing recorded: %+v, want %+v", s, base)
	}
	o.Record(t0, nil)
	if s := o.Fill(base); s.LastSuccess == nil || s.LastFailure != nil || s.LastError != "" {
		t.Fatalf("after a success only: %+v, want a last success and no failure", s)
	}
	o.Record(t0.Add(time.Minute), &connectors.Error{Class: connectors.Permanent, Status: 409})
	o.Failed(t0.Add(2*time.Minute), "refused S002 (HTTP 403)")
	o.Succeeded(t0.Add(3 * time.Minute))
	s := o.Fill(base)
	if s.Name != "safe" || s.Breaker != "closed" {
		t.Errorf("Fill changed the stack's part: %+v", s)
	}
	if s.LastSuccess == nil || !s.LastSuccess.Equal(t0.Add(3*time.Minute)) {
		t.Errorf("last success %v, want the latest", s.LastSuccess)
	}
	if s.LastFailure == nil || !s.LastFailure.Equal(t0.Add(2*time.Minute)) || s.LastError != "refused S002 (HTTP 403)" {
		t.Errorf("last failure %v %q, want the latest with its description", s.LastFailure, s.LastError)
	}
	// The times in a Status are copies: changing one changes nothing kept.
	*s.LastSuccess = time.Time{}
	if again := o.Fill(base); !again.LastSuccess.Equal(t0.Add(3 * time.Minute)) {
		t.Errorf("a Status shares its time with the recorder")
	}
}

func TestLastOutcomesConcurrent(t *testing.T) {
	t.Parallel()
	var o connectors.LastOutcomes
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 100 {
				at := t0.Add(time.Duration(i*100+j) * time.Second)
				if j%2 == 0 {
					o.Record(at, nil)
				} else {
					o.Record(at, errors.New("reset"))
				}
				_ = o.Fill(connectors.Status{})
			}
		})
	}
	wg.Wait()
	if s := o.Fill(connectors.Status{}); s.LastSuccess == nil || s.LastFailure == nil || s.LastError != "retryable" {
		t.Errorf("after concurrent records: %+v", s)
	}
}
