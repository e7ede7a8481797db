package platform

import (
	"context"
	"time"

	"github.com/grovedb/grove/internal/compute"
)

// DefaultSizeInterval is how often RunSizes measures running computes.
const DefaultSizeInterval = 30 * time.Second

// logicalSizeSQL sums the databases a user sees: Grove's spare database and
// the templates are not the branch's data.
const logicalSizeSQL = `SELECT coalesce(sum(pg_database_size(oid)), 0)::bigint FROM pg_database
	WHERE datname NOT IN ('template0', 'template1', 'grove_spare')`

// RunSizes records the logical size of every running read-write compute's
// branch every interval (DefaultSizeInterval when zero), so that a branch
// reports its size while suspended and no API call has to wake or even
// query a compute for it.
func (p *Platform) RunSizes(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = DefaultSizeInterval
	}
	p.eachRunning(ctx, interval, p.measure)
}

// eachRunning calls f with every compute the manager holds, every
// interval, until ctx ends.
func (p *Platform) eachRunning(ctx context.Context, interval time.Duration, f func(context.Context, *compute.Instance)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, in := range p.cfg.Computes.List() {
			if ctx.Err() != nil {
				return
			}
			f(ctx, in)
		}
	}
}

// measure records in's logical size on the branch owning its volume; a
// compute that is not active, or a read replica (whose volume no branch
// owns), records nothing.
func (p *Platform) measure(ctx context.Context, in *compute.Instance) {
	if in.State() != compute.StateActive {
		return
	}
	size, err := queryInt64(ctx, in, logicalSizeSQL)
	if err != nil {
		p.log.Debug("measure logical size", "compute", in.ID(), "err", err)
		return
	}
	if err := p.store.SetLogicalSize(ctx, in.VolumeID(), size); err != nil {
		p.log.Warn("record logical size", "compute", in.ID(), "err", err)
	}
}

// queryInt64 runs a query of one number on a running compute, as the
// superuser, on a connection of its own that no client counts.
func queryInt64(ctx context.Context, in *compute.Instance, sql string) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := in.Conn(ctx, "postgres")
	if err != nil {
		return 0, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var n int64
	err = conn.QueryRow(ctx, sql).Scan(&n)
	return n, err
}
