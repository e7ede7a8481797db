package main

import (
	"fmt"
	"log/slog"
	"net/http"
	_ "net/http/pprof" // served only on --debug-addr
)

// newDebug serves Go's pprof profiles on --debug-addr, when set.
func newDebug(cfg serveConfig, log *slog.Logger) (closer, error) {
	if cfg.DebugAddr == "" {
		return nil, nil
	}
	srv, err := listenHTTP(cfg.DebugAddr, http.DefaultServeMux)
	if err != nil {
		return nil, fmt.Errorf("debug listener: %w", err)
	}
	srv.serveInBackground()
	log.Info("debug: pprof", "addr", "http://"+srv.Addr()+"/debug/pprof/")
	return srv.close, nil
}
