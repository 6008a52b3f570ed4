package mocks

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Running is a mock served on a real port.
type Running struct {
	Name   string
	URL    string
	server *http.Server
	done   chan error
}

// Serve starts h on addr ("127.0.0.1:0" picks a free port).
func Serve(name, addr string, h http.Handler) (*Running, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening for mock %s: %w", name, err)
	}
	r := &Running{
		Name:   name,
		URL:    "http://" + ln.Addr().String(),
		server: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second},
		done:   make(chan error, 1),
	}
	go func() { r.done <- r.server.Serve(ln) }()
	return r, nil
}

// Stop shuts the mock down, waiting for requests in progress (bounded by
// ctx). It is idempotent.
func (r *Running) Stop(ctx context.Context) error {
	if r.done == nil {
		return nil
	}
	err := r.server.Shutdown(ctx)
	if serveErr := <-r.done; serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	r.done = nil
	return err
}
