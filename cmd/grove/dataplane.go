package main

import (
	"fmt"
	"net/http"
)

// dataPlane is the data-plane HTTP listener (--http-addr): the data-plane
// services (SQL over HTTP, the Data API, Auth) mount their handlers on Mux.
// A request no handler takes gets the Data API's "not enabled" answer.
type dataPlane struct {
	*httpServer
	Mux *http.ServeMux
}

func newDataPlane(cfg serveConfig) (*dataPlane, closer, error) {
	d := &dataPlane{Mux: http.NewServeMux()}
	srv, err := listenHTTP(cfg.HTTPAddr, http.HandlerFunc(d.serveHTTP))
	if err != nil {
		return nil, nil, fmt.Errorf("data plane: %w", err)
	}
	d.httpServer = srv
	return d, srv.shutdown, nil
}

func (d *dataPlane) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := d.Mux.Handler(r); pattern != "" {
		d.Mux.ServeHTTP(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusNotFound)
	_, _ = w.Write([]byte(`{"message":"the Data API is not enabled on this endpoint"}`))
}
