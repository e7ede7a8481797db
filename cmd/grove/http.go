package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"
)

// httpServer is an HTTP server with its listener, opened before it serves
// so that a taken address fails the start.
type httpServer struct {
	srv *http.Server
	ln  net.Listener
}

func listenHTTP(addr string, h http.Handler) (*httpServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	return &httpServer{srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}, ln: ln}, nil
}

// Addr is the listener's address.
func (s *httpServer) Addr() string { return s.ln.Addr().String() }

// Serve serves until the server is shut down or closed, which returns nil.
func (s *httpServer) Serve() error {
	if err := s.srv.Serve(s.ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// serveInBackground serves s in a goroutine of its own, for servers whose
// failure does not stop Grove (metrics, profiles).
func (s *httpServer) serveInBackground() { go func() { _ = s.Serve() }() }

// shutdown lets the requests in flight finish within ctx, then closes.
func (s *httpServer) shutdown(ctx context.Context, _ bool) {
	_ = s.srv.Shutdown(ctx)
	_ = s.ln.Close() // when Serve never ran
}

// close closes at once.
func (s *httpServer) close(context.Context, bool) {
	_ = s.srv.Close()
	_ = s.ln.Close()
}
