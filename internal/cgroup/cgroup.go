// Package cgroup puts each compute's processes in a Linux control group with
// a CPU quota and a memory limit, and reads the group's usage.
//
// Two implementations share the Hierarchy and Group interfaces: cgroup v2
// (the unified hierarchy: cpu.max, memory.max, memory.high) and cgroup v1
// (one hierarchy per controller: cpu.cfs_quota_us, cpuacct.usage,
// memory.limit_in_bytes). Probe picks the one the machine offers. Groups
// live under a parent group named "grove" beneath the cgroup Grove itself
// runs in, so that limits placed on Grove (a systemd unit, a container)
// still bound its computes.
//
// The package knows nothing of Postgres or computes: a group is a name, a
// set of processes, limits and usage.
package cgroup

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// ErrUnsupported is returned by Probe when no writable cgroup hierarchy with
// the cpu and memory controllers is available. It wraps errors.ErrUnsupported.
var ErrUnsupported = fmt.Errorf("cgroups: %w", errors.ErrUnsupported)

// ParentName is the group, beneath Grove's own, that holds the compute groups.
const ParentName = "grove"

// CFSPeriod is the CPU quota period (the kernel's default, 100 ms).
const CFSPeriod = 100 * time.Millisecond

var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// Limits bound a group. Zero fields mean no limit.
type Limits struct {
	// CPUs is the CPU quota in CPUs (0.25: a quarter of one CPU per period).
	CPUs float64
	// MemoryBytes is the hard memory limit; past it the kernel reclaims
	// page cache, then kills the group's largest process.
	MemoryBytes int64
}

// Usage is what a group consumed.
type Usage struct {
	CPU time.Duration // CPU time used by the group since it was made
	// Memory is all memory charged to the group, page cache included.
	Memory int64
	// Anon is anonymous and shared memory: what the group holds that the
	// kernel cannot drop without swap.
	Anon int64
	// WorkingSet is Memory without the inactive page cache (what the
	// group has touched recently), as kubelet counts it.
	WorkingSet int64
}

// Hierarchy makes and opens groups under Grove's parent group.
type Hierarchy interface {
	// Version is 1 or 2.
	Version() int
	// String describes the hierarchy for the start-up log.
	String() string
	// Group creates the named group, or opens it when it exists.
	Group(name string) (Group, error)
	// Prune deletes the empty groups left by an earlier run.
	Prune() error
}

// Group is one control group.
type Group interface {
	Name() string
	// SetLimits applies limits at once to the processes in the group.
	SetLimits(Limits) error
	// Add moves a process (all its threads) into the group. Children it
	// forks later are born in the group.
	Add(pid int) error
	// Procs lists the processes in the group.
	Procs() ([]int, error)
	Usage() (Usage, error)
	// Delete removes the group; it must be empty (Delete waits briefly for
	// exiting processes to leave).
	Delete() error
}

// Probe finds a writable hierarchy with CPU and memory control: v2 where
// /sys/fs/cgroup is the unified hierarchy, else v1. It returns an error
// wrapping ErrUnsupported, saying why, when there is none.
func Probe() (Hierarchy, error) {
	return probe("/proc/self/mountinfo", "/proc/self/cgroup")
}

func probe(mountinfo, selfCgroup string) (Hierarchy, error) {
	mounts, err := readMounts(mountinfo)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnsupported, err)
	}
	self, err := readSelf(selfCgroup)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnsupported, err)
	}
	var errs []error
	for _, m := range mounts {
		if m.fsType == "cgroup2" && m.point == "/sys/fs/cgroup" {
			h, err := openV2(m, self[""])
			if err == nil {
				return h, nil
			}
			errs = append(errs, err)
		}
	}
	h, err := openV1(mounts, self)
	if err == nil {
		return h, nil
	}
	errs = append(errs, err)
	return nil, fmt.Errorf("%w: %w", ErrUnsupported, errors.Join(errs...))
}

type mount struct {
	point, root, fsType string
	options             map[string]bool // super options: controllers for v1
}

// readMounts lists the cgroup and cgroup2 mounts from a mountinfo file.
func readMounts(path string) ([]mount, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []mount
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// id parent maj:min root point opts [optional...] - type source superopts
		left, right, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		lf, rf := strings.Fields(left), strings.Fields(right)
		if len(lf) < 5 || len(rf) < 3 || (rf[0] != "cgroup" && rf[0] != "cgroup2") {
			continue
		}
		m := mount{point: unescape(lf[4]), root: unescape(lf[3]), fsType: rf[0], options: map[string]bool{}}
		for _, o := range strings.Split(rf[2], ",") {
			m.options[o] = true
		}
		out = append(out, m)
	}
	return out, sc.Err()
}

// unescape undoes mountinfo's octal escapes (\040 for a space).
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// readSelf maps each v1 controller (and "" for v2) to this process' group path.
func readSelf(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[1] == "" {
			out[""] = parts[2]
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			out[c] = parts[2]
		}
	}
	return out, nil
}

// under joins a mount point and this process' group path, which is
// relative to the root of the file system, not of the mount.
func under(m mount, self string) string {
	rel := self
	if m.root != "/" {
		rel = strings.TrimPrefix(self, m.root)
	}
	return filepath.Join(m.point, rel)
}

func checkName(name string) error {
	if !namePattern.MatchString(name) {
		return fmt.Errorf("cgroup: invalid group name %q", name)
	}
	return nil
}

func writeFile(path, value string) error {
	if err := os.WriteFile(path, []byte(value), 0); err != nil {
		return fmt.Errorf("cgroup: write %s: %w", path, err)
	}
	return nil
}

func readInt(path string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("cgroup: %w", err)
	}
	v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("cgroup: read %s: %w", path, err)
	}
	return v, nil
}

// readKV reads a flat keyed file (memory.stat, cpu.stat).
func readKV(path string) (map[string]int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cgroup: %w", err)
	}
	out := map[string]int64{}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
			out[k] = n
		}
	}
	return out, nil
}

func readProcs(path string) ([]int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cgroup: %w", err)
	}
	var out []int
	for _, f := range strings.Fields(string(b)) {
		if p, err := strconv.Atoi(f); err == nil {
			out = append(out, p)
		}
	}
	return out, nil
}

// removeDir removes an empty group directory, retrying while the last
// processes exit (rmdir fails with EBUSY until they are gone).
func removeDir(dir string) error {
	deadline := time.Now().Add(2 * time.Second)
	for {
		err := os.Remove(dir)
		if err == nil || errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cgroup: remove %s: %w", dir, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// pruneDir removes the empty child groups of dir (best effort: busy ones stay).
func pruneDir(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("cgroup: %w", err)
	}
	for _, e := range ents {
		if e.IsDir() && namePattern.MatchString(e.Name()) {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
	return nil
}

// quota returns the CPU quota per CFSPeriod in microseconds, -1 for none.
func quota(cpus float64) int64 {
	if cpus <= 0 {
		return -1
	}
	return max(int64(math.Round(cpus*float64(CFSPeriod/time.Microsecond))), 1000)
}

// AddTree moves pid and every descendant it has already forked into g;
// descendants forked afterwards are born in g. Processes that exit
// meanwhile are skipped.
func AddTree(g Group, pid int) error {
	if err := g.Add(pid); err != nil {
		return err
	}
	// The parent is in g now, so any child it forks from here on is too;
	// the ones forked before are in the process table already.
	for _, c := range Descendants(pid) {
		if err := g.Add(c); err != nil && !errors.Is(err, errGone) {
			return err
		}
	}
	return nil
}

var errGone = errors.New("process exited")

// Children lists pid's children from /proc/<pid>/task/<pid>/children, or
// from the whole process table where the kernel lacks that file.
func Children(pid int) []int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err != nil {
		return ReadTree()[pid]
	}
	var out []int
	for _, f := range strings.Fields(string(b)) {
		if c, err := strconv.Atoi(f); err == nil {
			out = append(out, c)
		}
	}
	return out
}

// Descendants lists the processes below pid (children, their children, …)
// from the parents recorded in /proc/<pid>/stat.
func Descendants(pid int) []int { return ReadTree().Descendants(pid) }

// Tree maps each process to its children, as /proc showed them at one moment.
type Tree map[int][]int

// ReadTree reads the process tree from /proc.
func ReadTree() Tree {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	kids := Tree{}
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if pp := Parent(p); pp > 0 {
			kids[pp] = append(kids[pp], p)
		}
	}
	return kids
}

// Descendants lists the processes below pid in t.
func (t Tree) Descendants(pid int) []int {
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range t[p] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}

// ProcStat is a process' scheduler state and CPU time from /proc/<pid>/stat.
type ProcStat struct {
	State  byte // R running or runnable, S sleeping, D disk wait, …
	Parent int
	CPU    time.Duration // user + system time
	// ChildCPU is the user + system time of the children it waited for.
	ChildCPU time.Duration
}

// clockTick is USER_HZ, 100 on every Linux architecture Go supports.
const clockTick = 100

// ReadProcStat reads /proc/<pid>/stat.
func ReadProcStat(pid int) (ProcStat, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ProcStat{}, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return ProcStat{}, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	f := strings.Fields(s[i+1:])
	// f[0] state, f[1] ppid, f[11] utime, f[12] stime, f[13] cutime,
	// f[14] cstime (fields 3, 4, 14–17).
	if len(f) < 15 || len(f[0]) != 1 {
		return ProcStat{}, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	ppid, _ := strconv.Atoi(f[1])
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	cut, _ := strconv.ParseInt(f[13], 10, 64)
	cst, _ := strconv.ParseInt(f[14], 10, 64)
	tick := func(n int64) time.Duration { return time.Duration(n) * time.Second / clockTick }
	return ProcStat{State: f[0][0], Parent: ppid, CPU: tick(ut + st), ChildCPU: tick(cut + cst)}, nil
}

// Parent is pid's parent process id, 0 when pid is gone.
func Parent(pid int) int {
	st, err := ReadProcStat(pid)
	if err != nil {
		return 0
	}
	return st.Parent
}
