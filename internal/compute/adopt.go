package compute

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/grovedb/grove/internal/cgroup"
	"github.com/grovedb/grove/internal/pgconf"
	"github.com/grovedb/grove/internal/pgrun"
	"github.com/grovedb/grove/internal/storage"
)

// Adoption.
//
// Servers are processes of their own, with their state on disk: a Grove
// that was killed, or that left them running on purpose (Leave), leaves
// them serving nothing. Reconcile adopts each one that still is what this
// manager would run for its endpoint now, instead of stopping every one
// and cold-starting them one by one at their next connection:
//
//   - its socket folder is the endpoint's (<RunDir>/<id>, found through
//     the socket's lock file, which names the data directory and moves
//     with the folder when a warm instance is taken), and the metadata
//     (Reconcile's expect) says that endpoint runs on that volume;
//   - its grove.conf is byte for byte what the manager writes for that
//     endpoint at some size of its range (its current size, which the
//     autoscaler had set: the manager takes it over);
//   - it runs the endpoint's major's postgres, as the volume's OS identity,
//     in the volume's cgroup (with cgroups), is ready, answers Grove's
//     superuser on the socket, and is not in recovery. Standbys (read
//     replicas) are not adopted: they start again on a fresh copy.
//
// An adopted compute keeps its postmaster (same pid) and is supervised as
// any other: pgrun watches it through a pidfd, and a crash is restarted by
// the RestartPolicy with a server of this manager's. Its idle timer starts
// at the adoption; its stderr stays the log file it was given at its start.
// Every other server left running is stopped in the background, in
// parallel, while the API and the proxy already answer: a wake of its
// endpoint meanwhile waits for that stop (startRetry) and starts afresh.

// EventAdopted: a compute an earlier Grove left running was taken over.
const EventAdopted EventKind = "adopted"

// maxParallelAdopts bounds the adoptions, and the stops of servers not
// adopted, that run at once.
const maxParallelAdopts = 8

// socketLock is the lock file Postgres keeps beside its socket: the
// postmaster's pid, then its data directory.
const socketLock = ".s.PGSQL.5432.lock"

// socketOwner is the compute whose socket folder a server's socket is in.
type socketOwner struct {
	id  string
	pid int // the postmaster's, from the lock file
}

// socketOwners maps the data directory of each server with a socket in
// RunDir to the compute id its folder is named after.
func (m *Manager) socketOwners() map[string]socketOwner {
	out := map[string]socketOwner{}
	entries, err := os.ReadDir(m.cfg.RunDir)
	if err != nil {
		return out
	}
	for _, e := range entries {
		if !idPattern.MatchString(e.Name()) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(m.cfg.RunDir, e.Name(), socketLock))
		if err != nil {
			continue
		}
		lines := strings.SplitN(string(b), "\n", 3)
		if len(lines) < 2 {
			continue
		}
		pid, _ := strconv.Atoi(strings.TrimSpace(lines[0]))
		out[filepath.Clean(lines[1])] = socketOwner{id: e.Name(), pid: pid}
	}
	return out
}

// adoptInto takes over the server running on spec.VolumeID as compute
// spec.ID, whose placeholder in is, or says why it does not qualify (see
// Adoption); the server then stays running.
func (m *Manager) adoptInto(ctx context.Context, in *Instance, spec Spec) error {
	if err := spec.validate(true); err != nil {
		return err
	}
	if spec.Standby != nil {
		// Its limits follow the primary's at its launch: it restarts on a
		// fresh copy instead.
		return fmt.Errorf("compute %s: a standby is not adopted", spec.ID)
	}
	install, err := m.install(spec.Major)
	if err != nil {
		return err
	}
	spec.Major = install.Major
	dataDir := m.cfg.Volumes.Path(spec.VolumeID)
	user, err := m.runningIdentity(dataDir)
	if err != nil {
		return err
	}
	cu, settings, err := m.runningSize(dataDir, spec)
	if err != nil {
		return err
	}
	var recovering bool
	srv, err := pgrun.Adopt(ctx, pgrun.Options{Install: install, User: user, DataDir: dataDir, SocketDir: m.sockDir(spec.ID)},
		func(ctx context.Context, conn *pgx.Conn) error {
			return conn.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&recovering)
		})
	if err != nil {
		return err
	}
	if recovering {
		return fmt.Errorf("compute %s: in recovery", spec.ID)
	}
	var g cgroup.Group
	if m.cfg.Cgroups != nil {
		if g, err = m.cfg.Cgroups.Group(spec.VolumeID); err != nil {
			return fmt.Errorf("compute %s: cgroup: %w", spec.ID, err)
		}
		procs, err := g.Procs()
		if err != nil || !slices.Contains(procs, srv.Pid()) {
			return fmt.Errorf("compute %s: postmaster %d is not in its cgroup %s (%v)", spec.ID, srv.Pid(), g.Name(), err)
		}
		// Children forked while it was moved in are not yet.
		err = m.adopt(g, srv.Pid())
		if err == nil {
			err = g.SetLimits(m.limitsFor(cu))
		}
		if err != nil {
			m.log.Warn("adopted compute's cgroup limits not applied", "compute", spec.ID, "err", err)
		}
	}
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	in.mu.Lock()
	defer in.mu.Unlock()
	if m.closed || in.stopping || m.byID[spec.ID] != in {
		return fmt.Errorf("adopt compute %s: %w", spec.ID, ErrClosed)
	}
	in.install, in.spec, in.settings = install, spec, settings
	in.user, in.srv, in.cgroup, in.cu = user, srv, g, cu
	in.startedAt, in.idleSince = now, now
	in.setState(StateActive, nil)
	m.superviseLocked(in)
	return nil
}

// runningIdentity is the OS identity a server on dataDir must run as to
// be adopted: the volume's owner when it is one of the computes'.
func (m *Manager) runningIdentity(dataDir string) (pgrun.User, error) {
	if m.cfg.Identities == nil {
		return m.cfg.User, nil
	}
	owner, err := pgrun.OwnerOf(dataDir)
	if err != nil {
		return pgrun.User{}, fmt.Errorf("identity of %s: %w", dataDir, err)
	}
	if !m.cfg.Identities.Contains(owner.UID) {
		return pgrun.User{}, fmt.Errorf("%s: owner %d is no compute identity", dataDir, owner.UID)
	}
	return owner, nil
}

// runningSize finds the size at which the manager would have written the
// grove.conf in dataDir for spec: its start size (the range's, at its
// minimum), or one the autoscaler set (sizeAt, at a step of the range).
func (m *Manager) runningSize(dataDir string, spec Spec) (float64, pgconf.Settings, error) {
	got, err := os.ReadFile(filepath.Join(dataDir, confFile))
	if err != nil {
		return 0, pgconf.Settings{}, fmt.Errorf("compute %s: %w", spec.ID, err)
	}
	lo, hi := specRange(spec)
	if s := m.size(spec); bytes.Equal(got, pgconf.Render(s)) {
		return lo, s, nil
	}
	for _, cu := range sizeSteps(lo, hi) {
		if s := m.sizeAt(spec, cu); bytes.Equal(got, pgconf.Render(s)) {
			return cu, s, nil
		}
	}
	return 0, pgconf.Settings{}, fmt.Errorf("compute %s: %s is not what this Grove writes for %v–%v CU", spec.ID, confFile, lo, hi)
}

// sizeSteps are the sizes a compute of range lo–hi can be set to: the
// bounds and Neon's sizes between them (0.25, 0.5, then whole CUs).
func sizeSteps(lo, hi float64) []float64 {
	out := []float64{lo, hi}
	for _, s := range []float64{0.25, 0.5} {
		if s > lo && s < hi {
			out = append(out, s)
		}
	}
	for s := 1.0; s < hi; s++ {
		if s > lo {
			out = append(out, s)
		}
	}
	return out
}

// adoptAll adopts, in the background and in parallel, the server on each
// volume of places (volume → the placeholder of the compute whose socket
// folder it serves, registered in StateStarting; a Start of it runs its
// adoption at once, ahead of the others, or waits for it).
// A server expect does not want, or that does not qualify, is stopped
// (unless the manager Leaves) and its volume deleted when drop accepts it;
// its placeholder fails, so that a Start waiting on it starts afresh.
// The servers of left, not adopted at all, are stopped with them, once
// the adoptions are done: those come first.
func (m *Manager) adoptAll(places map[string]*Instance, left []leftServer, expect Expect, drop func(vol string) bool) {
	var mu sync.Mutex
	n := 0
	adopt := func(vol string, in *Instance) {
		defer func() {
			m.mu.Lock()
			delete(m.adopting, in)
			m.mu.Unlock()
		}()
		ctx, cancel := context.WithTimeout(m.life, 10*time.Second)
		defer cancel()
		spec, ok := expect(ctx, in.id)
		var err error
		switch {
		case !ok || spec.ID != in.id || spec.VolumeID != vol:
			err = errors.New("its endpoint runs no compute on this volume")
		default:
			err = m.adoptInto(ctx, in, spec)
		}
		if err == nil {
			m.emit(Event{Kind: EventAdopted, ID: in.id, VolumeID: vol})
			mu.Lock()
			n++
			mu.Unlock()
			return
		}
		m.log.Info("reconcile: not adopted; stopping it", "compute", in.id, "volume", vol, "reason", err)
		m.mu.Lock()
		if m.byID[in.id] == in {
			delete(m.byID, in.id)
		}
		m.mu.Unlock()
		in.mu.Lock()
		in.setState(StateFailed, fmt.Errorf("not adopted: %w", err))
		in.mu.Unlock()
		mu.Lock()
		left = append(left, leftServer{dir: in.dataDir, pid: pgrun.Running(in.dataDir), vol: vol})
		mu.Unlock()
	}
	runs := map[string]func(){}
	m.mu.Lock()
	for vol, in := range places {
		runs[vol] = sync.OnceFunc(func() { adopt(vol, in) })
		m.adopting[in] = runs[vol]
	}
	m.mu.Unlock()
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		var wg sync.WaitGroup
		sem := make(chan struct{}, maxParallelAdopts)
		for _, run := range runs {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				run() // done already when a Start of it came first
			}()
		}
		wg.Wait()
		if len(places) > 0 {
			m.log.Info("reconcile: adopted the computes an earlier Grove left running", "adopted", n, "not_adopted", len(left))
		}
		m.stopLeft(left, drop)
	}()
}

// leftServer is a server found running that is not adopted.
type leftServer struct {
	dir string // its data directory
	pid int    // its postmaster (a later one on dir is left alone)
	vol string // its volume, "" for a data directory deleted under it
}

// stopLeft stops, in parallel, the servers found running that were not
// adopted, then deletes each volume drop accepts. It runs in the
// background, owned by the manager.
func (m *Manager) stopLeft(left []leftServer, drop func(vol string) bool) {
	select {
	case <-m.leaving: // they stay for the next Grove, as the adopted ones do
		return
	default:
	}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		var wg sync.WaitGroup
		sem := make(chan struct{}, maxParallelAdopts)
		for _, l := range left {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				if err := pgrun.StopPid(m.life, l.dir, l.pid); err != nil {
					m.log.Warn("reconcile: stop a server left running", "dir", l.dir, "pid", l.pid, "err", err)
					return
				}
				m.log.Info("reconcile: stopped a server left running", "dir", l.dir, "pid", l.pid)
				if l.vol != "" && drop(l.vol) {
					m.deleteUnowned(m.life, l.vol)
				}
			}()
		}
		wg.Wait()
	}()
}

// deleteUnowned deletes a volume nothing records, and its history.
func (m *Manager) deleteUnowned(ctx context.Context, v string) {
	if err := m.cfg.Volumes.Delete(ctx, v); err != nil && !errors.Is(err, storage.ErrNotFound) {
		m.log.Warn("reconcile: delete volume", "volume", v, "err", err)
		return
	}
	if m.cfg.Archive != nil {
		if err := m.cfg.Archive.Forget(ctx, v); err != nil {
			m.log.Warn("reconcile: forget the history of a volume", "volume", v, "err", err)
		}
	}
	m.log.Info("reconcile: deleted volume", "volume", v)
}

// Leave ends the manager for a Grove that exits so that the next one
// adopts its computes (an upgrade): the running computes keep running,
// unsupervised until then; warm instances are stopped and their volumes
// deleted (nothing records them, and a warm instance is quick to make
// again); starts and restarts under way are abandoned, their volumes
// left for the next start. It waits for the manager's goroutines.
func (m *Manager) Leave(ctx context.Context) error {
	n := len(m.List())
	err := m.shut(ctx, true)
	if n > 0 {
		m.log.Info("computes left running for the next Grove to adopt", "count", n)
	}
	return err
}
