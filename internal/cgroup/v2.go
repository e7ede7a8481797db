package cgroup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// V2 is the unified hierarchy: the grove parent group has the cpu and
// memory controllers enabled for its children.
type V2 struct {
	parent string
}

var _ Hierarchy = (*V2)(nil)

// supervisorLeaf is where Grove moves itself when the cgroup it runs in
// (a systemd unit with Delegate=yes) must hand controllers to children:
// v2 lets only groups without processes do so.
const supervisorLeaf = "supervisor"

func openV2(m mount, self string) (*V2, error) {
	base := under(m, self)
	b, err := os.ReadFile(filepath.Join(base, "cgroup.controllers"))
	if err != nil {
		return nil, fmt.Errorf("cgroup v2: %w", err)
	}
	have := strings.Fields(string(b))
	for _, c := range []string{"cpu", "memory"} {
		if !slices.Contains(have, c) {
			return nil, fmt.Errorf("cgroup v2: controller %s not available in %s (controllers: %q)", c, base, strings.TrimSpace(string(b)))
		}
	}
	if err := enable(base); err != nil {
		if base == m.point || !errors.Is(err, syscall.EBUSY) {
			return nil, err
		}
		// base holds processes: move Grove into a leaf, if it is alone.
		procs, perr := readProcs(filepath.Join(base, "cgroup.procs"))
		if perr != nil || len(procs) != 1 || procs[0] != os.Getpid() {
			return nil, fmt.Errorf("%w (other processes share Grove's cgroup %s)", err, base)
		}
		leaf := filepath.Join(base, supervisorLeaf)
		if err := os.Mkdir(leaf, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("cgroup v2: %w", err)
		}
		if err := writeFile(filepath.Join(leaf, "cgroup.procs"), strconv.Itoa(os.Getpid())); err != nil {
			return nil, err
		}
		if err := enable(base); err != nil {
			return nil, err
		}
	}
	parent := filepath.Join(base, ParentName)
	if err := os.Mkdir(parent, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("cgroup v2: %w", err)
	}
	if err := enable(parent); err != nil {
		return nil, err
	}
	return &V2{parent: parent}, nil
}

// enable turns the cpu and memory controllers on for dir's children.
func enable(dir string) error {
	p := filepath.Join(dir, "cgroup.subtree_control")
	if err := os.WriteFile(p, []byte("+cpu +memory"), 0); err != nil {
		return fmt.Errorf("cgroup v2: enable cpu and memory in %s: %w", p, err)
	}
	return nil
}

// Version is 2.
func (h *V2) Version() int { return 2 }

func (h *V2) String() string { return "v2 (" + h.parent + ")" }

// Group creates or opens a child of the parent group.
func (h *V2) Group(name string) (Group, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	dir := filepath.Join(h.parent, name)
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("cgroup: create %s: %w", name, err)
	}
	return &v2Group{name: name, dir: dir}, nil
}

// Prune removes empty groups under the parent.
func (h *V2) Prune() error { return pruneDir(h.parent) }

type v2Group struct {
	name, dir string
}

func (g *v2Group) Name() string { return g.name }

func (g *v2Group) SetLimits(l Limits) error {
	maxMem, high := "max", "max"
	if l.MemoryBytes > 0 {
		// memory.high below the hard limit makes the kernel reclaim and
		// throttle before it has to kill.
		maxMem = strconv.FormatInt(l.MemoryBytes, 10)
		high = strconv.FormatInt(l.MemoryBytes/16*15, 10)
	}
	// Lower high before max, raise max before high: high ≤ max throughout.
	order := [][2]string{{"memory.max", maxMem}, {"memory.high", high}}
	if cur, err := readInt(filepath.Join(g.dir, "memory.max")); err == nil && l.MemoryBytes > 0 && l.MemoryBytes < cur {
		order[0], order[1] = order[1], order[0]
	}
	for _, kv := range order {
		if err := writeFile(filepath.Join(g.dir, kv[0]), kv[1]); err != nil {
			return err
		}
	}
	// No swap: a CU's memory is RAM. Absent without swap accounting.
	if _, err := os.Stat(filepath.Join(g.dir, "memory.swap.max")); err == nil {
		if err := writeFile(filepath.Join(g.dir, "memory.swap.max"), "0"); err != nil {
			return err
		}
	}
	period := int64(CFSPeriod / time.Microsecond)
	cpu := "max " + strconv.FormatInt(period, 10)
	if q := quota(l.CPUs); q > 0 {
		cpu = strconv.FormatInt(q, 10) + " " + strconv.FormatInt(period, 10)
	}
	if err := writeFile(filepath.Join(g.dir, "cpu.max"), cpu); err != nil {
		return err
	}
	return nil
}

func (g *v2Group) Add(pid int) error {
	if err := os.WriteFile(filepath.Join(g.dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0); err != nil {
		if errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("cgroup: add %d to %s: %w", pid, g.name, errGone)
		}
		return fmt.Errorf("cgroup: add %d to %s: %w", pid, g.name, err)
	}
	return nil
}

func (g *v2Group) Procs() ([]int, error) { return readProcs(filepath.Join(g.dir, "cgroup.procs")) }

func (g *v2Group) Usage() (Usage, error) {
	cpu, err := readKV(filepath.Join(g.dir, "cpu.stat"))
	if err != nil {
		return Usage{}, err
	}
	used, err := readInt(filepath.Join(g.dir, "memory.current"))
	if err != nil {
		return Usage{}, err
	}
	st, err := readKV(filepath.Join(g.dir, "memory.stat"))
	if err != nil {
		return Usage{}, err
	}
	return Usage{
		CPU:        time.Duration(cpu["usage_usec"]) * time.Microsecond,
		Memory:     used,
		Anon:       st["anon"] + st["shmem"],
		WorkingSet: max(used-st["inactive_file"], 0),
	}, nil
}

func (g *v2Group) Delete() error { return removeDir(g.dir) }
