package compute

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"
)

// PoolStats is the warm pool of every major at one moment.
type PoolStats struct {
	Ready    int // warm instances ready to take
	Starting int // warm instances being started or resized
	Target   int // what the majors' demand asks for, summed (demand.go)
}

// WarmPool reports the warm pool.
func (m *Manager) WarmPool() PoolStats {
	var st PoolStats
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cfg.PoolSize >= 0 {
		floors := 0
		for major := range m.installs {
			target, _ := m.poolTargetLocked(major)
			st.Target += target
			floors += m.cfg.PoolSize
		}
		// Majors in demand together share PoolMax (roomLocked).
		st.Target = min(st.Target, max(m.cfg.PoolMax, floors))
	}
	for major, p := range m.pool {
		st.Ready += len(p)
		st.Starting += m.fillBack[major].filling
	}
	return st
}

// WarmPoolMemory is the proportional set size (PSS) of the ready warm
// instances' processes: what stopping them would give back, pages they
// share counted once. It reads a file of /proc per process, seven
// processes per instance.
func (m *Manager) WarmPoolMemory() int64 {
	var ready []*Instance
	m.mu.Lock()
	for _, p := range m.pool {
		ready = append(ready, p...)
	}
	m.mu.Unlock()
	var n int64
	for _, in := range ready {
		for _, pid := range in.pids() {
			n += pssBytes(pid)
		}
	}
	return n
}

// pids lists the server's processes: its cgroup's, else the postmaster and
// its children.
func (in *Instance) pids() []int {
	in.mu.Lock()
	g, srv := in.cgroup, in.srv
	in.mu.Unlock()
	if g != nil {
		if pids, err := g.Procs(); err == nil && len(pids) > 0 {
			return pids
		}
	}
	if srv == nil {
		return nil
	}
	pid := srv.Pid()
	pids := []int{pid}
	// Postgres' children are the postmaster's own; none forks further
	// while idle.
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/task/" + strconv.Itoa(pid) + "/children")
	if err != nil {
		return pids
	}
	for _, f := range strings.Fields(string(b)) {
		if c, err := strconv.Atoi(f); err == nil {
			pids = append(pids, c)
		}
	}
	return pids
}

// pssBytes is a process's proportional set size; 0 when it is gone.
func pssBytes(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/smaps_rollup")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "Pss:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}
