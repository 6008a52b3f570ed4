package coffrefort

import (
	"fmt"
	"net/http"
)

// The safe deduplicates creations by Idempotency-Key itself instead of
// through the runtime's deduplication (`x-relais-idempotent`), which does
// not fit it:
//
//   - the runtime keys a request by a hash of its body, and a multipart
//     upload sent again carries another boundary, so a retry would be
//     refused as a conflicting reuse of the key;
//   - the safe's replay is marked with Idempotent-Replayed: true, and the
//     dedup counters (CreatedPerKey, DuplicateRequests) are the safe's.

// idempotencyKey scopes an Idempotency-Key to one operation.
type idempotencyKey struct {
	op, key string
}

// idempotencyEntry serialises the requests carrying one key and keeps the
// first successful reply.
type idempotencyEntry struct {
	// turn holds one token while a request with this key is processed.
	turn chan struct{}
	// done and rp are guarded by turn.
	done bool
	rp   reply
}

// once processes c at most once successfully per (operation, key): a
// request whose key already succeeded gets the same status and body again,
// marked replayed, and creates nothing. Requests with the same key wait for
// each other, or for their context; a key whose processing failed is
// processed again.
func (s *Server) once(op string, c *call, handle func(*Server, *call) reply) reply {
	k := idempotencyKey{op: op, key: c.key}
	s.mu.Lock()
	e := s.state.idempotency[k]
	if e == nil {
		e = &idempotencyEntry{turn: make(chan struct{}, 1)}
		s.state.idempotency[k] = e
	}
	s.mu.Unlock()

	select {
	case e.turn <- struct{}{}:
	case <-c.r.Context().Done():
		// The client gave up; it reads nothing, but the runtime checks
		// every answer against the contract: send a documented one.
		rp := problemReply(http.StatusServiceUnavailable, fmt.Sprintf("The request waited for another with the same %s and was abandoned.", headerIdempotencyKey))
		rp.abandoned = true
		return rp
	}
	defer func() { <-e.turn }()

	if e.done {
		s.duplicates.Add(1)
		rp := e.rp
		rp.replayed = true
		return rp
	}
	rp := s.count(handle(s, c))
	if rp.status >= 200 && rp.status < 300 {
		e.done, e.rp = true, rp
	}
	return rp
}
