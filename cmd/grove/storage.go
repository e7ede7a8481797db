package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/grovedb/grove/internal/storage"
)

// parseImageSize reads --storage-image-size: "auto" (a share of the free
// space), or a size of at least storage.MinImageSize.
func parseImageSize(v string) (int64, error) {
	if strings.TrimSpace(v) == "auto" {
		return 0, nil
	}
	n, err := parseSize(v)
	if err == nil && n < storage.MinImageSize {
		err = fmt.Errorf("size %q: an image is at least %d MiB", v, storage.MinImageSize>>20)
	}
	return n, err
}

// newStorage returns the volumes' driver, cleaned of what an interrupted
// operation left, and the closer of what serves it (openStorage).
func newStorage(ctx context.Context, cfg serveConfig, log *slog.Logger) (storage.Driver, closer, error) {
	driver, stopStorage, err := openStorage(ctx, cfg, log)
	if err != nil {
		return nil, nil, fmt.Errorf("storage: %w", err)
	}
	if err := driver.Cleanup(ctx); err != nil {
		stopStorage()
		return nil, nil, fmt.Errorf("storage: %w", err)
	}
	log.Info("storage: driver chosen", "driver", driver.Name(), "root", driver.Root(), "atomic_clone", driver.Atomic())
	return driver, func(context.Context, bool) { stopStorage() }, nil
}

// openStorage returns the volumes' driver and a function that stops what
// serves it. Without --storage-driver it probes the data dir; where that
// finds only the copy driver (ext4), the volumes get a btrfs image of their
// own (<data-dir>/volumes.img, storage.OpenImage), as they do with
// --storage-driver btrfs. An image made before is mounted whatever the
// driver, since the volumes are in it.
func openStorage(ctx context.Context, cfg serveConfig, log *slog.Logger) (storage.Driver, func(), error) {
	dir := filepath.Join(cfg.DataDir, "volumes")
	imgCfg := storage.ImageConfig{Path: filepath.Join(cfg.DataDir, "volumes.img"), Dir: dir,
		Size: cfg.StorageImageSize, Logger: log.With("component", "storage")}
	open := func() (storage.Driver, error) {
		if cfg.StorageDriver == "" {
			return storage.Probe(ctx, dir)
		}
		return storage.Open(ctx, cfg.StorageDriver, dir)
	}
	if storage.ImageExists(imgCfg.Path) {
		img, err := storage.OpenImage(ctx, imgCfg)
		if err != nil {
			return nil, nil, err
		}
		return imageDriver(ctx, img, open, log)
	}
	d, err := open()
	switch want := cfg.StorageDriver; {
	case want != "" && want != storage.NameBtrfs: // reflink or copy, as named
		return d, func() {}, err
	case err == nil && d.Name() != storage.NameCopy: // btrfs or reflink, natively
		return d, func() {}, nil
	case err != nil && want == "":
		return nil, nil, err
	}
	// Only the copy driver works here, or btrfs was named and does not.
	img, ierr := storage.OpenImage(ctx, imgCfg)
	switch {
	case ierr == nil:
		return imageDriver(ctx, img, open, log)
	case cfg.StorageDriver == storage.NameBtrfs:
		return nil, nil, fmt.Errorf("%w; and no btrfs image: %w", err, ierr)
	case errors.Is(ierr, errors.ErrUnsupported):
		log.Warn("storage: no btrfs image for the volumes; a branch copies its data in full", "reason", ierr)
		return d, func() {}, nil
	default:
		return nil, nil, ierr
	}
}

// imageDriver opens the driver on a mounted image, and says so in one
// line. The stop function stops the image's growth and unmounts it.
func imageDriver(ctx context.Context, img *storage.Image, open func() (storage.Driver, error), log *slog.Logger) (storage.Driver, func(), error) {
	unmount := func() {
		uctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		switch err := img.Close(uctx); {
		case errors.Is(err, syscall.EBUSY):
			log.Info("storage: image left mounted for what still uses it; the next start takes it as it is", "image", img.Path(), "reason", err)
		case err != nil:
			log.Warn("storage: image left mounted; the next start takes it as it is", "image", img.Path(), "err", err)
		}
	}
	d, err := open()
	if err != nil {
		unmount()
		return nil, nil, err
	}
	log.Info("storage: btrfs image mounted", "image", img.Path(), "size", strconv.FormatInt(img.Size()>>20, 10)+"MiB",
		"mount", img.Dir(), "device", img.Device(), "state", string(img.State()))
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() { img.Run(runCtx); close(done) }()
	return d, func() {
		cancel()
		<-done
		unmount()
	}, nil
}
