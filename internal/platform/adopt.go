package platform

import (
	"context"

	"github.com/grovedb/grove/internal/compute"
)

// adoptable is the compute manager's Reconcile expectation
// (compute.Expect): the spec a server an earlier Grove left running for
// endpoint id must match to be adopted, as a wake would start it now. A
// deleted endpoint or project, a disabled endpoint, a branch whose roles
// and databases are still to be applied (a start applies them) and a read
// replica (restarted on a fresh copy) have none: their servers are stopped.
func (p *Platform) adoptable(ctx context.Context, id string) (compute.Spec, bool) {
	r, err := p.store.GetEndpointRoute(ctx, id)
	if err != nil || r.Endpoint.Disabled || r.SetupPending || r.Endpoint.Type != "read_write" {
		return compute.Spec{}, false
	}
	return p.spec(r.Endpoint, r.VolumeID, r.PGVersion), true
}
