package platform

import (
	"context"
	"sync"
)

// Run runs the platform's background work until ctx ends, and returns once
// all of it has stopped: the scheduled work (expiry and scheduled
// snapshots), the samples of running computes and, with metering, the
// meter and the quotas' first check. The meter's last flush happens before
// Run returns, so the store must outlive it.
func (p *Platform) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() { p.runSchedules(ctx) })
	wg.Go(func() { p.RunSamples(ctx, p.cfg.SampleInterval) })
	if m := p.meter(); m != nil {
		wg.Go(func() { p.EnforceQuotas(ctx) })
		wg.Go(func() { m.Run(ctx) })
	}
	wg.Wait()
	return nil
}
