package compute

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/grovedb/grove/internal/pgrun"
	"github.com/grovedb/grove/internal/pgversion"
)

// Expect says which compute should run on a volume found with a server:
// given the id of the compute whose socket folder serves it, the spec the
// platform would start that endpoint with now, and false when none should
// run (a deleted endpoint, a warm instance of an earlier run).
type Expect func(ctx context.Context, id string) (Spec, bool)

// Reconcile runs once at start, before Run. It adopts the servers an
// earlier Grove left running that are what expect says should run there
// (adopt.go), and stops the others, both in the background: until its
// adoption ends, such a compute is registered as starting, and a Start of
// it waits. It deletes every
// volume that is not a template, the archiver's, or one keep accepts, and
// that no adopted compute runs on (untaken pool volumes were never
// recorded, so keep rejects them too): at once when no server runs on it,
// else once its server stopped. Volumes of
// computes this manager runs are left alone, as are their socket folders;
// other socket folders are removed. A nil expect adopts nothing.
func (m *Manager) Reconcile(ctx context.Context, keep func(volumeID string) bool, expect Expect) error {
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
	drop := func(v string) bool {
		return !isTemplate(v) && (keep == nil || !keep(v)) && (m.cfg.Archive == nil || !m.cfg.Archive.Owns(v))
	}
	owners := m.socketOwners()
	places := map[string]*Instance{}
	var left []leftServer
	listed := map[string]bool{}
	for _, v := range vols {
		dir := filepath.Clean(m.cfg.Volumes.Path(v))
		listed[dir] = true
		if inUse[v] {
			continue
		}
		pid := pgrun.Running(dir)
		if pid == 0 {
			if drop(v) {
				m.deleteUnowned(ctx, v)
			}
			continue
		}
		if o, ok := owners[dir]; ok && expect != nil && !ids[o.id] && !strings.HasPrefix(o.id, warmPrefix) {
			// A placeholder until adopted, so that a Start of the endpoint
			// meanwhile waits for the adoption instead of stopping it.
			in := m.newInstance(o.id, Spec{}, v, pgversion.Install{})
			places[v], ids[o.id] = in, true
			continue
		}
		left = append(left, leftServer{dir: dir, pid: pid, vol: v})
	}
	// A server whose volume was deleted under it (a project's deletion
	// finished at this start) is found by its socket alone.
	for dir, o := range owners {
		if !listed[dir] && o.pid > 1 {
			left = append(left, leftServer{dir: dir, pid: o.pid})
		}
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return ErrClosed
	}
	for _, in := range places {
		m.byID[in.id] = in
	}
	m.mu.Unlock()
	if entries, err := os.ReadDir(m.cfg.RunDir); err == nil {
		for _, e := range entries {
			if !ids[e.Name()] {
				_ = os.RemoveAll(filepath.Join(m.cfg.RunDir, e.Name()))
			}
		}
	}
	if len(left) > 0 || len(places) > 0 {
		m.log.Info("reconcile: servers left running by an earlier Grove", "adopting", len(places), "stopping", len(left))
	}
	m.adoptAll(places, left, expect, drop)
	return nil
}
