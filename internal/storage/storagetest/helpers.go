package storagetest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/grovedb/grove/internal/pgrun"
	"github.com/grovedb/grove/internal/pgtest"
	"github.com/grovedb/grove/internal/storage"
	"golang.org/x/sys/unix"
)

// Owner given to sample files when tests run as root, so that a clone that
// loses ownership is caught.
const (
	otherUID = 12345
	otherGID = 23456
)

func mustCreate(t *testing.T, d storage.Driver, id string) {
	t.Helper()
	if err := d.Create(t.Context(), id); err != nil {
		t.Fatal(err)
	}
}

func mustClone(t *testing.T, d storage.Driver, src, dst string) {
	t.Helper()
	if err := d.Clone(t.Context(), src, dst); err != nil {
		t.Fatal(err)
	}
}

func mustDelete(t *testing.T, d storage.Driver, id string) {
	t.Helper()
	if err := d.Delete(t.Context(), id); err != nil {
		t.Fatal(err)
	}
}

func assertVolumes(t *testing.T, d storage.Driver, want ...string) {
	t.Helper()
	got, err := d.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want = slices.Clone(want)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("List = %q, want %q", got, want)
	}
}

func assertNoTemporaries(t *testing.T, d storage.Driver) {
	t.Helper()
	ents, err := os.ReadDir(d.Root())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".tmp-") {
			t.Errorf("temporary %s left in the root", e.Name())
		}
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func checkFile(t *testing.T, path, want string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != want {
		t.Errorf("%s = %q, want %q", path, b, want)
	}
}

func writeRandom(t *testing.T, path string, size int) {
	t.Helper()
	b := make([]byte, size)
	rand.Read(b)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// writeSampleTree fills dir with every kind of entry a clone must keep:
// odd modes (set-id, sticky, read-only), foreign owners when root, symlinks
// (relative, absolute, dangling), a hard link, a fifo, empty and nested
// directories, and distinct nanosecond timestamps.
func writeSampleTree(t *testing.T, dir string) {
	t.Helper()
	type entry struct {
		path, content, link string
		mode                os.FileMode // with os.ModeDir etc.
	}
	entries := []entry{
		{path: "file", content: "hello\n", mode: 0o600},
		{path: "empty", mode: 0o644},
		{path: "exec", content: "#!/bin/true\n", mode: 0o755},
		{path: "setuid", content: "x", mode: 0o755 | os.ModeSetuid},
		{path: "readonly", content: "ro", mode: 0o444},
		{path: "dir", mode: 0o750 | os.ModeDir | os.ModeSetgid},
		{path: "dir/nested", content: "nested\n", mode: 0o640},
		{path: "dir/deeper", mode: 0o700 | os.ModeDir},
		{path: "dir/deeper/leaf", content: strings.Repeat("leaf", 5000), mode: 0o600},
		{path: "emptydir", mode: 0o711 | os.ModeDir},
		{path: "sticky", mode: 0o777 | os.ModeDir | os.ModeSticky},
		{path: "link", link: "file", mode: os.ModeSymlink},
		{path: "dir/up", link: "../file", mode: os.ModeSymlink},
		{path: "abs", link: "/etc/hostname", mode: os.ModeSymlink},
		{path: "dangling", link: "nowhere", mode: os.ModeSymlink},
		{path: "fifo", mode: 0o600 | os.ModeNamedPipe},
		{path: "rodir", mode: 0o500 | os.ModeDir},
		{path: "rodir/inside", content: "in a read-only dir", mode: 0o600},
	}
	for _, e := range entries {
		p := filepath.Join(dir, e.path)
		var err error
		switch {
		case e.mode&os.ModeDir != 0:
			err = os.Mkdir(p, 0o700)
		case e.mode&os.ModeSymlink != 0:
			err = os.Symlink(e.link, p)
		case e.mode&os.ModeNamedPipe != 0:
			err = unix.Mkfifo(p, 0o600)
		default:
			err = os.WriteFile(p, []byte(e.content), 0o600)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Link(filepath.Join(dir, "file"), filepath.Join(dir, "hard")); err != nil {
		t.Fatal(err)
	}
	root := os.Geteuid() == 0
	// Deepest first, so that setting a child does not change the parent's
	// times afterwards, and the volume root last.
	for i := len(entries) - 1; i >= -1; i-- {
		p, mode := dir, os.FileMode(0o700)
		if i >= 0 {
			p, mode = filepath.Join(dir, entries[i].path), entries[i].mode
		}
		if root && i%2 == 0 {
			if err := os.Lchown(p, otherUID, otherGID); err != nil {
				t.Fatal(err)
			}
		}
		if mode&os.ModeSymlink == 0 {
			if err := os.Chmod(p, mode); err != nil {
				t.Fatal(err)
			}
		}
		sec := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC).Unix() + int64(i*1000)
		ts := []unix.Timespec{{Sec: sec, Nsec: 123456789}, {Sec: sec + 1, Nsec: int64(i+2) * 1000003}}
		if err := unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			t.Fatal(err)
		}
	}
}

// entry is what a clone must keep of one file.
type entry struct {
	mode     os.FileMode
	uid, gid uint32
	mtime    time.Time
	content  string // regular files
	link     string // symlinks
}

// manifest describes every entry under dir by relative path ("." for dir).
func manifest(t *testing.T, dir string) map[string]entry {
	t.Helper()
	m := map[string]entry{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		e := entry{mode: fi.Mode(), uid: st.Uid, gid: st.Gid, mtime: fi.ModTime()}
		switch {
		case fi.Mode().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			e.content = string(b)
		case fi.Mode()&os.ModeSymlink != 0:
			if e.link, err = os.Readlink(p); err != nil {
				return err
			}
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		m[rel] = e
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// equalManifest reports each difference as a test error.
func equalManifest(t *testing.T, got, want map[string]entry) bool {
	t.Helper()
	ok := true
	for p, w := range want {
		g, found := got[p]
		switch {
		case !found:
			t.Errorf("%s: missing", p)
		case g.mode != w.mode:
			t.Errorf("%s: mode %v, want %v", p, g.mode, w.mode)
		case g.uid != w.uid || g.gid != w.gid:
			t.Errorf("%s: owner %d:%d, want %d:%d", p, g.uid, g.gid, w.uid, w.gid)
		case !g.mtime.Equal(w.mtime):
			t.Errorf("%s: mtime %v, want %v", p, g.mtime, w.mtime)
		case g.content != w.content:
			t.Errorf("%s: content differs (%d bytes, want %d)", p, len(g.content), len(w.content))
		case g.link != w.link:
			t.Errorf("%s: symlink to %q, want %q", p, g.link, w.link)
		default:
			continue
		}
		ok = false
	}
	for p := range got {
		if _, found := want[p]; !found {
			t.Errorf("%s: unexpected", p)
			ok = false
		}
	}
	return ok
}

// startPG starts Postgres on volume id and stops it when the test ends. A
// clone of a running cluster carries its postmaster.pid, which would make
// Postgres refuse to start while the source runs, so it is removed.
func startPG(t *testing.T, d storage.Driver, id string) *pgtest.Server {
	t.Helper()
	in := pgtest.Install(t, 0)
	u := pgtest.User(t)
	if err := os.Remove(filepath.Join(d.Path(id), "postmaster.pid")); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	sock := filepath.Join(pgtest.Dir(t), "s")
	if err := u.MkdirOwned(sock, 0o700); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	srv, err := pgrun.Start(ctx, pgrun.Options{Install: in, User: u, DataDir: d.Path(id), SocketDir: sock,
		Settings: map[string]string{"fsync": "off", "max_connections": "20", "shared_buffers": "16MB"}})
	if err != nil {
		t.Fatalf("start postgres on volume %s: %v", id, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = srv.Stop(ctx)
	})
	return &pgtest.Server{Server: srv, User: u}
}

// LoopBtrfs returns the mount point of a new btrfs file system of sizeMB
// (at least 128) on a loop device, with quotas enabled, traversable by the
// Postgres user, unmounted and detached when the test ends. It skips the test
// with -short, when not root, or when loop devices or mounting are unavailable.
func LoopBtrfs(t testing.TB, sizeMB int) string {
	t.Helper()
	dir, img := loopImage(t, sizeMB, "mkfs.btrfs")
	if out, err := exec.Command("mkfs.btrfs", "-q", img).CombinedOutput(); err != nil {
		t.Fatalf("mkfs.btrfs: %v: %s", err, out)
	}
	out, err := exec.Command("losetup", "--find", "--show", img).CombinedOutput()
	if err != nil {
		t.Skipf("no loop device: losetup: %v: %s", err, out)
	}
	dev := strings.TrimSpace(string(out))
	t.Cleanup(func() {
		if out, err := exec.Command("losetup", "-d", dev).CombinedOutput(); err != nil {
			t.Errorf("losetup -d %s: %v: %s", dev, err, out)
		}
	})
	mnt := filepath.Join(dir, "mnt")
	mount(t, mnt, "-t", "btrfs", dev, mnt)
	if out, err := exec.Command("btrfs", "quota", "enable", mnt).CombinedOutput(); err != nil {
		t.Fatalf("btrfs quota enable: %v: %s", err, out)
	}
	return mnt
}

// Tmpfs returns the mount point of a new tmpfs of sizeMB, traversable by the
// Postgres user, unmounted when the test ends: a small real file system
// without extent sharing, where a copy runs out of space. It skips the test
// with -short or when not root or mounting fails.
func Tmpfs(t testing.TB, sizeMB int) string {
	t.Helper()
	if testing.Short() {
		t.Skip("mounts a file system; skipped with -short")
	}
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	mnt := filepath.Join(pgtest.Dir(t), "mnt")
	mount(t, mnt, "-t", "tmpfs", "-o", fmt.Sprintf("size=%dm,mode=0711", sizeMB), "tmpfs", mnt)
	return mnt
}

func loopImage(t testing.TB, sizeMB int, mkfs string) (dir, img string) {
	t.Helper()
	if testing.Short() {
		t.Skip("mounts a loop device; skipped with -short")
	}
	if os.Geteuid() != 0 {
		t.Skip("loop-mounting a file system needs root")
	}
	for _, tool := range []string{mkfs, "losetup", "mount", "umount"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed: %v", tool, err)
		}
	}
	dir = pgtest.Dir(t)
	img = filepath.Join(dir, "fs.img")
	f, err := os.Create(img)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(int64(sizeMB) << 20); err != nil {
		t.Fatal(err)
	}
	return dir, img
}

// mount runs mount with args onto the new directory mnt, skipping the test
// if that fails, and unmounts it at the end.
func mount(t testing.TB, mnt string, args ...string) {
	t.Helper()
	if err := os.Mkdir(mnt, 0o711); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", args...).CombinedOutput(); err != nil {
		t.Skipf("cannot mount: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", mnt, err, out)
			// Detach lazily so the loop device can still be released.
			_ = exec.Command("umount", "-l", mnt).Run()
		}
	})
	if err := os.Chmod(mnt, 0o711); err != nil {
		t.Fatal(err)
	}
}
