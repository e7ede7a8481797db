package storage_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/grovedb/grove/internal/pgtest"
	"github.com/grovedb/grove/internal/storage"
	"github.com/grovedb/grove/internal/storage/storagetest"
	"golang.org/x/sys/unix"
)

func TestValidID(t *testing.T) {
	tests := []struct {
		id string
		ok bool
	}{
		{"a", true},
		{"0", true},
		{"br-cool-darkness-123456", true},
		{"a-", true},
		{strings.Repeat("a", 63), true},
		{strings.Repeat("a", 64), false},
		{"", false},
		{"A", false},
		{"-a", false},
		{".tmp-a", false},
		{"../x", false},
		{"a/b", false},
		{"a_b", false},
		{"a.b", false},
		{"a b", false},
		{"a\n", false},
		{"ä", false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.id), func(t *testing.T) {
			err := storage.ValidID(tt.id)
			if (err == nil) != tt.ok {
				t.Fatalf("ValidID(%q) = %v, want ok=%v", tt.id, err, tt.ok)
			}
			if err != nil && !errors.Is(err, storage.ErrInvalidID) {
				t.Fatalf("ValidID(%q) = %v, want ErrInvalidID", tt.id, err)
			}
		})
	}
}

// fsSupportsReflink reports whether FICLONE works in dir.
func fsSupportsReflink(t *testing.T, dir string) bool {
	t.Helper()
	_, err := storage.OpenReflink(t.Context(), dir)
	return err == nil
}

func TestOpen(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	tests := []struct {
		name    string
		driver  string
		wantErr bool
	}{
		{"copy", storage.NameCopy, false},
		{"unknown", "zfs", true},
		{"empty", "", true},
		{"btrfs off btrfs", storage.NameBtrfs, !isBtrfs(dir)},
		{"reflink", storage.NameReflink, !fsSupportsReflink(t, dir)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := filepath.Join(dir, tt.name, "vols") // Open creates missing roots
			d, err := storage.Open(ctx, tt.driver, root)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Open(%q) err = %v, want error %v", tt.driver, err, tt.wantErr)
			}
			if err == nil && (d.Name() != tt.driver || d.Root() != root) {
				t.Fatalf("Open(%q) = %s at %s", tt.driver, d.Name(), d.Root())
			}
		})
	}
}

func TestOpenRootIsFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(f, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := storage.Probe(t.Context(), f); err == nil {
		t.Fatal("Probe on a file succeeded")
	}
}

func isBtrfs(dir string) bool {
	var s unix.Statfs_t
	return unix.Statfs(dir, &s) == nil && s.Type == unix.BTRFS_SUPER_MAGIC
}

func TestProbe(t *testing.T) {
	t.Run("tempdir", func(t *testing.T) {
		dir := t.TempDir()
		d, err := storage.Probe(t.Context(), filepath.Join(dir, "vols"))
		if err != nil {
			t.Fatal(err)
		}
		want := storage.NameCopy
		switch {
		case isBtrfs(dir) && os.Geteuid() == 0:
			want = storage.NameBtrfs
		case fsSupportsReflink(t, dir):
			want = storage.NameReflink
		}
		if d.Name() != want {
			t.Fatalf("Probe chose %s, want %s", d.Name(), want)
		}
		fi, err := os.Stat(d.Root())
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o711 {
			t.Fatalf("new root mode %v, want 0711", fi.Mode().Perm())
		}
	})
	t.Run("btrfs", func(t *testing.T) {
		mnt := storagetest.LoopBtrfs(t, 256)
		d, err := storage.Probe(t.Context(), filepath.Join(mnt, "vols"))
		if err != nil {
			t.Fatal(err)
		}
		if d.Name() != storage.NameBtrfs || !d.Atomic() {
			t.Fatalf("Probe on btrfs chose %s (atomic %v)", d.Name(), d.Atomic())
		}
	})
	t.Run("tmpfs", func(t *testing.T) {
		mnt := storagetest.Tmpfs(t, 16)
		d, err := storage.Probe(t.Context(), mnt)
		if err != nil {
			t.Fatal(err)
		}
		if d.Name() != storage.NameCopy || d.Atomic() {
			t.Fatalf("Probe on tmpfs chose %s (atomic %v)", d.Name(), d.Atomic())
		}
	})
}

// TestOpenRemovesTemporaries checks that a crash's leftovers go at Open.
func TestOpenRemovesTemporaries(t *testing.T) {
	root := t.TempDir()
	tmp := filepath.Join(root, ".tmp-x-1")
	if err := os.MkdirAll(filepath.Join(tmp, "d"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(root, "vol"), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := storage.Open(t.Context(), storage.NameCopy, root); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("temporary still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "vol")); err != nil {
		t.Fatalf("volume removed: %v", err)
	}
}

func newDriver(name string, root func(t *testing.T) string) func(t *testing.T) storage.Driver {
	return func(t *testing.T) storage.Driver {
		d, err := storage.Open(t.Context(), name, filepath.Join(root(t), "vols"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cleanRoot(t, d) })
		return d
	}
}

// cleanRoot deletes every volume, so that read-only snapshots and subvolumes
// do not stop t.TempDir's removal or an unmount.
func cleanRoot(t *testing.T, d storage.Driver) {
	ids, err := d.List(t.Context())
	if err != nil {
		t.Errorf("list volumes at cleanup: %v", err)
		return
	}
	for _, id := range ids {
		if err := d.Delete(t.Context(), id); err != nil {
			t.Errorf("delete volume at cleanup: %v", err)
		}
	}
}

// sharedBtrfs mounts one loop btrfs per top-level test; each suite case gets
// its own root directory in it.
func sharedBtrfs(t *testing.T) func(t *testing.T) string {
	mnt := storagetest.LoopBtrfs(t, 512)
	return func(t *testing.T) string {
		dir, err := os.MkdirTemp(mnt, "root-")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, 0o711); err != nil {
			t.Fatal(err)
		}
		return dir
	}
}

func TestCopy(t *testing.T) {
	storagetest.RunSuite(t, newDriver(storage.NameCopy, func(t *testing.T) string { return pgtest.Dir(t) }))
}

func TestCopyTmpfs(t *testing.T) {
	storagetest.RunSuite(t, newDriver(storage.NameCopy, func(t *testing.T) string { return storagetest.Tmpfs(t, 192) }))
}

func TestCopyBtrfs(t *testing.T) {
	storagetest.RunSuite(t, newDriver(storage.NameCopy, sharedBtrfs(t)))
}

func TestReflinkTempDir(t *testing.T) {
	if !fsSupportsReflink(t, t.TempDir()) {
		t.Skip("the temporary directory's file system has no FICLONE; see TestReflinkBtrfs")
	}
	storagetest.RunSuite(t, newDriver(storage.NameReflink, func(t *testing.T) string { return pgtest.Dir(t) }))
}

func TestReflinkBtrfs(t *testing.T) {
	storagetest.RunSuite(t, newDriver(storage.NameReflink, sharedBtrfs(t)))
}

func TestBtrfs(t *testing.T) {
	storagetest.RunSuite(t, newDriver(storage.NameBtrfs, sharedBtrfs(t)))
}

// TestBtrfsPlainDirVolume checks that a volume that is a plain directory
// (made outside the driver) is cloned as a copy into a new subvolume rather
// than by snapshotting the subvolume that holds it.
func TestBtrfsPlainDirVolume(t *testing.T) {
	mnt := storagetest.LoopBtrfs(t, 256)
	ctx := t.Context()
	d, err := storage.Open(ctx, storage.NameBtrfs, filepath.Join(mnt, "vols"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mnt, "outside"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(d.Path("plain"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d.Path("plain"), "f"), []byte("inside"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, op := range []string{"clone", "snap"} {
		if op == "clone" {
			err = d.Clone(ctx, "plain", op)
		} else {
			err = d.Snapshot(ctx, "plain", op)
		}
		if err != nil {
			t.Fatal(err)
		}
		var st unix.Stat_t
		if err := unix.Stat(d.Path(op), &st); err != nil || st.Ino != 256 {
			t.Fatalf("%s is not a subvolume (ino %d, %v)", op, st.Ino, err)
		}
		ents, err := os.ReadDir(d.Path(op))
		if err != nil || len(ents) != 1 || ents[0].Name() != "f" {
			t.Fatalf("%s holds %v (%v), want just f", op, ents, err)
		}
	}
	if err := os.WriteFile(filepath.Join(d.Path("snap"), "g"), nil, 0o600); err == nil {
		t.Error("wrote into a read-only snapshot")
	}
	for _, id := range []string{"plain", "clone", "snap"} {
		if err := d.Delete(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
}

// TestBtrfsUsageWithoutQuotas checks that exclusive usage is reported as
// unsupported, with a valid total, when quotas are off.
func TestBtrfsUsageWithoutQuotas(t *testing.T) {
	mnt := storagetest.LoopBtrfs(t, 256)
	if err := runQuota(mnt, "disable"); err != nil {
		t.Fatal(err)
	}
	d, err := storage.Open(t.Context(), storage.NameBtrfs, filepath.Join(mnt, "vols"))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Create(t.Context(), "a"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d.Path("a"), "f"), make([]byte, 5000), 0o600); err != nil {
		t.Fatal(err)
	}
	u, err := d.Usage(t.Context(), "a")
	if !errors.Is(err, errors.ErrUnsupported) || u.Total != 5000 || u.Exclusive != -1 {
		t.Fatalf("Usage = %+v, %v; want Total 5000, Exclusive -1, ErrUnsupported", u, err)
	}
}

func runQuota(mnt, op string) error {
	if out, err := exec.Command("btrfs", "quota", op, mnt).CombinedOutput(); err != nil {
		return fmt.Errorf("btrfs quota %s: %w: %s", op, err, out)
	}
	return nil
}
