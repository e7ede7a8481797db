package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/grovedb/grove/internal/autoscale"
	"github.com/grovedb/grove/internal/compute"
	"github.com/grovedb/grove/internal/metastore"
	"github.com/grovedb/grove/internal/metrics"
	"github.com/grovedb/grove/internal/platform"
	"github.com/grovedb/grove/internal/proxy"
	"github.com/grovedb/grove/internal/proxy/proxymetrics"
	"github.com/grovedb/grove/internal/reserve"
	"github.com/grovedb/grove/internal/storage"
)

// newAutoscaler starts the autoscaler, which moves each compute between
// its min and max CU with its load, unless --autoscale=false; it returns
// what /metrics reads of it (nil when off).
func newAutoscaler(ctx context.Context, cfg serveConfig, computes *compute.Manager, log *slog.Logger) (func() metrics.Scaling, closer, error) {
	if !cfg.Autoscale {
		return nil, nil, nil
	}
	sc, err := autoscale.New(autoscale.Config{
		Computes: computes, Policy: autoscale.Policy{CUMemoryBytes: cfg.CUMemory},
		Logger: log.With("component", "autoscale"),
	})
	if err != nil {
		return nil, nil, err
	}
	stop := goRun(ctx, func(ctx context.Context) { _ = sc.Run(ctx) })
	log.Info("autoscale: running", "interval", time.Second)
	return metrics.ScalingOf(sc), stop, nil
}

// newMetrics returns the Prometheus metrics, counting the compute manager's
// events from now on, and serves them without a key on --metrics-addr when
// set; the API listener serves them to the admin API key.
func newMetrics(cfg serveConfig, computes *compute.Manager, store *metastore.Store, px *proxy.Proxy, scaling func() metrics.Scaling,
	driver storage.Driver, disk *reserve.Watch, plat *platform.Platform, log *slog.Logger) (*metrics.Metrics, closer, error) {
	met := metrics.New(metrics.Config{
		ComputeStates: metrics.ComputeStatesOf(computes), Endpoints: store.CountEndpoints,
		Proxy: metrics.TrafficOf(px), Autoscale: scaling,
		Storage: metrics.Storage{Driver: driver.Name(), Root: driver.Root(), Volumes: func(ctx context.Context) (int, error) {
			ids, err := driver.List(ctx)
			return len(ids), err
		}},
		Logger: log.With("component", "metrics"),
	})
	computes.Subscribe(met.ComputeEvent)
	reg := met.Registry()
	reg.MustRegister(proxymetrics.New(px))
	reg.MustRegister(disk) // free space of the data dir and the metadata reserve
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "grove_branches_over_size_limit",
		Help: "Running branches whose writes are refused because they passed their plan's storage quota.",
	}, func() float64 { return float64(plat.BranchesOverSizeLimit()) }))
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "grove_warm_pool_servers",
		Help: "Warm Postgres servers ready to be taken by a create, all versions (sized by recent creates, --pool-size to --pool-max).",
	}, func() float64 { return float64(computes.WarmPool().Ready) }))
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "grove_warm_pool_target",
		Help: "Warm Postgres servers the recent creates ask for, all versions.",
	}, func() float64 { return float64(computes.WarmPool().Target) }))
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "grove_warm_pool_memory_bytes",
		Help: "Memory (PSS) held by the ready warm Postgres servers.",
	}, func() float64 { return float64(computes.WarmPoolMemory()) }))
	if cfg.MetricsAddr == "" {
		return met, nil, nil
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", met.Handler())
	srv, err := listenHTTP(cfg.MetricsAddr, mux)
	if err != nil {
		return nil, nil, fmt.Errorf("metrics listener: %w", err)
	}
	srv.serveInBackground()
	log.Info("metrics: listener without a key", "addr", "http://"+srv.Addr()+"/metrics")
	return met, srv.close, nil
}
