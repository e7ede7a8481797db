package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/grovedb/grove/internal/cgroup"
	"github.com/grovedb/grove/internal/compute"
	"github.com/grovedb/grove/internal/history"
	"github.com/grovedb/grove/internal/metastore"
	"github.com/grovedb/grove/internal/osid"
	"github.com/grovedb/grove/internal/platform"
	"github.com/grovedb/grove/internal/pooler"
	"github.com/grovedb/grove/internal/storage"
)

// newHistory returns the history manager, which archives every read-write
// compute's WAL (the compute manager's archive hook) and materialises past
// points. Retention is each project's history_retention_seconds.
func newHistory(cfg serveConfig, m machine, driver storage.Driver, d dirs, store *metastore.Store, log *slog.Logger) (*history.Manager, closer, error) {
	hist, err := history.New(history.Config{
		Dir: filepath.Join(cfg.DataDir, "archive"), Volumes: driver, Installs: m.installs,
		RunDir: d.run + "-hist", Retention: platform.HistoryRetention(store, log.With("component", "platform")),
		Logger: log.With("component", "history"),
	})
	if err != nil {
		return nil, nil, err
	}
	return hist, func(context.Context, bool) { _ = os.RemoveAll(d.run + "-hist") }, nil
}

// newPoolers returns the manager of the PgBouncers behind -pooler hosts, one
// per compute, started at its first pooled connection; nil when PgBouncer
// is not installed, and -pooler connections are refused.
func newPoolers(ctx context.Context, cfg serveConfig, m machine, d dirs, log *slog.Logger) (*pooler.Manager, closer, error) {
	var candidates []string
	if cfg.PgBouncer != "" {
		candidates = []string{cfg.PgBouncer}
	}
	bin, err := pooler.Find(ctx, candidates...)
	if err != nil {
		log.Warn("pooler: PgBouncer not found; -pooler connections are refused", "err", err)
		return nil, nil, nil
	}
	poolers, err := pooler.New(pooler.Config{Binary: bin, User: m.osUser, Dir: d.run + "-pooler", LogDir: d.log,
		Logger: log.With("component", "pooler")})
	if err != nil {
		return nil, nil, err
	}
	attrs := []any{"path", bin.Path, "version", bin.Version, "prepared_statements", bin.PreparedStatements()}
	if !bin.PreparedStatements() {
		attrs = append(attrs, "note", "protocol-level prepared statements need PgBouncer 1.21+ (scripts/setup.sh builds one)")
	}
	log.Info("pooler: PgBouncer", attrs...)
	return poolers, func(context.Context, bool) { _ = os.RemoveAll(d.run + "-pooler") }, nil
}

// newComputes returns the compute manager, its templates made. Its closer
// stops the poolers, then the computes, or leaves the computes running
// for the next Grove to adopt.
func newComputes(ctx context.Context, cfg serveConfig, m machine, driver storage.Driver, d dirs,
	hist *history.Manager, poolers *pooler.Manager, log *slog.Logger) (*compute.Manager, closer, error) {
	// Per-compute cgroups with the limits of the compute's current CU.
	cgroups, cgErr := cgroup.Probe()
	if !cfg.Cgroups {
		cgroups, cgErr = nil, errors.New("disabled by --cgroups=false")
	}
	if cgErr != nil {
		log.Warn("compute: no cgroup limits; Postgres settings still follow each compute's size", "err", cgErr)
		cgroups = nil
	}
	// As root, each project's computes run under a uid of their own.
	var identities compute.Identities
	if m.osUser.Switch {
		ids, err := osid.Open(filepath.Join(cfg.DataDir, "uids"), osid.DefaultFirst, osid.DefaultCount)
		if err != nil {
			return nil, nil, err
		}
		identities = ids
	}
	computes, err := compute.New(compute.Config{
		Installs: m.installs, User: m.osUser, Identities: identities, Volumes: driver, RunDir: d.run, LogDir: d.log,
		PoolSize: cfg.PoolSize, PoolMax: cfg.PoolMax, MaxActive: cfg.MaxActive, Host: m.host, Logger: log.With("component", "compute"),
		Archive: hist, Cgroups: cgroups, CUMemoryBytes: cfg.CUMemory,
	})
	if err != nil {
		return nil, nil, err
	}
	// The one cycle left to a setter: the compute manager archives through
	// the history manager from its first start, and the history manager
	// reads the running computes for its automatic snapshots.
	hist.SetComputes(computes)
	if poolers != nil {
		computes.Subscribe(stopPoolerOnStop(computes, poolers, log))
	}
	closeComputes := func(ctx context.Context, leave bool) {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if poolers != nil {
			if err := poolers.Close(sctx); err != nil {
				log.Error("pooler: close", "err", err)
			}
		}
		stop := computes.Close
		if leave {
			stop = computes.Leave
		}
		if err := stop(sctx); err != nil {
			log.Error("compute: close", "err", err)
		}
	}
	cgDesc := "none (limits not enforced)"
	if cgroups != nil {
		cgDesc = cgroups.String()
	}
	log.Info("compute: cgroups", "support", cgDesc, "cu_memory", cuMemory(cfg.CUMemory), "run_dir", d.run, "max_active", cfg.MaxActive)
	if err := computes.EnsureTemplates(ctx); err != nil {
		closeComputes(ctx, false)
		return nil, nil, err
	}
	return computes, closeComputes, nil
}

// stopPoolerOnStop returns the compute event handler that stops a
// compute's PgBouncer when the compute suspends or fails.
func stopPoolerOnStop(computes *compute.Manager, poolers *pooler.Manager, log *slog.Logger) func(compute.Event) {
	return func(e compute.Event) {
		if e.Kind != compute.EventSuspended && e.Kind != compute.EventFailed {
			return
		}
		go func() {
			if in, ok := computes.Get(e.ID); ok && in.State() == compute.StateActive {
				return // woken again meanwhile: its pooler serves the new compute
			}
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := poolers.Stop(sctx, e.ID); err != nil {
				log.Warn("pooler: stop", "endpoint", e.ID, "err", err)
			}
		}()
	}
}
