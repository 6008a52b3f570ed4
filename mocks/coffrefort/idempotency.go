package coffrefort

// idempotencyKey scopes an Idempotency-Key to one route.
type idempotencyKey struct {
	route routeID
	key   string
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

// once processes c at most once successfully per (route, key): a request
// whose key already succeeded gets the same status and body again, marked
// replayed, and creates nothing. Requests with the same key wait for each
// other, or for their context; a key whose processing failed is processed
// again.
func (s *Server) once(id routeID, c *call, handle func(*Server, *call) reply) reply {
	k := idempotencyKey{route: id, key: c.key}
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
		// The client gave up; it will not read what is written.
		return reply{status: statusClientClosed}
	}
	defer func() { <-e.turn }()

	if e.done {
		rp := e.rp
		rp.replayed = true
		return rp
	}
	rp := s.finish(handle(s, c))
	if rp.status >= 200 && rp.status < 300 {
		e.done, e.rp = true, rp
	}
	return rp
}
