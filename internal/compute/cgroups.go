package compute

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/grovedb/grove/internal/cgroup"
	"github.com/grovedb/grove/internal/pgconf"
)

// Cgroups and current size.
//
// With Config.Cgroups set, every server runs in a control group named after
// its volume (stable while a warm instance is renamed at Take). launch moves
// the postmaster and the children it forked before readiness into it right
// after the start; later children are born in it. stop deletes the group.
//
// A compute's current size (its CU, between its spec's MinCU and MaxCU)
// sets the group's limits: CU CPUs of quota and CU × CUMemoryBytes of
// memory. A compute starts at its minimum, as a Neon endpoint does; warm
// instances run at their maximum, so that a Take's set-up statements are
// not throttled, until the autoscaler (internal/autoscale) sees the taken
// compute, within a second, and sets it to its minimum. SetCU changes the size live: the group's limits and the
// reloadable settings that follow the size (effective_cache_size, work_mem,
// maintenance_work_mem, parallel workers) by a reload, never a restart;
// the restart-only ones keep the sizes pgconf gives the min–max range.

// warmPrefix starts the ids of warm instances (pool.go).
const warmPrefix = "pool-"

// limitsFor are a group's limits at cu.
func (m *Manager) limitsFor(cu float64) cgroup.Limits {
	mem := m.cfg.CUMemoryBytes
	if mem <= 0 {
		mem = pgconf.DefaultCUMemoryBytes
	}
	return cgroup.Limits{CPUs: cu, MemoryBytes: int64(cu * float64(mem))}
}

// sizeAt is the settings of a compute of spec running at cu: those of its
// range, with the reloadable per-query settings of a compute of size cu.
func (m *Manager) sizeAt(spec Spec, cu float64) pgconf.Settings {
	s := m.size(spec)
	at := pgconf.Size(cu, cu, m.cfg.Host, m.cfg.CUMemoryBytes)
	s.EffectiveCacheSize = at.EffectiveCacheSize
	s.WorkMem = at.WorkMem
	s.MaintenanceWorkMem = at.MaintenanceWorkMem
	s.MaxParallelWorkers = min(at.MaxParallelWorkers, s.MaxParallelWorkers)
	s.MaxParallelWorkersPerGather = min(at.MaxParallelWorkersPerGather, s.MaxParallelWorkersPerGather)
	return s
}

func specRange(spec Spec) (lo, hi float64) {
	lo, hi = spec.MinCU, spec.MaxCU
	if lo <= 0 {
		lo = 0.25
	}
	if hi < lo {
		hi = lo
	}
	return lo, hi
}

// prepareCgroup makes the group of a server about to start, with the
// limits of the top of its range, so that the start itself is not
// throttled; enterCgroup moves the postmaster in as soon as it exists and
// settleCgroup gives the group the compute's starting size once the server
// is ready. A move blocks every fork on the host while it lasts (several
// milliseconds for the first one): made before the postmaster forks, it
// takes in every process the server will have, and it overlaps the server's
// start instead of following it. A failure leaves the compute running
// without limits, logged: enforcement is not worth an outage.
func (m *Manager) prepareCgroup(in *Instance) cgroup.Group {
	if m.cfg.Cgroups == nil {
		return nil
	}
	in.mu.Lock()
	_, hi := specRange(in.spec)
	id := in.id
	in.mu.Unlock()
	g, err := m.cfg.Cgroups.Group(in.volumeID)
	if err == nil {
		err = g.SetLimits(m.limitsFor(hi))
	}
	if err != nil {
		m.log.Warn("compute runs without cgroup limits", "compute", id, "err", err)
		if g != nil {
			_ = g.Delete()
		}
		return nil
	}
	return g
}

// enterCgroup moves a postmaster that has just been exec'd into g.
func (m *Manager) enterCgroup(g cgroup.Group, pid int) {
	if g == nil {
		return
	}
	if err := g.Add(pid); err != nil {
		m.log.Warn("move postmaster into its cgroup", "pid", pid, "err", err)
	}
}

// settleCgroup records g as the group of a ready server (postmaster pid)
// at the compute's starting size, moving in any child forked before the
// postmaster was.
func (m *Manager) settleCgroup(in *Instance, g cgroup.Group, pid int) {
	in.mu.Lock()
	lo, hi := specRange(in.spec)
	cu := lo
	if strings.HasPrefix(in.id, warmPrefix) {
		cu = hi
	}
	in.cu = cu
	id := in.id
	in.mu.Unlock()
	if g == nil {
		return
	}
	err := m.adopt(g, pid)
	if err == nil {
		err = g.SetLimits(m.limitsFor(cu))
	}
	if err != nil {
		// The group keeps what it holds until the stop deletes it.
		m.log.Warn("compute's cgroup limits not applied", "compute", id, "err", err)
	}
	in.mu.Lock()
	in.cgroup = g
	in.mu.Unlock()
}

// adopt makes sure pid and its children are in g: the postmaster moved at
// its exec normally is, and its children are born there.
func (m *Manager) adopt(g cgroup.Group, pid int) error {
	procs, err := g.Procs()
	if err != nil {
		return err
	}
	in := make(map[int]bool, len(procs))
	for _, p := range procs {
		in[p] = true
	}
	if !in[pid] {
		return cgroup.AddTree(g, pid)
	}
	for _, c := range cgroup.Children(pid) {
		if !in[c] {
			return cgroup.AddTree(g, pid)
		}
	}
	return nil
}

// releaseCgroup deletes the group of a stopped server.
func (m *Manager) releaseCgroup(in *Instance) {
	in.mu.Lock()
	g := in.cgroup
	in.cgroup = nil
	id := in.id
	in.mu.Unlock()
	if g == nil {
		return
	}
	if err := g.Delete(); err != nil {
		m.log.Warn("delete compute cgroup", "compute", id, "err", err)
	}
}

// CU is the compute's current size in Compute Units.
func (in *Instance) CU() float64 {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.cu
}

// Limited reports whether the compute runs in a cgroup with its size's limits.
func (in *Instance) Limited() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.cgroup != nil
}

// SetCU resizes a running compute to cu (clamped to its spec's range)
// live: cgroup limits, then the reloadable settings by a reload. It never
// restarts the server.
func (m *Manager) SetCU(ctx context.Context, id string, cu float64) error {
	in, ok := m.Get(id)
	if !ok || in.State() != StateActive {
		return fmt.Errorf("set size of compute %s: %w", id, ErrNotRunning)
	}
	in.mu.Lock()
	lo, hi := specRange(in.spec)
	cu = min(max(cu, lo), hi)
	spec, g := in.spec, in.cgroup
	in.mu.Unlock()
	if g != nil {
		// Fails without a change when the memory in use exceeds a smaller
		// limit and cannot be reclaimed: the size stays.
		if err := g.SetLimits(m.limitsFor(cu)); err != nil {
			return fmt.Errorf("set size of compute %s to %v CU: %w", id, cu, err)
		}
	}
	in.mu.Lock()
	in.cu = cu
	in.mu.Unlock()
	var errs []error
	want := m.sizeAt(spec, cu)
	if cur := in.Settings(); !pgconf.Equal(cur, want) {
		if pgconf.NeedsRestart(cur, want) {
			// A Resize is restarting it; that start applies the size.
			errs = append(errs, fmt.Errorf("settings of %v CU need a restart", cu))
		} else if err := m.resize(ctx, in, want); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("set size of compute %s to %v CU: %w", id, cu, err)
	}
	return nil
}

// applyRange brings the current size into a new range after a Resize. A
// failure is logged, not returned: the resize itself succeeded, and the
// autoscaler applies the size again at its next sample.
func (m *Manager) applyRange(ctx context.Context, in *Instance) {
	if in.State() != StateActive {
		return
	}
	if err := m.SetCU(ctx, in.ID(), in.CU()); err != nil {
		m.log.Warn("apply size after resize", "compute", in.ID(), "err", err)
	}
}

// Scalable is a running compute the autoscaler may resize.
type Scalable struct {
	ID           string
	MinCU, MaxCU float64
	CU           float64 // current size
	StartedAt    time.Time
	Conns        int // client connections the proxy reported
}

// Scalable lists the active computes (warm ones excluded).
func (m *Manager) Scalable() []Scalable {
	var out []Scalable
	for _, in := range m.List() {
		in.mu.Lock()
		if in.state == StateActive && in.srv != nil {
			lo, hi := specRange(in.spec)
			out = append(out, Scalable{ID: in.id, MinCU: lo, MaxCU: hi, CU: in.cu, StartedAt: in.startedAt, Conns: in.conns})
		}
		in.mu.Unlock()
	}
	return out
}

// Measurement is a compute's resource use at one moment.
type Measurement struct {
	Time      time.Time
	StartedAt time.Time // of the server measured: a restart resets CPU
	// CPU is the CPU time the server's processes used since it started.
	CPU time.Duration
	// Runnable counts its processes running or waiting for a CPU.
	Runnable int
	// Memory, Anon and WorkingSet are the cgroup's (cgroup.Usage); zero
	// without a cgroup.
	Memory, Anon, WorkingSet int64
}

// Measure samples a running compute: from its cgroup when it has one,
// else from /proc (the postmaster, the children it reaped and the live ones).
func (m *Manager) Measure(id string) (Measurement, error) {
	in, ok := m.Get(id)
	if !ok {
		return Measurement{}, fmt.Errorf("measure compute %s: %w", id, ErrNotRunning)
	}
	in.mu.Lock()
	g, srv, started := in.cgroup, in.srv, in.startedAt
	in.mu.Unlock()
	if srv == nil {
		return Measurement{}, fmt.Errorf("measure compute %s: %w", id, ErrNotRunning)
	}
	ms := Measurement{Time: time.Now(), StartedAt: started}
	var pids []int
	if g != nil {
		u, err := g.Usage()
		if err != nil {
			return Measurement{}, fmt.Errorf("measure compute %s: %w", id, err)
		}
		ms.CPU, ms.Memory, ms.Anon, ms.WorkingSet = u.CPU, u.Memory, u.Anon, u.WorkingSet
		if pids, err = g.Procs(); err != nil {
			return Measurement{}, fmt.Errorf("measure compute %s: %w", id, err)
		}
	} else {
		pid := srv.Pid()
		pids = append([]int{pid}, m.procTree().Descendants(pid)...)
	}
	for i, p := range pids {
		st, err := cgroup.ReadProcStat(p)
		if err != nil {
			continue // exited meanwhile
		}
		if st.State == 'R' {
			ms.Runnable++
		}
		if g == nil {
			ms.CPU += st.CPU
			if i == 0 {
				ms.CPU += st.ChildCPU
			}
		}
	}
	return ms, nil
}

// procTree is the process tree, read from /proc at most every 200 ms:
// measuring many computes without cgroups reads it once per round.
func (m *Manager) procTree() cgroup.Tree {
	procTreeCache.Lock()
	defer procTreeCache.Unlock()
	if time.Since(procTreeCache.at) > 200*time.Millisecond {
		procTreeCache.tree, procTreeCache.at = cgroup.ReadTree(), time.Now()
	}
	return procTreeCache.tree
}

var procTreeCache struct {
	sync.Mutex
	at   time.Time
	tree cgroup.Tree
}

// CacheHits reads the compute's shared-buffer hits and reads (all
// databases) on the platform's admin connection, which the idle timer
// does not count.
func (m *Manager) CacheHits(ctx context.Context, id string) (hit, read int64, err error) {
	in, ok := m.Get(id)
	if !ok || in.State() != StateActive {
		return 0, 0, fmt.Errorf("cache hits of compute %s: %w", id, ErrNotRunning)
	}
	err = in.Admin(ctx, func(conn *pgx.Conn) error {
		return conn.QueryRow(ctx, "SELECT coalesce(sum(blks_hit), 0)::bigint, coalesce(sum(blks_read), 0)::bigint FROM pg_stat_database").Scan(&hit, &read)
	})
	if err != nil {
		return 0, 0, fmt.Errorf("cache hits of compute %s: %w", id, err)
	}
	return hit, read, nil
}
