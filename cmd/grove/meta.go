package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/grovedb/grove/internal/compute"
	"github.com/grovedb/grove/internal/metastore"
	"github.com/grovedb/grove/internal/pgrun"
	"github.com/grovedb/grove/internal/reserve"
)

// newReserve mounts the internal metadata cluster's own file system, which
// tenants cannot fill; the run dir lives there too, so that a start needs
// no space on the data dir's file system. It returns nil where there is
// none: an external metadata store, --meta-reserve=0, or no support.
func newReserve(ctx context.Context, cfg serveConfig, log *slog.Logger) (*reserve.Reserve, closer, error) {
	if cfg.MetaURL != "" {
		return nil, nil, nil
	}
	r, err := reserve.Open(ctx, reserve.Config{DataDir: cfg.DataDir, Size: cfg.MetaReserve,
		StopStale: pgrun.StopStale, Logger: log.With("component", "reserve")})
	switch {
	case errors.Is(err, errors.ErrUnsupported) && cfg.MetaReserve == 0:
		log.Info("metadata: no reserve (--meta-reserve=0); the metadata cluster shares the tenants' disk space")
		return nil, nil, nil
	case errors.Is(err, errors.ErrUnsupported):
		log.Warn("metadata: no reserve; the metadata cluster shares the tenants' disk space", "reason", err)
		return nil, nil, nil
	case err != nil:
		return nil, nil, fmt.Errorf("metadata: %w", err)
	}
	if sp, err := reserve.Statfs(r.Dir()); err == nil {
		log.Info("metadata: reserve mounted", "dir", r.Dir(), "image", r.Image(), "size_bytes", sp.Size, "free_bytes", sp.Free)
	}
	return r, func(ctx context.Context, leave bool) {
		if leave {
			return // the servers left running use it: the next start takes the mount as it is
		}
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if err := r.Close(uctx); err != nil {
			log.Error("metadata: unmount the reserve", "err", err)
		}
	}, nil
}

// newDiskWatch watches the free space of the data dir and of the reserve,
// if any, until its closer runs. A full data dir does not stop Grove, whose
// own state has room elsewhere: the first reading warns, once, before
// anything starts.
func newDiskWatch(ctx context.Context, cfg serveConfig, r *reserve.Reserve, log *slog.Logger) (*reserve.Watch, closer, error) {
	fs := []reserve.FS{{Name: "data", Path: cfg.DataDir,
		Hint: "tenants' volumes and WAL archives fill it: free space or grow it; computes fail writes until then"}}
	if r != nil {
		fs = append(fs, reserve.FS{Name: "reserve", Path: r.Dir(),
			Hint: "the metadata cluster fills it: restart with a larger --meta-reserve"})
	}
	w, err := reserve.NewWatch(reserve.WatchConfig{FileSystems: fs, Reserve: r, Logger: log.With("component", "disk")})
	if err != nil {
		return nil, nil, err
	}
	w.Check()
	return w, goRun(ctx, w.Run), nil
}

// dirs are where Grove's servers keep sockets and logs.
type dirs struct {
	// run holds the compute sockets, and the compute manager owns it (it
	// removes folders of computes it does not know); the sockets of the
	// metadata cluster, the history's servers and the poolers live in
	// folders beside it (run+"-meta", "-hist", "-pooler").
	run string
	// log holds every server's log, which Grove writes itself (servers get
	// an open file): no compute's identity may read another's.
	log string
}

// newDirs makes the run dir, on the reserve when there is one, and the log dir.
func newDirs(cfg serveConfig, r *reserve.Reserve) (dirs, closer, error) {
	own := cfg.DataDir
	if r != nil {
		own = r.Dir()
	}
	d := dirs{run: shortRunDir(own), log: filepath.Join(cfg.DataDir, "logs")}
	if err := os.MkdirAll(d.run, 0o711); err != nil {
		return d, nil, fmt.Errorf("run dir: %w", err)
	}
	// Runs last: once every server has stopped, only stale sockets are left.
	rm := func(_ context.Context, leave bool) {
		if leave {
			return // the sockets of the servers left running
		}
		_ = os.RemoveAll(d.run)
		_ = os.RemoveAll(d.run + "-meta")
	}
	if err := os.MkdirAll(d.log, 0o700); err != nil {
		return d, rm, fmt.Errorf("log dir: %w", err)
	}
	if err := os.Chmod(d.log, 0o700); err != nil {
		return d, rm, fmt.Errorf("log dir: %w", err)
	}
	if err := os.Lchown(d.log, os.Getuid(), os.Getgid()); err != nil {
		return d, rm, fmt.Errorf("log dir: %w", err)
	}
	return d, rm, nil
}

// newMetadata opens the metadata store: --meta-url's, or an internal
// cluster started (or adopted) in the data dir or on the reserve.
func newMetadata(ctx context.Context, cfg serveConfig, m machine, d dirs, r *reserve.Reserve, log *slog.Logger) (*metastore.Store, closer, error) {
	if cfg.MetaURL != "" {
		log.Info("metadata: external store")
		store, err := metastore.Open(ctx, cfg.MetaURL)
		if err != nil {
			return nil, nil, err
		}
		return store, func(context.Context, bool) { store.Close() }, nil
	}
	metaLog, err := os.OpenFile(filepath.Join(d.log, "meta.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
	if err != nil {
		return nil, nil, err
	}
	srv, url, err := startMetaCluster(ctx, cfg, m, d, r, metaLog)
	if err != nil {
		metaLog.Close()
		return nil, nil, err
	}
	stopCluster := func(ctx context.Context, leave bool) {
		defer metaLog.Close()
		if leave {
			log.Info("metadata: cluster left running for the next Grove", "pid", srv.Pid())
			return
		}
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if err := srv.Stop(sctx); err != nil {
			log.Error("metadata: stop", "err", err)
		}
	}
	log.Info("metadata: internal cluster", "dir", metaClusterDir(cfg, r), "postgres", m.defaultInstall.Version)
	store, err := metastore.Open(ctx, url)
	if err != nil {
		stopCluster(ctx, false)
		return nil, nil, err
	}
	return store, func(ctx context.Context, leave bool) {
		store.Close()
		stopCluster(ctx, leave)
	}, nil
}

// startMetaCluster starts the internal metadata cluster, or adopts the one
// an earlier Grove left running, and returns it and its URL.
func startMetaCluster(ctx context.Context, cfg serveConfig, m machine, d dirs, r *reserve.Reserve, metaLog *os.File) (*pgrun.Server, string, error) {
	metaUser, err := pgrun.EnsureUser(cfg.MetaOSUser)
	if err != nil {
		return nil, "", err
	}
	metaFS := cfg.DataDir
	if r != nil {
		metaFS = r.Dir()
	}
	if err := reserve.CheckFree(metaFS, reserve.MinFree); err != nil {
		return nil, "", metaShortOfSpace(err, cfg.DataDir, r)
	}
	return metastore.StartInternal(ctx, metastore.Internal{
		DataDir: metaClusterDir(cfg, r), SocketDir: d.run + "-meta",
		Install: m.defaultInstall, User: metaUser, Log: metaLog,
	})
}

// metaClusterDir is the internal metadata cluster's data directory.
func metaClusterDir(cfg serveConfig, r *reserve.Reserve) string {
	if r != nil {
		return r.ClusterDir()
	}
	return filepath.Join(cfg.DataDir, "meta")
}

// shortRunDir returns where Unix sockets live: <data-dir>/run when short
// enough for the kernel's socket path limit, else a folder under /tmp named
// after the data dir.
func shortRunDir(dataDir string) string {
	d := filepath.Join(dataDir, "run")
	if len(d) <= compute.MaxRunDirLen {
		return d
	}
	h := sha256.Sum256([]byte(dataDir))
	return filepath.Join(os.TempDir(), "grove-"+hex.EncodeToString(h[:6]))
}

// metaShortOfSpace is the error that stops a start when the metadata
// cluster's file system has too little space: what is free, what is needed
// and what to do.
func metaShortOfSpace(err error, dataDir string, r *reserve.Reserve) error {
	if r != nil {
		return fmt.Errorf("metadata store: %w: the reserve (%s) is full: restart with a larger --meta-reserve (it grows in place with space from the data dir's file system)", err, r.Image())
	}
	return fmt.Errorf("metadata store: %w: free space there (tenants' volumes in %s and WAL archives in %s share it), or run grove as root with --meta-reserve so that the metadata gets space tenants cannot fill",
		err, filepath.Join(dataDir, "volumes"), filepath.Join(dataDir, "archive"))
}
