package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/grovedb/grove/internal/compute"
	"github.com/grovedb/grove/internal/platform"
	"github.com/grovedb/grove/internal/pooler"
	"github.com/grovedb/grove/internal/proxy"
	"github.com/grovedb/grove/internal/scram"
	"github.com/grovedb/grove/internal/usage"
)

// backend adapts the platform to the proxy's Backend, translating the
// platform's errors into the proxy's. Pooled connections (the -pooler host)
// go to the compute's PgBouncer, started on demand; poolers is nil when no
// PgBouncer is installed.
type backend struct {
	p        *platform.Platform
	computes *compute.Manager
	poolers  *pooler.Manager
}

var _ proxy.Backend = backend{}

func (b backend) Verifier(ctx context.Context, endpointID, role string) (scram.Verifier, error) {
	v, err := b.p.RoleVerifier(ctx, endpointID, role)
	return v, proxyErr(endpointID, err)
}

func (b backend) Connect(ctx context.Context, endpointID string, pooled bool) (string, error) {
	if pooled && b.poolers == nil {
		// Refused rather than silently unpooled.
		return "", &proxy.UserError{Code: "0A000", Message: "connection pooling is not available on this Grove (PgBouncer is not installed); connect to the endpoint host without -pooler"}
	}
	sock, err := b.p.Connect(ctx, endpointID)
	if err != nil || !pooled {
		return sock, proxyErr(endpointID, err)
	}
	// The compute is awake: put its pooler in front of it.
	in, ok := b.computes.Get(endpointID)
	if !ok {
		return "", &proxy.UserError{Code: "57P03", Message: "the compute for endpoint " + endpointID + " stopped while connecting; retry in a moment"}
	}
	ps, err := b.poolers.Ensure(ctx, pooler.Target{ID: endpointID, SocketDir: filepath.Dir(sock),
		MaxConnections: in.Settings().MaxConnections, User: in.User()})
	if err != nil {
		return "", &proxy.UserError{Code: "57P03", Message: "could not start the connection pooler for endpoint " + endpointID + "; retry in a moment", Err: err}
	}
	return ps, nil
}

func (b backend) ConnOpened(endpointID string) { b.p.ConnOpened(endpointID) }

func (b backend) ConnClosed(endpointID string, bytesIn, bytesOut int64) {
	b.p.ConnClosed(endpointID)
}

func proxyErr(endpointID string, err error) error {
	var qe *usage.QuotaError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, platform.ErrUnknownEndpoint):
		return fmt.Errorf("%w: %s", proxy.ErrUnknownEndpoint, endpointID)
	case errors.Is(err, platform.ErrUnknownRole):
		return fmt.Errorf("%w: %v", proxy.ErrUnknownRole, err)
	case errors.As(err, &qe): // a project quota (platform/quota.go), in Neon's words
		return &proxy.UserError{Code: "53400", Message: qe.Error(), Err: err}
	case errors.Is(err, platform.ErrEndpointDisabled):
		return &proxy.UserError{Code: "57P03", Message: "endpoint " + endpointID + " is disabled", Err: err}
	default:
		return &proxy.UserError{Code: "57P03", Message: "could not start the compute for endpoint " + endpointID + "; retry in a moment", Err: err}
	}
}
