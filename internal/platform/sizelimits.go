package platform

import (
	"context"
	"time"

	"github.com/grovedb/grove/internal/compute"
	"github.com/grovedb/grove/internal/sizelimit"
)

// computeSizeLimit is the size limit of the branch a compute runs.
func (p *Platform) computeSizeLimit(ctx context.Context, in *compute.Instance) (int64, error) {
	owners, err := p.endpointOwners(ctx, []string{in.ID()})
	if err != nil {
		return 0, err
	}
	o, ok := owners[in.ID()]
	if !ok {
		return 0, nil // a warm instance, or one deleted meanwhile
	}
	name, err := p.store.ProjectPlan(ctx, o.ProjectID)
	if err != nil {
		return 0, err
	}
	pl, err := p.plan(ctx, name)
	if err != nil {
		return 0, err
	}
	return pl.StorageQuotaBytes, nil
}

// holdSizeLimit holds a running compute measured at size to its branch's
// limit: over it, writes are refused in every database (sizelimit.Hold,
// again at each measurement, so that tables and databases made since are
// covered); back under it, they are allowed again. Entering and leaving
// are logged once each. It returns when the compute should be measured
// next.
func (p *Platform) holdSizeLimit(ctx context.Context, in *compute.Instance, size int64, every time.Duration) time.Duration {
	limit, err := p.computeSizeLimit(ctx, in)
	if err != nil {
		p.log.Debug("size limit", "compute", in.ID(), "err", err)
		return every
	}
	vol := in.VolumeID()
	p.usage.mu.Lock()
	if p.usage.limited == nil {
		p.usage.limited = map[string]bool{}
	}
	was, known := p.usage.limited[vol]
	p.usage.mu.Unlock()
	over := limit > 0 && size >= limit
	// A volume first seen (since Grove started) may hold the guard of an
	// earlier run: Lift looks before it removes anything.
	if !over && !was && known {
		return sizelimit.NextSample(limit, size, every)
	}
	if err := sizelimit.Hold(ctx, in, limit, over); err != nil {
		p.log.Warn("size limit", "compute", in.ID(), "over", over, "err", err)
		return sizelimit.NearInterval // tried again soon
	}
	p.usage.mu.Lock()
	p.usage.limited[vol] = over
	p.usage.mu.Unlock()
	switch {
	case over && !was:
		p.log.Warn("branch over its size limit: writes refused", "compute", in.ID(), "volume", vol, "size", size, "limit", limit)
	case !over && was:
		p.log.Info("branch back under its size limit: writes allowed", "compute", in.ID(), "volume", vol, "size", size, "limit", limit)
	}
	return sizelimit.NextSample(limit, size, every)
}

// BranchesOverSizeLimit is the number of running branches whose writes
// are refused for their size (a metric).
func (p *Platform) BranchesOverSizeLimit() int {
	running := p.cfg.Computes.List()
	p.usage.mu.Lock()
	defer p.usage.mu.Unlock()
	n := 0
	for _, in := range running {
		if p.usage.limited[in.VolumeID()] {
			n++
		}
	}
	return n
}
