package store

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
)

// txBackend runs inTx without a database: what fn returns is the
// transaction's outcome.
type txBackend struct{ backend }

func (txBackend) inTx(_ context.Context, fn func(tx txn) error) error { return fn(nil) }

// TestGroupCommitErrors commits batches directly: each item gets its own
// result, and a batch whose transaction fails is retried item by item so
// that only the bad item fails.
func TestGroupCommitErrors(t *testing.T) {
	t.Parallel()
	errStale, errPoison := errors.New("stale"), errors.New("poison")
	var committed []string
	g := &groupCommit[string]{b: txBackend{}, write: func(_ context.Context, _ txn, items []string) ([]error, error) {
		results := make([]error, len(items))
		for i, v := range items {
			switch v {
			case "poison":
				return nil, errPoison
			case "stale":
				results[i] = errStale
			}
		}
		committed = append(committed, items...)
		return results, nil
	}}
	commit := func(values ...string) []error {
		batch := make([]*groupItem[string], len(values))
		for i, v := range values {
			batch[i] = &groupItem[string]{v: v, done: make(chan error, 1)}
		}
		g.commit(batch)
		errs := make([]error, len(batch))
		for i, it := range batch {
			errs[i] = <-it.done
		}
		return errs
	}

	if errs := commit("a", "stale", "b"); errs[0] != nil || !errors.Is(errs[1], errStale) || errs[2] != nil {
		t.Fatalf("per-item results: %v", errs)
	}
	if want := []string{"a", "stale", "b"}; !slices.Equal(committed, want) {
		t.Fatalf("committed %v, want one transaction of %v", committed, want)
	}
	committed = nil
	if errs := commit("c", "poison", "d"); errs[0] != nil || !errors.Is(errs[1], errPoison) || errs[2] != nil {
		t.Fatalf("a failed batch: %v", errs)
	}
	if want := []string{"c", "d"}; !slices.Equal(committed, want) {
		t.Fatalf("committed %v after a failed batch, want %v each alone", committed, want)
	}
}

// TestGroupCommitSubmitAndClose goes through the goroutine: a lone item
// commits, and a closed groupCommit refuses items.
func TestGroupCommitSubmitAndClose(t *testing.T) {
	t.Parallel()
	errStale := errors.New("stale")
	g := newGroupCommit(txBackend{}, func(string) int { return 1 }, func(_ context.Context, _ txn, items []string) ([]error, error) {
		results := make([]error, len(items))
		for i, v := range items {
			if v == "stale" {
				results[i] = errStale
			}
		}
		return results, nil
	})
	ctx := context.Background()
	if err := g.submit(ctx, "a"); err != nil {
		t.Fatalf("submit: %v", err)
	}
	if err := g.submit(ctx, "stale"); !errors.Is(err, errStale) {
		t.Fatalf("submit stale: %v", err)
	}
	g.close()
	g.close() // idempotent
	if err := g.submit(ctx, "b"); !errors.Is(err, ErrClosed) {
		t.Fatalf("submit after close: %v", err)
	}
}

// TestGroupCommitBatches: items that arrive while a transaction runs share
// the next one, up to commitBatchMax items each.
func TestGroupCommitBatches(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		var sizes []int
		g := newGroupCommit(txBackend{}, func(int) int { return 1 }, func(_ context.Context, _ txn, items []int) ([]error, error) {
			if len(sizes) == 0 {
				<-release // the first transaction holds the writer
			}
			sizes = append(sizes, len(items))
			return make([]error, len(items)), nil
		})
		defer g.close()
		ctx := context.Background()
		var wg sync.WaitGroup
		wg.Go(func() { _ = g.submit(ctx, 0) })
		synctest.Wait() // the first item is in its transaction
		for i := range commitBatchMax + 2 {
			wg.Go(func() { _ = g.submit(ctx, i+1) })
		}
		synctest.Wait() // every other item waits for the writer
		close(release)
		wg.Wait()
		if want := []int{1, commitBatchMax, 2}; !slices.Equal(sizes, want) {
			t.Fatalf("transactions of %v items, want %v", sizes, want)
		}
	})
}
