package reserve

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/grovedb/grove/internal/loopdev"
	"github.com/grovedb/grove/internal/storage/storagetest"
)

func TestConfigValidate(t *testing.T) {
	stop := func(context.Context, string) error { return nil }
	for _, tc := range []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"default", Config{DataDir: "/d", Size: DefaultSize, StopStale: stop}, true},
		{"off", Config{DataDir: "/d", StopStale: stop}, true},
		{"relative", Config{DataDir: "d", Size: DefaultSize, StopStale: stop}, false},
		{"too small", Config{DataDir: "/d", Size: MinSize - 1, StopStale: stop}, false},
		{"negative", Config{DataDir: "/d", Size: -1, StopStale: stop}, false},
		{"no StopStale", Config{DataDir: "/d", Size: DefaultSize}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.cfg.Validate(); (err == nil) != tc.ok {
				t.Errorf("Validate = %v, want ok %v", err, tc.ok)
			}
		})
	}
}

// TestCopyTree: directories, files and links keep their modes, owners and
// contents.
func TestCopyTree(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	files := map[string]struct {
		mode os.FileMode
		data string
	}{
		"PG_VERSION":        {0o600, "17\n"},
		"base/1/1259":       {0o600, strings.Repeat("x", 70000)},
		"postgresql.conf":   {0o640, "port = 5432\n"},
		"global/pg_control": {0o600, "ctl"},
	}
	for name, f := range files {
		p := filepath.Join(src, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f.data), f.mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, f.mode); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(src, "global"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("base/1", filepath.Join(src, "link")); err != nil {
		t.Fatal(err)
	}
	owner := os.Getuid()
	if owner == 0 { // as root, a foreign owner must survive the copy
		owner = 54321
		chownTree(t, src, owner)
	}
	dst := filepath.Join(t.TempDir(), "dst")
	if err := copyTree(src, dst); err != nil {
		t.Fatal(err)
	}
	for name, f := range files {
		p := filepath.Join(dst, name)
		b, err := os.ReadFile(p)
		if err != nil || string(b) != f.data {
			t.Errorf("%s: %d bytes, %v", name, len(b), err)
			continue
		}
		checkOwnerMode(t, p, owner, f.mode)
	}
	checkOwnerMode(t, filepath.Join(dst, "global"), owner, 0o750|fs.ModeDir)
	checkOwnerMode(t, filepath.Join(dst, "base"), owner, 0o700|fs.ModeDir)
	if l, err := os.Readlink(filepath.Join(dst, "link")); err != nil || l != "base/1" {
		t.Errorf("link: %q, %v", l, err)
	}
	if err := copyTree(src, dst); err == nil {
		t.Error("copyTree onto an existing tree did not fail")
	}
	used, err := diskUsage(dst)
	if err != nil || used < 70000 {
		t.Errorf("diskUsage = %d, %v; want at least the 70000-byte file", used, err)
	}
}

func checkOwnerMode(t *testing.T, p string, uid int, mode os.FileMode) {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Error(err)
		return
	}
	if fi.Mode() != mode {
		t.Errorf("%s: mode %v, want %v", p, fi.Mode(), mode)
	}
	if st := fi.Sys().(*syscall.Stat_t); int(st.Uid) != uid || int(st.Gid) != uid {
		t.Errorf("%s: owner %d:%d, want %d", p, st.Uid, st.Gid, uid)
	}
}

// needLoop skips unless a file system can be loop-mounted here.
func needLoop(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("mounts file systems; skipped with -short")
	}
	if os.Geteuid() != 0 {
		t.Skip("mounting the reserve needs root")
	}
	if !loopdev.Available() {
		t.Skip("no loop devices (/dev/loop-control)")
	}
	for _, name := range []string{"mkfs.ext4", "e2fsck", "resize2fs", "mount", "umount", "losetup"} {
		if _, err := loopdev.Tool(name); err != nil {
			t.Skipf("%v (Debian: e2fsprogs, mount)", err)
		}
	}
}

// harness opens reserves on one data dir and records what they log and
// which clusters StopStale was asked to stop.
type harness struct {
	t       *testing.T
	dataDir string
	logs    bytes.Buffer
	mu      sync.Mutex
	stopped []string
}

func newHarness(t *testing.T, dataDir string) *harness {
	h := &harness{t: t, dataDir: dataDir}
	t.Cleanup(func() {
		// Whatever a test left mounted goes before its temp dir does.
		for _, dir := range []string{filepath.Join(dataDir, "meta"), filepath.Join(dataDir, "elsewhere")} {
			if h.mounted(dir) {
				if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
					t.Errorf("umount %s: %v: %s", dir, err, out)
				}
			}
		}
	})
	return h
}

func (h *harness) open(size int64) (*Reserve, error) {
	return Open(h.t.Context(), Config{DataDir: h.dataDir, Size: size,
		StopStale: func(_ context.Context, dir string) error {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.stopped = append(h.stopped, dir)
			return nil
		},
		Logger: slog.New(slog.NewTextHandler(&h.logs, nil))})
}

func (h *harness) mustOpen(size int64) *Reserve {
	h.t.Helper()
	r, err := h.open(size)
	if err != nil {
		h.t.Fatalf("Open: %v\n%s", err, h.logs.String())
	}
	return r
}

func (h *harness) close(r *Reserve) {
	h.t.Helper()
	if err := r.Close(h.t.Context()); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) mounted(dir string) bool {
	ms, err := loopdev.Mounts()
	if err != nil {
		h.t.Fatal(err)
	}
	_, ok := loopdev.MountAt(ms, dir)
	return ok
}

func (h *harness) loops(r *Reserve) []string {
	devs, err := loopdev.Backing(loopdev.SysBlock, r.Image())
	if err != nil {
		h.t.Fatal(err)
	}
	return devs
}

// TestOpen: a new reserve is an image of the configured size, allocated
// in full, mounted at <data-dir>/meta; Close unmounts it and frees its
// loop device; the next Open mounts the same image again.
func TestOpen(t *testing.T) {
	needLoop(t)
	h := newHarness(t, t.TempDir())
	r := h.mustOpen(MinSize)
	if r.Dir() != filepath.Join(h.dataDir, "meta") || r.ClusterDir() != filepath.Join(h.dataDir, "meta", "pgdata") ||
		r.Image() != filepath.Join(h.dataDir, "meta.img") {
		t.Errorf("paths: %s %s %s", r.Dir(), r.ClusterDir(), r.Image())
	}
	if !h.mounted(r.Dir()) {
		t.Fatal("not mounted")
	}
	var st unix.Stat_t
	if err := unix.Stat(r.Image(), &st); err != nil {
		t.Fatal(err)
	}
	if st.Size != MinSize || st.Blocks*512 < MinSize || st.Mode&0o777 != 0o600 {
		t.Errorf("image: size %d, allocated %d, mode %o; want %d allocated in full, 0600", st.Size, st.Blocks*512, st.Mode&0o777, MinSize)
	}
	sp, err := Statfs(r.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if sp.Size > MinSize || sp.Size < MinSize*85/100 || sp.Free < sp.Size*9/10 {
		t.Errorf("reserve file system: %+v; want about %d, nearly all free", sp, MinSize)
	}
	if fi, err := os.Stat(r.Dir()); err != nil || fi.Mode().Perm() != 0o711 {
		t.Errorf("mount point: %v, %v; want 0711", fi.Mode(), err)
	}
	if n, err := r.Keep(); err != nil || n != 0 {
		t.Errorf("Keep of a whole image = %d, %v", n, err)
	}
	h.close(r)
	if h.mounted(r.Dir()) || len(h.loops(r)) != 0 {
		t.Fatalf("after Close: mounted %v, loop devices %v", h.mounted(r.Dir()), h.loops(r))
	}
	r = h.mustOpen(MinSize)
	if strings.Count(h.logs.String(), "reserve: made") != 1 {
		t.Errorf("the image was made again:\n%s", h.logs.String())
	}
	h.close(r)
}

// TestOpenAfterKill: a reserve left mounted (Grove killed) is used as it
// is; a loop device left attached without a mount is detached; one mounted
// elsewhere stops Open.
func TestOpenAfterKill(t *testing.T) {
	needLoop(t)
	h := newHarness(t, t.TempDir())
	r := h.mustOpen(MinSize)
	if err := os.WriteFile(filepath.Join(r.Dir(), "marker"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = h.mustOpen(MinSize) // no Close: as after SIGKILL
	if !strings.Contains(h.logs.String(), "mounted already") {
		t.Errorf("the mount left behind was not noticed:\n%s", h.logs.String())
	}
	if len(h.loops(r)) != 1 {
		t.Errorf("loop devices %v, want one", h.loops(r))
	}
	if _, err := os.Stat(filepath.Join(r.Dir(), "marker")); err != nil {
		t.Errorf("not the same file system: %v", err)
	}
	h.close(r)

	out, err := exec.Command("losetup", "--find", "--show", r.Image()).CombinedOutput()
	if err != nil {
		t.Fatalf("losetup: %v: %s", err, out)
	}
	r = h.mustOpen(MinSize)
	if !strings.Contains(h.logs.String(), "detached a stale loop device") || len(h.loops(r)) != 1 {
		t.Errorf("stale device %s: loops now %v\n%s", strings.TrimSpace(string(out)), h.loops(r), h.logs.String())
	}
	h.close(r)

	elsewhere := filepath.Join(h.dataDir, "elsewhere")
	if err := os.Mkdir(elsewhere, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-o", "loop", r.Image(), elsewhere).CombinedOutput(); err != nil {
		t.Fatalf("mount: %v: %s", err, out)
	}
	if _, err := h.open(MinSize); err == nil || errors.Is(err, errors.ErrUnsupported) || !strings.Contains(err.Error(), "unmount it first") {
		t.Errorf("Open with the image mounted elsewhere: %v", err)
	}
	if h.mounted(r.Dir()) {
		t.Error("mounted a second time")
	}
}

// writeCluster makes a stand-in for a metadata cluster in dir, owned by
// uid, and returns its files' contents.
func writeCluster(t *testing.T, dir string, uid int) map[string]string {
	t.Helper()
	files := map[string]string{"PG_VERSION": "17\n", "base/1/1259": strings.Repeat("p", 1<<20), "global/pg_control": "ctl"}
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	chownTree(t, dir, uid)
	return files
}

func chownTree(t *testing.T, dir string, uid int) {
	t.Helper()
	if err := filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, uid)
	}); err != nil {
		t.Fatal(err)
	}
}

func checkCluster(t *testing.T, dir string, uid int, files map[string]string) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(dir, name)
		b, err := os.ReadFile(p)
		if err != nil || string(b) != data {
			t.Errorf("%s: %d bytes, %v", p, len(b), err)
			continue
		}
		checkOwnerMode(t, p, uid, 0o600)
	}
	checkOwnerMode(t, dir, uid, 0o700|fs.ModeDir)
}

// TestOpenMovesLegacyCluster: a cluster made in <data-dir>/meta before the
// reserve moves into it once, with owners and modes, after StopStale; a
// move cut short resumes; a second cluster beside a moved one stops Open
// and is left where it was.
func TestOpenMovesLegacyCluster(t *testing.T) {
	needLoop(t)
	h := newHarness(t, t.TempDir())
	meta := filepath.Join(h.dataDir, "meta")
	files := writeCluster(t, meta, 54321)
	r := h.mustOpen(MinSize)
	if len(h.stopped) != 1 || h.stopped[0] != meta {
		t.Errorf("StopStale calls %v, want [%s]", h.stopped, meta)
	}
	checkCluster(t, r.ClusterDir(), 54321, files)
	if _, err := os.Lstat(filepath.Join(h.dataDir, "meta.legacy")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the old copy is left: %v", err)
	}
	if !strings.Contains(h.logs.String(), "moved the metadata cluster into the reserve") {
		t.Errorf("the move was not logged:\n%s", h.logs.String())
	}

	// Cut short: the old cluster set aside, a partial copy in the reserve.
	if err := os.RemoveAll(r.ClusterDir()); err != nil {
		t.Fatal(err)
	}
	partial := r.ClusterDir() + ".tmp"
	if err := os.MkdirAll(filepath.Join(partial, "base"), 0o700); err != nil {
		t.Fatal(err)
	}
	h.close(r)
	files = writeCluster(t, filepath.Join(h.dataDir, "meta.legacy"), 54322)
	r = h.mustOpen(MinSize)
	checkCluster(t, r.ClusterDir(), 54322, files)
	if _, err := os.Lstat(partial); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the partial copy is left: %v", err)
	}
	h.close(r)

	// A cluster made in the bare mount point while the reserve was not
	// mounted, beside the one in the reserve: which one is current is not
	// Grove's to guess.
	other := writeCluster(t, meta, 54323)
	if _, err := h.open(MinSize); err == nil || errors.Is(err, errors.ErrUnsupported) || !strings.Contains(err.Error(), "both") {
		t.Fatalf("Open with two clusters: %v", err)
	}
	if h.mounted(meta) {
		t.Error("left mounted after the refusal")
	}
	checkCluster(t, meta, 54323, other)
}

// TestOpenUnsupported: size 0 and a cluster too large for a new reserve
// fall back to running without one, leaving everything as it was.
func TestOpenUnsupported(t *testing.T) {
	needLoop(t)
	h := newHarness(t, t.TempDir())
	if _, err := h.open(0); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("Open(size 0) = %v, want ErrUnsupported", err)
	}
	meta := filepath.Join(h.dataDir, "meta")
	big := filepath.Join(meta, "base", "big")
	writeCluster(t, meta, 54321)
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Fallocate(int(f.Fd()), 0, 0, MinSize); err != nil {
		t.Fatal(err)
	}
	f.Close()
	_, err = h.open(MinSize)
	if !errors.Is(err, errors.ErrUnsupported) || !strings.Contains(err.Error(), "does not fit") {
		t.Errorf("Open with a cluster larger than the reserve: %v", err)
	}
	if _, err := os.Stat(filepath.Join(h.dataDir, "meta.img")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("an image was made: %v", err)
	}
	if _, err := os.Stat(big); err != nil || h.mounted(meta) {
		t.Errorf("the cluster moved: %v, mounted %v", err, h.mounted(meta))
	}
}

// TestOpenGrows: a larger size grows the image and its file system, also
// when it was left mounted; a smaller one keeps it.
func TestOpenGrows(t *testing.T) {
	needLoop(t)
	h := newHarness(t, t.TempDir())
	r := h.mustOpen(MinSize)
	h.close(r)
	size := func() int64 {
		t.Helper()
		sp, err := Statfs(r.Dir())
		if err != nil {
			t.Fatal(err)
		}
		return sp.Size
	}
	r = h.mustOpen(2 * MinSize)
	if s := size(); s <= MinSize || s > 2*MinSize {
		t.Errorf("after growth to %d: file system of %d", 2*MinSize, s)
	}
	r = h.mustOpen(3 * MinSize) // left mounted
	if s := size(); s <= 2*MinSize || s > 3*MinSize {
		t.Errorf("after growth to %d: file system of %d", 3*MinSize, s)
	}
	if len(h.stopped) != 1 || h.stopped[0] != r.ClusterDir() {
		t.Errorf("StopStale calls %v, want the cluster's before unmounting", h.stopped)
	}
	var st unix.Stat_t
	if err := unix.Stat(r.Image(), &st); err != nil || st.Size != 3*MinSize || st.Blocks*512 < 3*MinSize {
		t.Errorf("image after growth: %d bytes, %d allocated, %v", st.Size, st.Blocks*512, err)
	}
	h.close(r)
	r = h.mustOpen(MinSize)
	if s := size(); s <= 2*MinSize || !strings.Contains(h.logs.String(), "does not shrink") {
		t.Errorf("a smaller size shrank it to %d or was not logged", s)
	}
	h.close(r)
}

// TestOpenOnBtrfs: on btrfs the image is NOCOW, so that overwriting it
// never needs new space.
func TestOpenOnBtrfs(t *testing.T) {
	needLoop(t)
	h := newHarness(t, filepath.Join(storagetest.LoopBtrfs(t, 512), "grove"))
	if err := os.Mkdir(h.dataDir, 0o711); err != nil {
		t.Fatal(err)
	}
	r := h.mustOpen(MinSize)
	defer h.close(r)
	f, err := os.Open(r.Image())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	flags, err := unix.IoctlGetUint32(int(f.Fd()), unix.FS_IOC_GETFLAGS)
	if err != nil || flags&fsNoCOW == 0 {
		t.Errorf("image flags %#x, %v; want NOCOW", flags, err)
	}
	if n, err := r.Keep(); err != nil || n != 0 {
		t.Errorf("Keep = %d, %v", n, err)
	}
}

// TestOpenThroughSymlink: a data dir named through a symbolic link finds
// its reserve left mounted, instead of mounting the image a second time.
func TestOpenThroughSymlink(t *testing.T) {
	needLoop(t)
	target := t.TempDir()
	h := newHarness(t, target)
	link := filepath.Join(t.TempDir(), "data")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	h.dataDir = link
	h.mustOpen(MinSize)
	r := h.mustOpen(MinSize) // no Close of the first: as after SIGKILL
	if !strings.Contains(h.logs.String(), "mounted already") || len(h.loops(r)) != 1 {
		t.Errorf("loop devices %v:\n%s", h.loops(r), h.logs.String())
	}
	if r.Dir() != filepath.Join(target, "meta") {
		t.Errorf("Dir = %s, want the real path", r.Dir())
	}
	h.close(r)
}

func TestExt4Size(t *testing.T) {
	sb := func(blocksLo, blocksHi, logBlock, incompat uint32, magic uint16) []byte {
		b := make([]byte, 1024)
		le := binary.LittleEndian
		le.PutUint32(b[0x04:], blocksLo)
		le.PutUint32(b[0x18:], logBlock)
		le.PutUint16(b[0x38:], magic)
		le.PutUint32(b[0x60:], incompat)
		le.PutUint32(b[0x150:], blocksHi)
		return b
	}
	for _, tc := range []struct {
		name string
		sb   []byte
		want int64
		ok   bool
	}{
		{"4k blocks", sb(262144, 0, 2, 0, 0xef53), 1 << 30, true},
		{"1k blocks", sb(131072, 0, 0, 0, 0xef53), 128 << 20, true},
		{"64bit", sb(0, 1, 2, 0x80, 0xef53), 1 << 44, true},
		{"hi ignored without 64bit", sb(262144, 1, 2, 0, 0xef53), 1 << 30, true},
		{"bad magic", sb(262144, 0, 2, 0, 0x1234), 0, false},
		{"bad block size", sb(262144, 0, 40, 0, 0xef53), 0, false},
		{"short", make([]byte, 100), 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ext4Size(tc.sb)
			if (err == nil) != tc.ok || got != tc.want {
				t.Errorf("ext4Size = %d, %v; want %d (ok %v)", got, err, tc.want, tc.ok)
			}
		})
	}
	// A real file system's superblock, where mkfs.ext4 is installed (no root needed).
	mkfs, err := loopdev.Tool("mkfs.ext4")
	if err != nil {
		t.Skipf("the real superblock: %v", err)
	}
	img := filepath.Join(t.TempDir(), "fs.img")
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 160<<20); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(mkfs, "-q", "-F", img).CombinedOutput(); err != nil {
		t.Fatalf("mkfs.ext4: %v: %s", err, out)
	}
	if n, err := ext4SizeOf(img); err != nil || n != 160<<20 {
		t.Errorf("ext4SizeOf(160 MiB image) = %d, %v", n, err)
	}
}
