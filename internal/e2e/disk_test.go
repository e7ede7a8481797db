package e2e

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/grovedb/grove/apitypes"
	"github.com/grovedb/grove/internal/grovetest"
	"github.com/grovedb/grove/internal/pgtest"
	"github.com/grovedb/grove/internal/reserve"
)

// TestDiskFull: Grove's metadata cluster lives on a reserve of its own (a
// loop-mounted image of --meta-reserve), so that when tenants fill the data
// dir's file system, API calls that write metadata still succeed, the full
// file system is reported once in the log and in /metrics, and grove
// restarts on it instead of crash-looping.
func TestDiskFull(t *testing.T) {
	const reserveSize = 256 << 20
	mnt := loopExt4(t, 1280)
	g := startIn(t, filepath.Join(mnt, "grove"), "--meta-reserve", "256MiB")

	// The metadata dir is a file system of its own, of the configured size.
	meta := filepath.Join(g.DataDir, "meta")
	var metaSt, dataSt unix.Stat_t
	if err := unix.Stat(meta, &metaSt); err != nil {
		t.Fatal(err)
	}
	if err := unix.Stat(g.DataDir, &dataSt); err != nil {
		t.Fatal(err)
	}
	if metaSt.Dev == dataSt.Dev {
		t.Fatalf("%s is not a mount of its own", meta)
	}
	sp, err := reserve.Statfs(meta)
	if err != nil {
		t.Fatal(err)
	}
	if sp.Size > reserveSize || sp.Size < reserveSize*85/100 {
		t.Errorf("reserve of %d bytes, want about %d", sp.Size, reserveSize)
	}
	var img unix.Stat_t
	if err := unix.Stat(filepath.Join(g.DataDir, "meta.img"), &img); err != nil || img.Size != reserveSize || img.Blocks*512 < reserveSize {
		t.Errorf("image: %d bytes, %d allocated, %v; want %d allocated in full", img.Size, img.Blocks*512, err, reserveSize)
	}

	cp := g.CreateSeed()
	id := cp.Project.ID
	fillFS(t, mnt)

	// Metadata writes succeed on the full file system.
	rename := func(name string) {
		t.Helper()
		if st, raw := g.API("PATCH", "/projects/"+id, map[string]any{"project": map[string]any{"name": name}}, nil); st != 200 {
			t.Fatalf("PATCH project name with the data dir full: %d %s", st, raw)
		}
	}
	rename("while-full")
	if st, raw := g.API("PATCH", "/projects/"+id+"/branches/"+cp.Branch.ID, `{"branch":{"name":"trunk"}}`, nil); st != 200 {
		t.Errorf("PATCH branch name with the data dir full: %d %s", st, raw)
	}
	if st, raw := g.API("POST", "/api_keys", `{"key_name":"while-full"}`, nil); st != 200 {
		t.Errorf("create an API key with the data dir full: %d %s", st, raw)
	}
	// A branch needs room for its data: refused, but not with a 500.
	if st, raw := g.API("POST", "/projects/"+id+"/branches", `{}`, nil); st == 500 {
		t.Errorf("create a branch with the data dir full: %d %s", st, raw)
	} else {
		t.Logf("create a branch with the data dir full: %d %s", st, raw)
	}

	// Reported once in the log, and in /metrics. Grove frees what its failed
	// warm-pool fills took, so the tenant keeps writing, as a real one would,
	// until the watch (every 10 s) has seen the file system full.
	grovetest.WaitFor(t, "the low-space warning", func() bool {
		topUp(t, mnt)
		return strings.Contains(g.Logs(), "disk: file system low on space")
	})
	topUp(t, mnt)
	m := scrapeMetrics(t, g, g.Key)
	for series, ok := range map[string]func(float64) bool{
		`grove_disk_free_bytes{fs="data"}`:    func(v float64) bool { return v >= 0 && v < reserve.MinFree }, // failed copies come and go
		`grove_disk_low{fs="data"}`:           func(v float64) bool { return v == 1 },
		`grove_disk_free_bytes{fs="reserve"}`: func(v float64) bool { return v > reserve.MinFree },
		`grove_disk_low{fs="reserve"}`:        func(v float64) bool { return v == 0 },
	} {
		if v := sample(m, series); !ok(v) {
			t.Errorf("%s = %v", series, v)
		}
	}

	// A restart on the full file system starts and keeps the metadata.
	g.Stop()
	fillFS(t, mnt) // what the stop freed (warm instances' volumes)
	g.Start()
	var p apitypes.ProjectResponse
	if st, raw := g.API("GET", "/projects/"+id, nil, &p); st != 200 || p.Project.Name != "while-full" {
		t.Fatalf("project after a restart on a full data dir: %d %s", st, raw)
	}
	rename("after-restart")

	// Space freed: one line says so; the warning stayed one.
	entries, err := os.ReadDir(mnt)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "filler-") {
			if err := os.Remove(filepath.Join(mnt, e.Name())); err != nil {
				t.Fatal(err)
			}
		}
	}
	grovetest.WaitFor(t, "the recovery line", func() bool {
		return strings.Contains(g.Logs(), "disk: file system has space again")
	})
	if n := strings.Count(g.Logs(), "disk: file system low on space"); n != 1 {
		t.Errorf("%d low-space warnings since the restart, want 1:\n%s", n, g.Logs())
	}
}

// loopExt4 returns the mount point of a new ext4 file system of sizeMB on a
// loop device, unmounted when the test ends. It skips where that cannot be
// done.
func loopExt4(t *testing.T, sizeMB int64) string {
	t.Helper()
	if testing.Short() {
		t.Skip("whole-system test; skipped with -short")
	}
	if os.Geteuid() != 0 {
		t.Skip("mounts a file system and runs grove: needs root")
	}
	if _, err := os.Stat("/dev/loop-control"); err != nil {
		t.Skipf("no loop devices: %v", err)
	}
	for _, tool := range []string{"mkfs.ext4", "mount", "umount"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (Debian: e2fsprogs, mount): %v", tool, err)
		}
	}
	dir := pgtest.Dir(t)
	img := filepath.Join(dir, "data.img")
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, sizeMB<<20); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mkfs.ext4", "-q", "-F", img).CombinedOutput(); err != nil {
		t.Fatalf("mkfs.ext4: %v: %s", err, out)
	}
	mnt := filepath.Join(dir, "mnt")
	if err := os.Mkdir(mnt, 0o711); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-o", "loop", img, mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot loop-mount: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", mnt, err, out)
			_ = exec.Command("umount", "-l", mnt).Run()
		}
	})
	if err := os.Chmod(mnt, 0o711); err != nil {
		t.Fatal(err)
	}
	return mnt
}

// fillFS allocates files in dir until its file system has no block left
// that an unprivileged user (a compute's Postgres) could take.
func fillFS(t *testing.T, dir string) {
	t.Helper()
	topUp(t, dir)
	if sp, err := reserve.Statfs(dir); err != nil || sp.Free != 0 {
		t.Fatalf("after filling: %+v, %v", sp, err)
	}
}

// topUp allocates files in dir until its file system is full.
func topUp(t *testing.T, dir string) {
	t.Helper()
	for size := int64(1 << 30); size >= 4096; {
		f, err := os.CreateTemp(dir, "filler-")
		if errors.Is(err, syscall.ENOSPC) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		err = unix.Fallocate(int(f.Fd()), 0, 0, size)
		f.Close()
		if errors.Is(err, syscall.ENOSPC) {
			_ = os.Remove(f.Name())
			size /= 4
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}
