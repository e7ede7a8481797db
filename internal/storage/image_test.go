package storage_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/grovedb/grove/internal/loopdev"
	"github.com/grovedb/grove/internal/pgtest"
	"github.com/grovedb/grove/internal/storage"
)

func TestDefaultImageSize(t *testing.T) {
	const mib, gib = 1 << 20, 1 << 30
	for _, tc := range []struct {
		name     string
		hostFree int64
		want     int64
	}{
		{"no room", 0, 0},
		{"under the minimum", storage.MinImageSize - 1, 0},
		{"the minimum", storage.MinImageSize, storage.MinImageSize},
		{"half, at least the minimum", 700 * mib, storage.MinImageSize},
		{"half", 100 * gib, 50 * gib},
		{"half, in whole steps", 10*gib + 100*mib, 5*gib + 0*mib + 0},
		{"half of an odd size", 3*gib + 128*mib, gib + 512*mib + 64*mib},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := storage.DefaultImageSize(tc.hostFree); got != tc.want {
				t.Errorf("DefaultImageSize(%d) = %d, want %d", tc.hostFree, got, tc.want)
			}
		})
	}
}

func TestGrowTo(t *testing.T) {
	const mib, gib = 1 << 20, 1 << 30
	for _, tc := range []struct {
		name                 string
		size, free, hostFree int64
		want                 int64
	}{
		{"plenty free", 4 * gib, 2 * gib, 100 * gib, 4 * gib},
		{"a quarter free", 4 * gib, gib, 100 * gib, 4 * gib},
		{"under a quarter: doubles", 4 * gib, gib - 1, 100 * gib, 8 * gib},
		{"full: doubles", 4 * gib, 0, 100 * gib, 8 * gib},
		{"at most half the host's free space", 4 * gib, 0, 3 * gib, 5*gib + 512*mib},
		{"in whole steps", 4 * gib, 0, 200 * mib, 4*gib + 64*mib},
		{"host too full to grow", 4 * gib, 0, 100 * mib, 4 * gib},
		{"host full", 4 * gib, 0, 0, 4 * gib},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := storage.GrowTo(tc.size, tc.free, tc.hostFree); got != tc.want {
				t.Errorf("GrowTo(%d, %d, %d) = %d, want %d", tc.size, tc.free, tc.hostFree, got, tc.want)
			}
		})
	}
}

func TestImageConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  storage.ImageConfig
		ok   bool
	}{
		{"default size", storage.ImageConfig{Path: "/d/volumes.img", Dir: "/d/volumes"}, true},
		{"sized", storage.ImageConfig{Path: "/d/volumes.img", Dir: "/d/volumes", Size: storage.MinImageSize}, true},
		{"too small", storage.ImageConfig{Path: "/d/volumes.img", Dir: "/d/volumes", Size: storage.MinImageSize - 1}, false},
		{"negative", storage.ImageConfig{Path: "/d/volumes.img", Dir: "/d/volumes", Size: -1}, false},
		{"relative image", storage.ImageConfig{Path: "volumes.img", Dir: "/d/volumes"}, false},
		{"relative dir", storage.ImageConfig{Path: "/d/volumes.img", Dir: "volumes"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.cfg.Validate(); (err == nil) != tc.ok {
				t.Errorf("Validate = %v, want ok %v", err, tc.ok)
			}
		})
	}
}

// needImage skips unless a btrfs image can be loop-mounted here.
func needImage(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("mounts file systems; skipped with -short")
	}
	if os.Geteuid() != 0 {
		t.Skip("mounting an image needs root")
	}
	if !loopdev.Available() {
		t.Skip("no loop devices (/dev/loop-control)")
	}
	for _, name := range []string{"mkfs.btrfs", "losetup"} {
		if _, err := loopdev.Tool(name); err != nil {
			t.Skipf("%v (Debian: btrfs-progs, mount)", err)
		}
	}
}

// openImage opens the image of dataDir, unmounted when the test ends if
// still mounted.
func openImage(t *testing.T, dataDir string, size int64) (*storage.Image, error) {
	t.Helper()
	cfg := storage.ImageConfig{Path: filepath.Join(dataDir, "volumes.img"), Dir: filepath.Join(dataDir, "volumes"), Size: size}
	im, err := storage.OpenImage(t.Context(), cfg)
	if err == nil {
		t.Cleanup(func() {
			if mounted(t, im.Dir()) {
				if out, err := exec.Command("umount", im.Dir()).CombinedOutput(); err != nil {
					t.Errorf("umount %s: %v: %s", im.Dir(), err, out)
				}
			}
		})
	}
	return im, err
}

func mustOpenImage(t *testing.T, dataDir string, size int64) *storage.Image {
	t.Helper()
	im, err := openImage(t, dataDir, size)
	if err != nil {
		t.Fatalf("OpenImage: %v", err)
	}
	return im
}

func mounted(t *testing.T, dir string) bool {
	t.Helper()
	ms, err := loopdev.Mounts()
	if err != nil {
		t.Fatal(err)
	}
	_, ok := loopdev.MountAt(ms, dir)
	return ok
}

func closeImage(t *testing.T, im *storage.Image) {
	t.Helper()
	if err := im.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if mounted(t, im.Dir()) {
		t.Fatal("still mounted after Close")
	}
	if devs, err := loopdev.Backing(loopdev.SysBlock, im.Path()); err != nil || len(devs) > 0 {
		t.Fatalf("loop devices still on the image after Close: %v, %v", devs, err)
	}
}

// TestImage: a new image is sparse, btrfs, mounted at the volumes root,
// and serves the btrfs driver; Close unmounts it and frees its loop
// device; the next Open mounts it with its volumes; one left mounted (a
// Grove killed) is taken as it is.
func TestImage(t *testing.T) {
	needImage(t)
	dataDir := pgtest.Dir(t)
	im := mustOpenImage(t, dataDir, storage.MinImageSize)
	if im.State() != storage.ImageMade || !mounted(t, im.Dir()) {
		t.Fatalf("state %q, mounted %v", im.State(), mounted(t, im.Dir()))
	}
	var st unix.Stat_t
	if err := unix.Stat(im.Path(), &st); err != nil {
		t.Fatal(err)
	}
	if st.Size != storage.MinImageSize || st.Blocks*512 > storage.MinImageSize/8 || st.Mode&0o777 != 0o600 {
		t.Errorf("image: size %d, allocated %d, mode %o; want %d, sparse, 0600", st.Size, st.Blocks*512, st.Mode&0o777, storage.MinImageSize)
	}
	// Direct I/O spares the page cache a second copy and makes fsync as
	// cheap as on the host; autoclear detaches the device at the unmount.
	for attr, want := range map[string]string{"dio": "1", "autoclear": "1"} {
		b, err := os.ReadFile(filepath.Join(loopdev.SysBlock, filepath.Base(im.Device()), "loop", attr))
		if err != nil || strings.TrimSpace(string(b)) != want {
			t.Errorf("%s of %s: %q, %v; want %s", attr, im.Device(), b, err, want)
		}
	}
	if fi, err := os.Stat(im.Dir()); err != nil || fi.Mode().Perm() != 0o711 {
		t.Errorf("volumes root: %v, %v; want 0711", fi.Mode(), err)
	}
	d, err := storage.Open(t.Context(), storage.NameBtrfs, im.Dir())
	if err != nil {
		t.Fatalf("the btrfs driver on the image: %v", err)
	}
	if err := d.Create(t.Context(), "a"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d.Path("a"), "f"), []byte("kept"), 0o600); err != nil {
		t.Fatal(err)
	}
	closeImage(t, im)

	im = mustOpenImage(t, dataDir, 0)
	if im.State() != storage.ImageMounted {
		t.Errorf("state %q, want %q", im.State(), storage.ImageMounted)
	}
	checkKept(t, filepath.Join(d.Path("a"), "f"))

	// Open again without Close, as after kill -9: the mount is reused.
	again := mustOpenImage(t, dataDir, 0)
	if again.State() != storage.ImageAdopted || again.Device() != im.Device() {
		t.Errorf("state %q on %s, want %q on %s", again.State(), again.Device(), storage.ImageAdopted, im.Device())
	}
	checkKept(t, filepath.Join(d.Path("a"), "f"))

	// A busy file system stays mounted until what uses it lets go.
	f, err := os.Open(filepath.Join(d.Path("a"), "f"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	if err := again.Close(ctx); !errors.Is(err, unix.EBUSY) || !mounted(t, again.Dir()) {
		t.Errorf("Close of a busy image = %v, mounted %v; want EBUSY, mounted", err, mounted(t, again.Dir()))
	}
	f.Close()
	// A server working in it (left running for the next Grove) keeps it
	// mounted without a wait.
	sleep := exec.Command("sleep", "60")
	sleep.Dir = d.Path("a")
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	err = again.Close(t.Context())
	if !errors.Is(err, unix.EBUSY) || !strings.Contains(err.Error(), strconv.Itoa(sleep.Process.Pid)) || !mounted(t, again.Dir()) {
		t.Errorf("Close with a process working in the image = %v, mounted %v; want EBUSY naming pid %d, mounted", err, mounted(t, again.Dir()), sleep.Process.Pid)
	}
	_ = sleep.Process.Kill()
	_ = sleep.Wait()
	closeImage(t, again)
}

// TestImageGrows: a larger configured size grows the image at Open, and
// Check grows it once under a quarter of it is free.
func TestImageGrows(t *testing.T) {
	needImage(t)
	dataDir := pgtest.Dir(t)
	im := mustOpenImage(t, dataDir, storage.MinImageSize)
	closeImage(t, im)
	im = mustOpenImage(t, dataDir, 2*storage.MinImageSize)
	if im.Size() != 2*storage.MinImageSize || fsSize(t, im.Dir()) < storage.MinImageSize*3/2 {
		t.Errorf("after Open with a larger size: image %d, file system %d; want %d", im.Size(), fsSize(t, im.Dir()), 2*storage.MinImageSize)
	}
	if err := im.Check(t.Context()); err != nil || im.Size() != 2*storage.MinImageSize {
		t.Fatalf("Check of a nearly empty image: %v, size %d", err, im.Size())
	}
	// Fill it past three quarters (fallocate takes the space at once).
	var sfs unix.Statfs_t
	if err := unix.Statfs(im.Dir(), &sfs); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(im.Dir(), "filler"))
	if err != nil {
		t.Fatal(err)
	}
	err = unix.Fallocate(int(f.Fd()), 0, 0, int64(sfs.Bavail)*sfs.Bsize-im.Size()/8)
	if err == nil {
		// btrfs counts the space used at its next commit.
		err = unix.Syncfs(int(f.Fd()))
	}
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	var fst unix.Stat_t
	_ = unix.Stat(filepath.Join(im.Dir(), "filler"), &fst)
	if err := im.Check(t.Context()); err != nil {
		t.Fatal(err)
	}
	if im.Size() != 4*storage.MinImageSize || fsSize(t, im.Dir()) < 3*storage.MinImageSize {
		t.Errorf("after Check of a filling image: image %d, file system %d; want %d", im.Size(), fsSize(t, im.Dir()), 4*storage.MinImageSize)
	}
	if err := os.Remove(filepath.Join(im.Dir(), "filler")); err != nil {
		t.Fatal(err)
	}
	// A smaller configured size never shrinks it.
	closeImage(t, im)
	im = mustOpenImage(t, dataDir, storage.MinImageSize)
	if im.Size() != 4*storage.MinImageSize {
		t.Errorf("after Open with a smaller size: image %d, want %d", im.Size(), 4*storage.MinImageSize)
	}
	closeImage(t, im)
}

// TestImageRefused: volumes made without an image stay where they are.
func TestImageRefused(t *testing.T) {
	needImage(t)
	dataDir := pgtest.Dir(t)
	if err := os.MkdirAll(filepath.Join(dataDir, "volumes", "br-old"), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := openImage(t, dataDir, 0); !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("OpenImage over existing volumes = %v, want ErrUnsupported", err)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "volumes.img")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("an image was left: %v", err)
	}
}

func fsSize(t *testing.T, dir string) int64 {
	t.Helper()
	var sfs unix.Statfs_t
	if err := unix.Statfs(dir, &sfs); err != nil {
		t.Fatal(err)
	}
	return int64(sfs.Blocks) * sfs.Bsize
}

func checkKept(t *testing.T, path string) {
	t.Helper()
	if b, err := os.ReadFile(path); err != nil || string(b) != "kept" {
		t.Errorf("%s: %q, %v; want kept", path, b, err)
	}
}
