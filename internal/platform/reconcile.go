package platform

import (
	"context"
	"fmt"
)

// Reconcile makes what is on disk and running agree with the metadata store
// after a start: operations a crash left running are failed, deletions a
// crash interrupted are finished, and volumes and processes no live branch
// owns (a project create cut short before its commit) are removed, and
// the computes an earlier Grove left running are adopted when they are
// what their endpoint would run now (adopt.go), else stopped.
func (p *Platform) Reconcile(ctx context.Context) error {
	n, err := p.store.FailUnfinishedOperations(ctx, "interrupted by a restart of grove")
	if err != nil {
		return fmt.Errorf("reconcile: %w", err)
	}
	if n > 0 {
		p.log.Info("reconcile: failed operations left running by a crash", "count", n)
	}
	deleted, err := p.store.DeletedProjects(ctx)
	if err != nil {
		return fmt.Errorf("reconcile: %w", err)
	}
	for _, id := range deleted {
		if err := p.purge(ctx, id); err != nil {
			return fmt.Errorf("reconcile: finish deleting project %s: %w", id, err)
		}
	}
	live, err := p.store.LiveVolumes(ctx)
	if err != nil {
		return fmt.Errorf("reconcile: %w", err)
	}
	if err := p.cfg.Computes.Reconcile(ctx, func(v string) bool { return live[v] }, p.adoptable); err != nil {
		return fmt.Errorf("reconcile: %w", err)
	}
	return nil
}
