package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/grovedb/grove/internal/compute"
	"github.com/grovedb/grove/internal/computepool"
	"github.com/grovedb/grove/internal/dataapi"
	"github.com/grovedb/grove/internal/dataapi/jwtauth"
	"github.com/grovedb/grove/internal/proxy"
	"github.com/grovedb/grove/internal/proxy/authlimit"
	"github.com/grovedb/grove/internal/sqlhttp"
)

// dataPlane is the data-plane HTTP listener (--http-addr; HTTPS with a
// domain): Postgres over WebSockets on any path, SQL over HTTP at /sql, and the data-plane services (the Data API, Auth) mount their
// handlers on Mux. A request no handler takes gets the Data API's "not
// enabled" answer.
type dataPlane struct {
	*httpServer
	Mux  *http.ServeMux
	SQL  *sqlhttp.Handler
	Data *dataapi.Handler
	ws   http.Handler // the proxy's WebSocket tunnel
}

// newDataPlane returns the data plane; its closer lets requests in flight
// finish, then closes the connections SQL over HTTP keeps to computes.
func newDataPlane(cfg serveConfig, be backend, computes *compute.Manager, px *proxy.Proxy, limiter *authlimit.Limiter,
	cert tls.Certificate, log *slog.Logger) (*dataPlane, closer, error) {
	maxConns := func(id string) int {
		// As Neon's pooler: 90 % of the compute's connections.
		if in, ok := computes.Get(id); ok {
			return in.Settings().MaxConnections * 9 / 10
		}
		return 0
	}
	pool := computepool.New(sqlhttp.DefaultIdleTimeout)
	sql, err := sqlhttp.New(sqlhttp.Config{
		Backend: be, Domain: cfg.Domain, AuthLimiter: limiter, Logger: log.With("component", "sqlhttp"),
		MaxConns: maxConns, Pool: pool,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("data plane: %w", err)
	}
	verifier := jwtauth.New(jwtauth.Config{Logger: log.With("component", "jwt"), AllowPrivate: cfg.JWKSAllowPrivate})
	data, err := dataapi.New(dataapi.Config{
		Backend: be, Lookup: be.DataAPI, Pool: pool, MaxConns: maxConns, Verifier: verifier,
		Domain: cfg.Domain, Logger: log.With("component", "dataapi"),
	})
	if err != nil {
		_ = sql.Close()
		return nil, nil, fmt.Errorf("data plane: %w", err)
	}
	// A stopped compute's pooled connections are dead: close them at once.
	unsubscribe := computes.Subscribe(func(e compute.Event) {
		switch e.Kind {
		case compute.EventSuspended, compute.EventCrashed, compute.EventFailed:
			sql.Drop(e.ID)
		}
	})
	d := &dataPlane{Mux: http.NewServeMux(), SQL: sql, Data: data, ws: px.WebSocket()}
	d.Mux.Handle("/sql", sql)
	srv, err := listenHTTP(cfg.HTTPAddr, http.HandlerFunc(d.serveHTTP))
	if err == nil && cfg.Domain != "" {
		// With a domain, clients reach the data plane at https:// and
		// wss:// host names, as Neon's driver expects by default; the
		// certificate is the proxy's.
		srv.ln = tls.NewListener(srv.ln, &tls.Config{Certificates: []tls.Certificate{cert},
			MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}})
	}
	if err != nil {
		unsubscribe()
		_ = sql.Close()
		data.Close()
		verifier.Close()
		return nil, nil, fmt.Errorf("data plane: %w", err)
	}
	d.httpServer = srv
	return d, func(ctx context.Context, leave bool) {
		srv.shutdown(ctx, leave)
		unsubscribe()
		_ = sql.Close()
		data.Close()
		verifier.Close()
	}, nil
}

func (d *dataPlane) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		// Neon's proxy upgrades on any path; the driver asks for /v2.
		d.ws.ServeHTTP(w, r)
		return
	}
	if _, ok := d.Data.Route(r); ok {
		d.Data.ServeHTTP(w, r)
		return
	}
	if _, pattern := d.Mux.Handler(r); pattern != "" {
		d.Mux.ServeHTTP(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusNotFound)
	_, _ = w.Write([]byte(`{"message":"the Data API is not enabled on this endpoint"}`))
}

// url is the data plane's base URL.
func (d *dataPlane) url(cfg serveConfig) string {
	if cfg.Domain != "" {
		return "https://" + d.Addr()
	}
	return "http://" + d.Addr()
}

// egressSources are the data plane's bytes out per endpoint, for the meter.
func (d *dataPlane) egress() map[string]int64 {
	out := d.SQL.Egress()
	for id, n := range d.Data.Egress() {
		out[id] += n
	}
	return out
}
