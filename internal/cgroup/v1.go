package cgroup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// v1Controllers are the v1 controllers a group needs.
var v1Controllers = []string{"cpu", "cpuacct", "memory"}

// V1 is the legacy hierarchy: one mount per controller (or several
// controllers co-mounted), each with its own grove parent group.
type V1 struct {
	// parents maps each controller to its grove parent directory; co-mounted
	// controllers share one.
	parents map[string]string
	dirs    []string // distinct parent directories
}

var _ Hierarchy = (*V1)(nil)

func openV1(mounts []mount, self map[string]string) (*V1, error) {
	h := &V1{parents: map[string]string{}}
	seen := map[string]bool{}
	for _, c := range v1Controllers {
		var found *mount
		for i := range mounts {
			if mounts[i].fsType == "cgroup" && mounts[i].options[c] {
				found = &mounts[i]
				break
			}
		}
		if found == nil {
			return nil, fmt.Errorf("cgroup v1: no %s controller mounted", c)
		}
		dir := filepath.Join(under(*found, self[c]), ParentName)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("cgroup v1: %s: %w", c, err)
		}
		h.parents[c] = dir
		if !seen[dir] {
			seen[dir] = true
			h.dirs = append(h.dirs, dir)
		}
	}
	return h, nil
}

// Version is 1.
func (h *V1) Version() int { return 1 }

func (h *V1) String() string {
	return fmt.Sprintf("v1 (cpu: %s, cpuacct: %s, memory: %s)", h.parents["cpu"], h.parents["cpuacct"], h.parents["memory"])
}

// Group creates or opens a group in every controller's hierarchy.
func (h *V1) Group(name string) (Group, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	g := &v1Group{name: name, dirs: map[string]string{}}
	for _, d := range h.dirs {
		if err := os.Mkdir(filepath.Join(d, name), 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("cgroup: create %s: %w", name, err)
		}
	}
	for c, d := range h.parents {
		g.dirs[c] = filepath.Join(d, name)
	}
	return g, nil
}

// Prune removes empty groups under every parent.
func (h *V1) Prune() error {
	var errs []error
	for _, d := range h.dirs {
		errs = append(errs, pruneDir(d))
	}
	return errors.Join(errs...)
}

type v1Group struct {
	name string
	dirs map[string]string // controller → group directory
}

func (g *v1Group) Name() string { return g.name }

func (g *v1Group) distinct() []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range v1Controllers {
		if d := g.dirs[c]; !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	return out
}

func (g *v1Group) SetLimits(l Limits) error {
	// Memory first: a smaller limit fails (EBUSY) when the group's memory
	// cannot be reclaimed below it, and then nothing has changed.
	mem := g.dirs["memory"]
	limit := int64(-1)
	if l.MemoryBytes > 0 {
		limit = l.MemoryBytes
	}
	// memory.memsw.limit_in_bytes (memory + swap, present with swap
	// accounting) must stay ≥ memory.limit_in_bytes: raise it first when
	// growing, lower it last when shrinking. Equal values forbid swap.
	memsw := filepath.Join(mem, "memory.memsw.limit_in_bytes")
	_, err := os.Stat(memsw)
	hasSwap := err == nil
	cur, err := readInt(filepath.Join(mem, "memory.limit_in_bytes"))
	if err != nil {
		return err
	}
	grow := limit < 0 || limit >= cur
	if hasSwap && grow {
		if err := writeFile(memsw, strconv.FormatInt(limit, 10)); err != nil {
			return err
		}
	}
	if err := writeFile(filepath.Join(mem, "memory.limit_in_bytes"), strconv.FormatInt(limit, 10)); err != nil {
		return err
	}
	if hasSwap && !grow {
		if err := writeFile(memsw, strconv.FormatInt(limit, 10)); err != nil {
			return err
		}
	}
	cpu := g.dirs["cpu"]
	if err := writeFile(filepath.Join(cpu, "cpu.cfs_period_us"), strconv.FormatInt(int64(CFSPeriod/time.Microsecond), 10)); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(cpu, "cpu.cfs_quota_us"), strconv.FormatInt(quota(l.CPUs), 10)); err != nil {
		return err
	}
	return nil
}

// Add moves pid into the group in every hierarchy at once. Each move waits
// for an RCU grace period before it may block forks (~8 ms here); moves
// made together share it, and a postmaster being moved as it starts waited
// 20 ms more for three moves in turn than for three at once.
func (g *v1Group) Add(pid int) error {
	dirs := g.distinct()
	errs := make([]error, len(dirs))
	var wg sync.WaitGroup
	for i, d := range dirs {
		wg.Go(func() {
			if err := os.WriteFile(filepath.Join(d, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0); err != nil {
				if errors.Is(err, syscall.ESRCH) {
					err = errGone
				}
				errs[i] = fmt.Errorf("cgroup: add %d to %s: %w", pid, g.name, err)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (g *v1Group) Procs() ([]int, error) {
	return readProcs(filepath.Join(g.dirs["cpu"], "cgroup.procs"))
}

func (g *v1Group) Usage() (Usage, error) {
	ns, err := readInt(filepath.Join(g.dirs["cpuacct"], "cpuacct.usage"))
	if err != nil {
		return Usage{}, err
	}
	mem := g.dirs["memory"]
	used, err := readInt(filepath.Join(mem, "memory.usage_in_bytes"))
	if err != nil {
		return Usage{}, err
	}
	st, err := readKV(filepath.Join(mem, "memory.stat"))
	if err != nil {
		return Usage{}, err
	}
	return Usage{
		CPU:        time.Duration(ns),
		Memory:     used,
		Anon:       st["total_rss"] + st["total_shmem"],
		WorkingSet: max(used-st["total_inactive_file"], 0),
	}, nil
}

func (g *v1Group) Delete() error {
	var errs []error
	for _, d := range g.distinct() {
		errs = append(errs, removeDir(d))
	}
	return errors.Join(errs...)
}
