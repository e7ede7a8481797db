package cgroup

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	dir := t.TempDir()
	mi := filepath.Join(dir, "mountinfo")
	if err := os.WriteFile(mi, []byte(`22 1 0:21 / /proc rw,nosuid - proc proc rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 /docker/abc /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
41 31 0:38 / /sys/fs/cgroup/uni\040fied rw,relatime - cgroup2 cgroup2 rw
`), 0o600); err != nil {
		t.Fatal(err)
	}
	mounts, err := readMounts(mi)
	if err != nil {
		t.Fatal(err)
	}
	if len(mounts) != 3 {
		t.Fatalf("mounts = %+v, want 3 cgroup mounts", mounts)
	}
	if !mounts[0].options["cpu"] || !mounts[0].options["cpuacct"] || mounts[0].point != "/sys/fs/cgroup/cpu,cpuacct" {
		t.Errorf("cpu mount = %+v", mounts[0])
	}
	if mounts[2].point != "/sys/fs/cgroup/uni fied" || mounts[2].fsType != "cgroup2" {
		t.Errorf("cgroup2 mount = %+v", mounts[2])
	}
	sc := filepath.Join(dir, "cgroup")
	if err := os.WriteFile(sc, []byte("4:memory:/docker/abc/x\n2:cpu,cpuacct:/\n0::/user.slice\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	self, err := readSelf(sc)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		m    mount
		self string
		want string
	}{
		{mounts[0], self["cpu"], "/sys/fs/cgroup/cpu,cpuacct"},
		{mounts[1], self["memory"], "/sys/fs/cgroup/memory/x"},
		{mounts[2], self[""], "/sys/fs/cgroup/uni fied/user.slice"},
	}
	for _, tt := range tests {
		if got := under(tt.m, tt.self); got != tt.want {
			t.Errorf("under(%s, %s) = %s, want %s", tt.m.point, tt.self, got, tt.want)
		}
	}
}

func TestQuota(t *testing.T) {
	for _, tt := range []struct {
		cpus float64
		want int64
	}{{0, -1}, {0.25, 25000}, {1, 100000}, {2, 200000}, {0.001, 1000}} {
		if got := quota(tt.cpus); got != tt.want {
			t.Errorf("quota(%v) = %d, want %d", tt.cpus, got, tt.want)
		}
	}
}

func probeOrSkip(t *testing.T) Hierarchy {
	t.Helper()
	h, err := Probe()
	if errors.Is(err, ErrUnsupported) {
		t.Skipf("no writable cgroup hierarchy: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestGroup places a real process tree in a group, limits it, reads its
// usage and removes the group.
func TestGroup(t *testing.T) {
	h := probeOrSkip(t)
	t.Logf("hierarchy: %s", h)
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := "test-" + hex.EncodeToString(b)
	g, err := h.Group(name)
	if err != nil {
		t.Fatal(err)
	}
	deleted := false
	t.Cleanup(func() {
		if !deleted {
			_ = g.Delete()
		}
	})
	if _, err := h.Group("../escape"); err == nil {
		t.Error("Group accepted a name with a slash")
	}

	// A shell that forks a busy child before it is moved, and sleeps.
	cmd := exec.Command("sh", "-c", "(while :; do :; done) & exec sleep 60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, p := range Descendants(cmd.Process.Pid) {
			_ = (&os.Process{Pid: p}).Signal(os.Kill)
		}
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	var kids []int
	deadline := time.Now().Add(10 * time.Second)
	for len(kids) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		kids = Descendants(cmd.Process.Pid)
	}
	if len(kids) == 0 {
		t.Fatal("the shell forked no child")
	}
	if err := AddTree(g, cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	procs, err := g.Procs()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range append([]int{cmd.Process.Pid}, kids...) {
		if !slices.Contains(procs, p) {
			t.Errorf("process %d not in group (procs %v)", p, procs)
		}
	}
	if err := g.SetLimits(Limits{CPUs: 0.5, MemoryBytes: 64 << 20}); err != nil {
		t.Fatal(err)
	}
	// Grow and shrink again: the limits change live.
	if err := g.SetLimits(Limits{CPUs: 2, MemoryBytes: 256 << 20}); err != nil {
		t.Fatal(err)
	}
	if err := g.SetLimits(Limits{CPUs: 0.25, MemoryBytes: 128 << 20}); err != nil {
		t.Fatal(err)
	}
	checkLimits(t, h, name, 25000, 128<<20)
	var u Usage
	deadline = time.Now().Add(10 * time.Second)
	for u.CPU == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		if u, err = g.Usage(); err != nil {
			t.Fatal(err)
		}
	}
	if u.CPU <= 0 || u.Memory < 0 || u.WorkingSet > u.Memory {
		t.Errorf("usage = %+v", u)
	}
	t.Logf("usage: %+v", u)
	if err := g.Delete(); err == nil {
		t.Error("Delete of a group with processes succeeded")
	}
	for _, p := range kids {
		_ = (&os.Process{Pid: p}).Signal(os.Kill)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if err := g.Delete(); err != nil {
		t.Fatal(err)
	}
	deleted = true
	if err := h.Prune(); err != nil {
		t.Error(err)
	}
}

// checkLimits reads the limit files back.
func checkLimits(t *testing.T, h Hierarchy, name string, quotaUS, mem int64) {
	t.Helper()
	switch h := h.(type) {
	case *V1:
		q, err := readInt(filepath.Join(h.parents["cpu"], name, "cpu.cfs_quota_us"))
		if err != nil || q != quotaUS {
			t.Errorf("cfs_quota_us = %d (%v), want %d", q, err, quotaUS)
		}
		m, err := readInt(filepath.Join(h.parents["memory"], name, "memory.limit_in_bytes"))
		if err != nil || m != mem {
			t.Errorf("limit_in_bytes = %d (%v), want %d", m, err, mem)
		}
	case *V2:
		b, err := os.ReadFile(filepath.Join(h.parent, name, "cpu.max"))
		if err != nil || string(b) != "25000 100000\n" {
			t.Errorf("cpu.max = %q (%v)", b, err)
		}
		m, err := readInt(filepath.Join(h.parent, name, "memory.max"))
		if err != nil || m != mem {
			t.Errorf("memory.max = %d (%v), want %d", m, err, mem)
		}
	}
}

// TestFiles drives both implementations against plain files shaped like
// the kernel's, so that v2 is covered on a v1 machine and the other way
// round: the limit files written, in an order the kernel accepts, and
// the usage files read.
func TestFiles(t *testing.T) {
	write := func(t *testing.T, dir string, files map[string]string) {
		t.Helper()
		for name, v := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(v), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	read := func(t *testing.T, dir, name string) string {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	t.Run("v2", func(t *testing.T) {
		dir := t.TempDir()
		write(t, dir, map[string]string{
			"cpu.max": "max 100000\n", "memory.max": "max\n", "memory.high": "max\n", "memory.swap.max": "max\n",
			"cpu.stat":       "usage_usec 1500000\nuser_usec 1000000\nsystem_usec 500000\n",
			"memory.current": "104857600\n",
			"memory.stat":    "anon 31457280\nfile 73400320\nshmem 1048576\ninactive_file 52428800\nactive_file 20971520\n",
		})
		g := &v2Group{name: "x", dir: dir}
		if err := g.SetLimits(Limits{CPUs: 0.5, MemoryBytes: 1 << 30}); err != nil {
			t.Fatal(err)
		}
		for name, want := range map[string]string{"cpu.max": "50000 100000", "memory.max": "1073741824",
			"memory.high": "1006632960", "memory.swap.max": "0"} {
			if got := read(t, dir, name); got != want {
				t.Errorf("%s = %q, want %q", name, got, want)
			}
		}
		if err := g.SetLimits(Limits{}); err != nil {
			t.Fatal(err)
		}
		if got := read(t, dir, "cpu.max"); got != "max 100000" {
			t.Errorf("cpu.max without a limit = %q", got)
		}
		u, err := g.Usage()
		if err != nil {
			t.Fatal(err)
		}
		want := Usage{CPU: 1500 * time.Millisecond, Memory: 100 << 20, Anon: 31 << 20, WorkingSet: 50 << 20}
		if u != want {
			t.Errorf("usage = %+v, want %+v", u, want)
		}
	})
	t.Run("v1", func(t *testing.T) {
		cpu, acct, mem := t.TempDir(), t.TempDir(), t.TempDir()
		write(t, cpu, map[string]string{"cpu.cfs_period_us": "100000\n", "cpu.cfs_quota_us": "-1\n", "cgroup.procs": "12\n34\n"})
		write(t, acct, map[string]string{"cpuacct.usage": "2500000000\n"})
		write(t, mem, map[string]string{
			"memory.limit_in_bytes": "9223372036854771712\n", "memory.memsw.limit_in_bytes": "9223372036854771712\n",
			"memory.usage_in_bytes": "104857600\n",
			"memory.stat":           "cache 73400320\nrss 30408704\nshmem 1048576\ntotal_rss 30408704\ntotal_shmem 1048576\ntotal_inactive_file 52428800\n",
		})
		g := &v1Group{name: "x", dirs: map[string]string{"cpu": cpu, "cpuacct": acct, "memory": mem}}
		if err := g.SetLimits(Limits{CPUs: 2, MemoryBytes: 8 << 30}); err != nil {
			t.Fatal(err)
		}
		for dir, files := range map[string]map[string]string{
			cpu: {"cpu.cfs_quota_us": "200000"},
			mem: {"memory.limit_in_bytes": "8589934592", "memory.memsw.limit_in_bytes": "8589934592"},
		} {
			for name, want := range files {
				if got := read(t, dir, name); got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
		}
		procs, err := g.Procs()
		if err != nil || !slices.Equal(procs, []int{12, 34}) {
			t.Errorf("procs = %v, %v", procs, err)
		}
		u, err := g.Usage()
		if err != nil {
			t.Fatal(err)
		}
		want := Usage{CPU: 2500 * time.Millisecond, Memory: 100 << 20, Anon: 30408704 + 1048576, WorkingSet: 50 << 20}
		if u != want {
			t.Errorf("usage = %+v, want %+v", u, want)
		}
	})
}
