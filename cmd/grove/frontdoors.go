package main

import (
	"context"
	"log/slog"
	"net"

	"github.com/grovedb/grove/internal/compute"
	"github.com/grovedb/grove/internal/platform"
	"github.com/grovedb/grove/internal/pooler"
	"github.com/grovedb/grove/internal/proxy"
	"github.com/grovedb/grove/internal/proxy/authlimit"
)

// frontDoors are the ways clients reach computes: the Postgres proxy and
// the data plane (SQL over HTTP, WebSockets). They share one backend, one
// certificate and one budget of failed password checks, so that a guesser
// gains nothing by switching protocols.
type frontDoors struct {
	px   *proxy.Proxy
	pgLn net.Listener
	dp   *dataPlane
}

// newFrontDoors returns the proxy and the data plane; its closer closes the
// data plane, then the proxy (which ends the WebSocket tunnels).
func newFrontDoors(cfg serveConfig, plat *platform.Platform, computes *compute.Manager, poolers *pooler.Manager,
	log *slog.Logger) (frontDoors, closer, error) {
	limiter, err := authlimit.New(authlimit.Config{})
	if err != nil {
		return frontDoors{}, nil, err
	}
	cert, err := proxyCert(cfg)
	if err != nil {
		return frontDoors{}, nil, err
	}
	be := backend{p: plat, computes: computes, poolers: poolers}
	px, pgLn, closeProxy, err := newProxy(cfg, be, limiter, cert, log)
	if err != nil {
		return frontDoors{}, nil, err
	}
	dp, closeDP, err := newDataPlane(cfg, be, computes, px, limiter, cert, log)
	if err != nil {
		closeProxy(context.Background(), false)
		return frontDoors{}, nil, err
	}
	return frontDoors{px: px, pgLn: pgLn, dp: dp}, func(ctx context.Context, leave bool) {
		closeDP(ctx, leave)
		closeProxy(ctx, leave)
	}, nil
}

// egress is the bytes both doors sent to clients per endpoint, for the meter.
func (f frontDoors) egress() map[string]int64 {
	out := f.dp.egress()
	for id, st := range f.px.Stats() {
		out[id] += st.BytesOut
	}
	return out
}
