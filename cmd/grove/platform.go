package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/grovedb/grove/internal/compute"
	"github.com/grovedb/grove/internal/history"
	"github.com/grovedb/grove/internal/metastore"
	"github.com/grovedb/grove/internal/metering"
	"github.com/grovedb/grove/internal/platform"
	"github.com/grovedb/grove/internal/sealer"
	"github.com/grovedb/grove/internal/storage"
)

// newPlatform returns the platform, bootstrapped (the admin API key and
// organizations), with --plans applied and reconciled with the computes an
// earlier Grove left running. Its background work starts with Run.
func newPlatform(ctx context.Context, cfg serveConfig, m machine, store *metastore.Store, computes *compute.Manager,
	driver storage.Driver, hist *history.Manager, traffic *egress, log *slog.Logger) (*platform.Platform, error) {
	seal, err := sealer.LoadOrCreate(filepath.Join(cfg.DataDir, "secret.key"))
	if err != nil {
		return nil, err
	}
	pc := platform.Config{
		Store: store, Computes: computes, Volumes: driver, Installs: m.installs, Sealer: seal,
		ProxyAddr: advertised(cfg.PGAddr), Domain: cfg.Domain, DataPlaneAddr: advertised(cfg.HTTPAddr),
		Logger:  log.With("component", "platform"),
		History: hist,
	}
	if cfg.Metering {
		// Logical sizes, and WAL positions for the meter, are read from
		// running computes as often as usage is stored.
		pc.SampleInterval = cfg.MeteringInterval
		pc.Metering = &metering.Config{Interval: cfg.MeteringInterval, Bucket: cfg.MeteringBucket,
			Transfer: traffic.totals, Logger: log.With("component", "metering")}
	}
	plat, err := platform.New(pc)
	if err != nil {
		return nil, err
	}
	computes.Subscribe(plat.MeterEvent)
	keyFile := adminKeyFile(cfg)
	boot, err := plat.Accounts().Bootstrap(ctx, func(key string) error {
		return os.WriteFile(keyFile, []byte(key+"\n"), 0o600)
	})
	if err != nil {
		return nil, err
	}
	if boot.Created {
		fmt.Printf("grove: admin API key (also in %s): %s\n", keyFile, boot.APIKey)
	}
	for _, o := range boot.Orgs {
		log.Info("platform: organization", "name", o.Name, "id", o.ID, "plan", o.Plan)
	}
	if err := applyPlans(ctx, plat, cfg.Plans, log); err != nil { // plans.go
		return nil, err
	}
	if err := plat.Reconcile(ctx); err != nil {
		return nil, err
	}
	return plat, nil
}

// runPlatform runs the platform's background work; its closer first waits,
// within the drain grace, for the mutations still finishing to record
// their operations (what does not end in time is failed by reconciliation
// at the next start), then for the background work to stop.
func runPlatform(ctx context.Context, plat *platform.Platform, log *slog.Logger) closer {
	if m := plat.Meter(); m != nil {
		log.Info("metering: on", "interval", m.Interval(), "bucket", m.Bucket())
	} else {
		log.Info("metering: off (--metering=false): no consumption is recorded and quotas are not enforced")
	}
	stopRun := goRun(ctx, func(ctx context.Context) { _ = plat.Run(ctx) })
	return func(ctx context.Context, leave bool) {
		waited := make(chan struct{})
		go func() { plat.Wait(); close(waited) }()
		select {
		case <-waited:
		case <-ctx.Done():
		}
		stopRun(ctx, leave)
	}
}

// adminKeyFile holds the admin API key made at the first start.
func adminKeyFile(cfg serveConfig) string { return filepath.Join(cfg.DataDir, "admin-api-key") }

// egress gives the meter the bytes sent to clients per endpoint, by the
// front doors. They are made after the platform, which they reach computes
// through; serve sets source before the platform runs, which is when the
// meter first reads it.
type egress struct{ source func() map[string]int64 }

func (e *egress) totals() map[string]int64 { return e.source() }
