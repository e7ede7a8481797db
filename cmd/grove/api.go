package main

import (
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/grovedb/grove/internal/apiserver"
	"github.com/grovedb/grove/internal/metrics"
	"github.com/grovedb/grove/internal/platform"
)

// newAPI returns the control API's server (/api/v2) on its listener
// (--api-addr), served by Serve.
func newAPI(cfg serveConfig, plat *platform.Platform, met *metrics.Metrics, log *slog.Logger) (*httpServer, closer, error) {
	adminKey, err := os.ReadFile(adminKeyFile(cfg))
	if err != nil {
		log.Warn("metrics: no admin API key file; /metrics on the API listener refuses every key", "err", err)
	}
	srv, err := listenHTTP(cfg.APIAddr, apiserver.New(apiserver.Config{Platform: plat, Logger: log.With("component", "api"),
		RateLimit:  apiserver.RateLimit{PerMinute: cfg.RateLimitPerMinute, PerRouteBySecond: cfg.RateLimitPerRouteSecond},
		Metrics:    met,
		MetricsKey: strings.TrimSpace(string(adminKey)),
	}))
	if err != nil {
		return nil, nil, fmt.Errorf("api: %w", err)
	}
	log.Info("api: rate limits", "per_minute", cfg.RateLimitPerMinute, "per_route_per_second", cfg.RateLimitPerRouteSecond,
		"metrics", "http://"+srv.Addr()+apiserver.MetricsPath+" (admin API key)")
	return srv, srv.shutdown, nil
}
