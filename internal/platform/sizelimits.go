package platform

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/grovedb/grove/internal/compute"
	"github.com/grovedb/grove/internal/computesql"
	"github.com/grovedb/grove/internal/sizelimit"
)

// Intervals between two measurements of a compute whose project has a
// size limit: past half of it (or over it) a write burst has less room.
const (
	limitedSampleInterval = 5 * time.Second
	nearLimitInterval     = 2 * time.Second
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
// limit: over it, writes are refused in every database (sizelimit.Apply,
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
		return nextSample(limit, size, every)
	}
	if err := p.eachDatabase(ctx, in, func(conn *pgx.Conn) error {
		if over {
			return sizelimit.Apply(ctx, conn, limit)
		}
		return sizelimit.Lift(ctx, conn)
	}); err != nil {
		p.log.Warn("size limit", "compute", in.ID(), "over", over, "err", err)
		return nearLimitInterval // tried again soon
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
	return nextSample(limit, size, every)
}

// nextSample is how long to wait before measuring a branch of size
// against its limit again (0: none), every at most.
func nextSample(limit, size int64, every time.Duration) time.Duration {
	switch {
	case limit == 0:
		return every
	case size >= limit/2:
		return min(every, nearLimitInterval)
	default:
		return min(every, limitedSampleInterval)
	}
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

// eachDatabase runs f on an admin connection to each database of in that
// accepts connections.
func (p *Platform) eachDatabase(ctx context.Context, in *compute.Instance, f func(*pgx.Conn) error) error {
	conn, err := in.Conn(ctx, "postgres")
	if err != nil {
		return err
	}
	rows, err := conn.Query(ctx, computesql.ConnectableDatabases)
	var dbs []string
	if err == nil {
		dbs, err = pgx.CollectRows(rows, pgx.RowTo[string])
	}
	if err == nil {
		err = f(conn)
	}
	conn.Close(context.WithoutCancel(ctx))
	if err != nil {
		return err
	}
	for _, db := range dbs {
		if db == "postgres" {
			continue
		}
		c, err := in.Conn(ctx, db)
		if err != nil {
			return err
		}
		err = f(c)
		c.Close(context.WithoutCancel(ctx))
		if err != nil {
			return err
		}
	}
	return nil
}
