package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// serve runs the platform until a signal: it builds the components in
// order, each returning its closer, serves, and on the way out runs the
// closers in reverse order. SIGTERM (an upgrade, a service manager's stop
// or restart) leaves the computes and the metadata cluster running for the
// next Grove to adopt; SIGINT (Ctrl-C) stops them all.
func serve(ctx context.Context, args []string) error {
	cfg, err := parseServe(args)
	if err != nil {
		return err
	}
	log, err := newLogger(cfg.LogLevel)
	if err != nil {
		return err
	}
	sigs := make(chan os.Signal, 1) // read once ctx ends (terminated)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)
	// Each closer is added before its constructor's error is checked: a
	// constructor that fails returns the closer of what it made, or nil.
	var stop closers
	leave := false
	defer func() {
		stop.close(leave)
		log.Info("grove: stopped")
	}()

	m, err := newMachine(ctx, cfg, log)
	if err != nil {
		return err
	}
	driver, c, err := newStorage(ctx, cfg, log) // storage.go: a btrfs image on ext4
	if stop.add(c); err != nil {
		return err
	}
	metaReserve, c, err := newReserve(ctx, cfg, log)
	if stop.add(c); err != nil {
		return err
	}
	disk, c, err := newDiskWatch(ctx, cfg, metaReserve, log)
	if stop.add(c); err != nil {
		return err
	}
	d, c, err := newDirs(cfg, metaReserve)
	if stop.add(c); err != nil {
		return err
	}
	store, c, err := newMetadata(ctx, cfg, m, d, metaReserve, log)
	if stop.add(c); err != nil {
		return err
	}
	hist, c, err := newHistory(cfg, m, driver, d, store, log)
	if stop.add(c); err != nil {
		return err
	}
	poolers, c, err := newPoolers(ctx, cfg, m, d, log)
	if stop.add(c); err != nil {
		return err
	}
	computes, c, err := newComputes(ctx, cfg, m, driver, d, hist, poolers, log)
	if stop.add(c); err != nil {
		return err
	}
	traffic := &egress{}
	plat, err := newPlatform(ctx, cfg, m, store, computes, driver, hist, traffic, log)
	if err != nil {
		return err
	}
	stop.add(goRun(ctx, func(ctx context.Context) { _ = computes.Run(ctx) }))
	stop.add(goRun(ctx, hist.Run))
	scaling, c, err := newAutoscaler(ctx, cfg, computes, log)
	if stop.add(c); err != nil {
		return err
	}
	doors, c, err := newFrontDoors(cfg, plat, computes, poolers, log)
	if stop.add(c); err != nil {
		return err
	}
	traffic.source = doors.egress
	stop.add(runPlatform(ctx, plat, log))
	met, c, err := newMetrics(cfg, computes, store, doors.px, scaling, driver, disk, plat, log)
	if stop.add(c); err != nil {
		return err
	}
	api, c, err := newAPI(cfg, plat, met, log)
	if stop.add(c); err != nil {
		return err
	}
	c, err = newDebug(cfg, log)
	if stop.add(c); err != nil {
		return err
	}

	errc := listen(ctx, cfg, log, doors, api)
	select {
	case <-ctx.Done():
	case err = <-errc: // a listener failed; or the signal's end of the proxy's Serve won the race
	}
	leave = ctx.Err() != nil && terminated(sigs)
	log.Info("grove: stopping", "leave_computes_running", leave)
	return err
}

// terminated reports whether the signal that ended the context was
// SIGTERM, which leaves the servers running for the next Grove.
func terminated(sigs <-chan os.Signal) bool {
	select {
	case s := <-sigs:
		return s == syscall.SIGTERM
	case <-time.After(100 * time.Millisecond): // ended otherwise
		return false
	}
}

// listen serves the proxy, the API and the data plane; the channel gets
// the first listener's end, which stops Grove.
func listen(ctx context.Context, cfg serveConfig, log *slog.Logger, doors frontDoors, api *httpServer) <-chan error {
	px, pgLn, dp := doors.px, doors.pgLn, doors.dp
	log.Info("listeners", "api", "http://"+api.Addr()+"/api/v2", "proxy", pgLn.Addr().String(),
		"data_plane", dp.url(cfg), "domain", cfg.Domain)
	errc := make(chan error, 3)
	go func() { errc <- px.Serve(ctx, pgLn) }()
	go func() { errc <- api.Serve() }()
	go func() { errc <- dp.Serve() }()
	log.Info("grove: ready")
	return errc
}
