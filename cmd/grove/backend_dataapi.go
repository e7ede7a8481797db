package main

import (
	"context"
	"errors"

	"github.com/grovedb/grove/internal/dataapispec"
)

// DataAPI returns what the data plane needs to serve a database's Data API
// on an endpoint (answered from the platform's memory in the common case).
// Not enabled is an error wrapping dataapispec.ErrNotEnabled; the others
// are the proxy's, as for a login.
func (b backend) DataAPI(ctx context.Context, endpointID, database string) (dataapispec.Served, error) {
	sv, err := b.p.DataAPIFor(ctx, endpointID, database)
	if err != nil && !errors.Is(err, dataapispec.ErrNotEnabled) {
		err = proxyErr(endpointID, err)
	}
	return sv, err
}
