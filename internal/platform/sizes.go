package platform

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/grovedb/grove/internal/compute"
	"github.com/grovedb/grove/internal/computesql"
	"github.com/grovedb/grove/internal/sizelimit"
)

// DefaultSampleInterval is how often RunSamples reads running computes.
const DefaultSampleInterval = 30 * time.Second

// RunSamples reads every running read-write compute every interval
// (DefaultSampleInterval when zero) on one connection: its logical size,
// recorded on its branch so that a branch reports it while suspended and
// no API call has to wake or even query a compute for it, and its WAL
// position, whose growth is metered as written data. A volume's first
// position after Grove starts is only a baseline; a position carries over
// a suspend, so WAL written after the last sample is booked at the next
// wake. A compute whose branch has a size limit is read every few seconds
// and held to it (sizelimits.go).
func (p *Platform) RunSamples(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = DefaultSampleInterval
	}
	t := time.NewTicker(min(interval, time.Second))
	defer t.Stop()
	due := map[string]time.Time{} // compute → its next reading
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := time.Now()
		seen := map[string]bool{}
		for _, in := range p.cfg.Computes.List() {
			if ctx.Err() != nil {
				return
			}
			seen[in.ID()] = true
			next, ok := due[in.ID()]
			if !ok {
				// First seen: read within a few seconds, then on its own schedule.
				due[in.ID()] = now.Add(min(interval, sizelimit.LimitedInterval))
				continue
			}
			if now.Before(next) {
				continue
			}
			due[in.ID()] = time.Now().Add(p.sample(ctx, in, interval))
		}
		for id := range due {
			if !seen[id] {
				delete(due, id)
			}
		}
	}
}

// measure records a running compute's logical size before it suspends.
func (p *Platform) measure(ctx context.Context, in *compute.Instance) {
	p.sample(ctx, in, DefaultSampleInterval)
}

// sample reads in's logical size and WAL position and records them, and
// holds in to its size limit; a compute that is not active, or a read
// replica (whose volume no branch owns and whose WAL is its primary's),
// records nothing. It returns when to read in again, every at most.
func (p *Platform) sample(ctx context.Context, in *compute.Instance, every time.Duration) time.Duration {
	if in.State() != compute.StateActive || in.Spec().ReadOnly {
		return every
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var size, pos int64
	err := in.Admin(ctx, func(conn *pgx.Conn) error {
		return conn.QueryRow(ctx, computesql.Sample).Scan(&size, &pos)
	})
	if err != nil {
		p.log.Debug("sample compute", "compute", in.ID(), "err", err)
		return every
	}
	vol := in.VolumeID()
	p.usage.mu.Lock()
	if p.usage.lsn == nil {
		p.usage.lsn, p.usage.size = map[string]int64{}, map[string]int64{}
	}
	last, seen := p.usage.lsn[vol]
	p.usage.lsn[vol] = pos
	lastSize, sized := p.usage.size[vol]
	p.usage.size[vol] = size
	m := p.usage.meter
	p.usage.mu.Unlock()
	if m != nil && seen && pos > last {
		m.AddWritten(in.ID(), time.Now(), pos-last)
	}
	if !sized || size != lastSize { // an idle branch's size is not written again
		if err := p.store.SetLogicalSize(ctx, vol, size); err != nil {
			p.log.Warn("record logical size", "compute", in.ID(), "err", err)
		}
	}
	return p.holdSizeLimit(ctx, in, size, every)
}
