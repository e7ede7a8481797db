package compute

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/grovedb/grove/internal/pgrun"
	"github.com/grovedb/grove/internal/storage"
)

// Reconcile runs once at start, before Run: it stops postmasters an
// earlier Grove left running on any volume and deletes every volume that
// is not a template and that keep rejects (untaken pool volumes were never
// recorded, so keep rejects them too). Volumes of computes this manager
// runs are left alone, as are stale socket folders of other ids removed.
func (m *Manager) Reconcile(ctx context.Context, keep func(volumeID string) bool) error {
	vols, err := m.cfg.Volumes.List(ctx)
	if err != nil {
		return fmt.Errorf("reconcile: list volumes: %w", err)
	}
	inUse, ids := map[string]bool{}, map[string]bool{}
	m.mu.Lock()
	for _, in := range m.byID {
		inUse[in.volumeID], ids[in.id] = true, true
	}
	for _, p := range m.pool {
		for _, in := range p {
			inUse[in.volumeID], ids[in.id] = true, true
		}
	}
	for in := range m.warming {
		inUse[in.volumeID], ids[in.id] = true, true
	}
	m.mu.Unlock()
	var errs []error
	for _, v := range vols {
		if inUse[v] {
			continue
		}
		if err := pgrun.StopStale(ctx, m.cfg.Volumes.Path(v)); err != nil {
			errs = append(errs, fmt.Errorf("reconcile: stop stale postgres on %s: %w", v, err))
			continue
		}
		if isTemplate(v) || (keep != nil && keep(v)) || (m.cfg.Archive != nil && m.cfg.Archive.Owns(v)) {
			continue
		}
		if err := m.cfg.Volumes.Delete(ctx, v); err != nil && !errors.Is(err, storage.ErrNotFound) {
			errs = append(errs, fmt.Errorf("reconcile: delete %s: %w", v, err))
			continue
		}
		if m.cfg.Archive != nil {
			if err := m.cfg.Archive.Forget(ctx, v); err != nil {
				errs = append(errs, fmt.Errorf("reconcile: forget the history of %s: %w", v, err))
			}
		}
		m.log.Info("reconcile: deleted volume", "volume", v)
	}
	entries, err := os.ReadDir(m.cfg.RunDir)
	if err == nil {
		for _, e := range entries {
			if !ids[e.Name()] {
				_ = os.RemoveAll(filepath.Join(m.cfg.RunDir, e.Name()))
			}
		}
	}
	return errors.Join(errs...)
}
