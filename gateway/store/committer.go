package store

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ErrClosed is returned by a store that has been closed.
var ErrClosed = errors.New("store: closed")

// Group commit: accepting a submission costs a transaction, and a commit
// (an fsync on PostgreSQL, the single writer on SQLite) is the scarce
// resource. The committer takes every submission waiting when it is free
// and commits them in one transaction; nobody waits for a timer, and a lone
// submission commits at once.
const (
	// commitBatchMax bounds the submissions of one transaction.
	commitBatchMax = 128
	// commitBatchBytes bounds the content of one transaction.
	commitBatchBytes = 16 << 20
	// commitTimeout bounds one batch transaction.
	commitTimeout = 30 * time.Second
)

type committer struct {
	s       *Store
	in      chan *pendingSubmission
	stop    chan struct{}
	done    chan struct{}
	stopped sync.Once
}

func newCommitter(s *Store) *committer {
	c := &committer{s: s, in: make(chan *pendingSubmission), stop: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c
}

// submit hands p to the committer and waits for its transaction. If ctx
// ends first the submission may still commit: a retry with the same
// idempotency key then finds it.
func (c *committer) submit(ctx context.Context, p *pendingSubmission) (bool, error) {
	select {
	case c.in <- p:
	case <-c.stop:
		return false, ErrClosed
	case <-ctx.Done():
		return false, ctx.Err()
	}
	select {
	case r := <-p.done:
		return r.inserted, r.err
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

func (c *committer) run() {
	defer close(c.done)
	for {
		var first *pendingSubmission
		select {
		case first = <-c.in:
		case <-c.stop:
			return
		}
		batch, size := []*pendingSubmission{first}, contentSize(first)
	drain:
		for len(batch) < commitBatchMax && size < commitBatchBytes {
			select {
			case p := <-c.in:
				batch, size = append(batch, p), size+contentSize(p)
			default:
				break drain
			}
		}
		c.commit(batch)
	}
}

func contentSize(p *pendingSubmission) int {
	n := len(p.sealedPayload)
	for _, c := range p.sealedChunks {
		n += len(c)
	}
	return n
}

// commit writes a batch in one transaction. If that fails, each submission
// is tried alone, so that one bad submission fails only itself.
func (c *committer) commit(batch []*pendingSubmission) {
	ctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
	defer cancel()
	var inserted []bool
	err := c.s.b.inTx(ctx, func(tx txn) error {
		var err error
		inserted, err = c.s.insertSubmissions(ctx, tx, batch)
		return err
	})
	if err == nil {
		for i, p := range batch {
			p.done <- commitResult{inserted: inserted[i]}
		}
		return
	}
	if len(batch) == 1 {
		batch[0].done <- commitResult{err: err}
		return
	}
	for _, p := range batch {
		c.commit([]*pendingSubmission{p})
	}
}

// close stops the committer once the batch in progress is committed.
func (c *committer) close() {
	c.stopped.Do(func() { close(c.stop) })
	<-c.done
}
