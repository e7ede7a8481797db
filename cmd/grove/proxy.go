package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"slices"
	"strings"

	"github.com/grovedb/grove/internal/connuri"
	"github.com/grovedb/grove/internal/proxy"
	"github.com/grovedb/grove/internal/proxy/authlimit"
)

// proxyCert is the certificate of the proxy and of the data plane:
// --tls-cert, else one made (self-signed) in the data dir at the first start.
func proxyCert(cfg serveConfig) (tls.Certificate, error) {
	var cert tls.Certificate
	var err error
	if cfg.TLSCert != "" {
		cert, err = tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
	} else {
		cert, err = proxy.LoadOrCreateCert(filepath.Join(cfg.DataDir, "tls"), cfg.Domain, regionNames(cfg.Domain)...)
	}
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("proxy certificate: %w", err)
	}
	return cert, nil
}

// newProxy returns the Postgres proxy and its listener (--pg-addr), served
// by Serve; its closer closes the client connections.
func newProxy(cfg serveConfig, be backend, limiter *authlimit.Limiter, cert tls.Certificate, log *slog.Logger) (*proxy.Proxy, net.Listener, closer, error) {
	px, err := proxy.New(proxy.Config{
		TLS:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		Domain:      cfg.Domain,
		Backend:     be,
		AuthLimiter: limiter,
		Logger:      log.With("component", "proxy"),

		AllowPlaintext: cfg.AllowPlaintext,
	})
	if err != nil {
		return nil, nil, nil, err
	}
	ln, err := net.Listen("tcp", cfg.PGAddr)
	if err != nil {
		_ = px.Close()
		return nil, nil, nil, fmt.Errorf("proxy: %w", err)
	}
	return px, ln, func(context.Context, bool) {
		_ = ln.Close() // when Serve never ran
		_ = px.Close()
	}, nil
}

// regionNames are the wildcards of a domain's regions, for the
// self-signed certificate: endpoints (ep-….<region>.<domain>), their Data
// API (….apirest.<region>.<domain>) and Auth (….neonauth.<region>.<domain>).
func regionNames(domain string) []string {
	if domain == "" {
		return nil
	}
	h := connuri.Hosts{Domain: strings.Trim(strings.ToLower(domain), ".")}
	var names []string
	for _, r := range connuri.Regions {
		host := h.ProxyHost(r.ID)
		names = append(names, "*."+host, "*.apirest."+host, "*.neonauth."+host)
	}
	return slices.Compact(names)
}
