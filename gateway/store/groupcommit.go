package store

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ErrClosed is returned by a store that has been closed.
var ErrClosed = errors.New("store: closed")

// Group commit: a commit (an fsync on PostgreSQL, the single writer on
// SQLite) is the scarce resource of both hot paths, accepting submissions
// and recording delivery attempts. A groupCommit takes every item waiting
// when it is free and writes them in one transaction; nobody waits for a
// timer, and a lone item commits at once.
const (
	// commitBatchMax bounds the items of one transaction.
	commitBatchMax = 128
	// commitBatchBytes bounds the payload bytes of one transaction.
	commitBatchBytes = 16 << 20
	// commitTimeout bounds one batch transaction.
	commitTimeout = 30 * time.Second
)

// groupCommit batches items of type T into transactions.
type groupCommit[T any] struct {
	b backend
	// write writes items in tx and returns one result per item (nil, or
	// an error of that item alone such as ErrStaleJob), or an error that
	// fails the whole transaction.
	write   func(ctx context.Context, tx txn, items []T) ([]error, error)
	size    func(T) int
	in      chan *groupItem[T]
	stop    chan struct{}
	done    chan struct{}
	stopped sync.Once
}

type groupItem[T any] struct {
	v    T
	done chan error
}

func newGroupCommit[T any](b backend, size func(T) int, write func(ctx context.Context, tx txn, items []T) ([]error, error)) *groupCommit[T] {
	g := &groupCommit[T]{b: b, write: write, size: size, in: make(chan *groupItem[T]), stop: make(chan struct{}), done: make(chan struct{})}
	go g.run()
	return g
}

// submit hands v over and waits for its transaction. If ctx ends first, v
// may still commit; the callers' operations are idempotent.
func (g *groupCommit[T]) submit(ctx context.Context, v T) error {
	it := &groupItem[T]{v: v, done: make(chan error, 1)}
	select {
	case g.in <- it:
	case <-g.stop:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-it.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (g *groupCommit[T]) run() {
	defer close(g.done)
	for {
		var first *groupItem[T]
		select {
		case first = <-g.in:
		case <-g.stop:
			return
		}
		batch, size := []*groupItem[T]{first}, g.size(first.v)
	drain:
		for len(batch) < commitBatchMax && size < commitBatchBytes {
			select {
			case it := <-g.in:
				batch, size = append(batch, it), size+g.size(it.v)
			default:
				break drain
			}
		}
		g.commit(batch)
	}
}

// commit writes a batch in one transaction. If that fails, each item is
// tried alone, so that one bad item fails only itself.
func (g *groupCommit[T]) commit(batch []*groupItem[T]) {
	ctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
	defer cancel()
	items := make([]T, len(batch))
	for i, it := range batch {
		items[i] = it.v
	}
	var results []error
	err := g.b.inTx(ctx, func(tx txn) error {
		var err error
		results, err = g.write(ctx, tx, items)
		return err
	})
	switch {
	case err == nil:
		for i, it := range batch {
			it.done <- results[i]
		}
	case len(batch) == 1:
		batch[0].done <- err
	default:
		for _, it := range batch {
			g.commit([]*groupItem[T]{it})
		}
	}
}

// close stops taking items once the batch in progress is committed.
func (g *groupCommit[T]) close() {
	g.stopped.Do(func() { close(g.stop) })
	<-g.done
}
