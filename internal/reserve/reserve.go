// Package reserve keeps Grove's own state on disk space that tenants cannot
// take. The metadata cluster lives on a file system of its own: a
// fixed-size ext4 image in the data dir (<data-dir>/meta.img), allocated in
// full when it is made (NOCOW on btrfs, so that writing inside it never
// needs new space on the host), loop-mounted at <data-dir>/meta at each
// start and unmounted at a clean stop. The package also checks free space
// before start-up and watches it while Grove runs (Watch).
//
// Layout with a reserve: <data-dir>/meta is the mount point and the cluster
// is <data-dir>/meta/pgdata. A cluster made before the reserve existed sits
// in <data-dir>/meta itself; Open moves it into the reserve once: it renames
// it to <data-dir>/meta.legacy, copies it (owners and modes kept) to
// pgdata.tmp inside the reserve, renames that to pgdata and removes the old
// copy, so that a crash at any step resumes at the next start.
//
// A Grove killed with SIGKILL leaves the reserve mounted; Open takes the
// mount as it finds it. A loop device still attached to the image but not
// mounted is detached first; one mounted anywhere else stops Open, since
// two mounts of one ext4 image corrupt it. A larger configured size grows
// the image and its file system while unmounted (e2fsck, resize2fs); a
// smaller one is ignored.
package reserve

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/grovedb/grove/internal/loopdev"
)

// Sizes of the reserve.
const (
	DefaultSize = 1 << 30
	// MinSize is the smallest reserve Open makes.
	MinSize = 128 << 20
)

// Names in the data dir.
const (
	imageName   = "meta.img"    // the reserve's image
	mountName   = "meta"        // its mount point (the cluster's dir without a reserve)
	legacyName  = "meta.legacy" // a cluster made before the reserve, while it moves in
	clusterName = "pgdata"      // the cluster, inside the reserve
)

// fsNoCOW is FS_NOCOW_FL of linux/fs.h, which x/sys does not name.
const fsNoCOW = 0x00800000

// Config describes the reserve of one data dir.
type Config struct {
	// DataDir is Grove's data dir, an absolute path.
	DataDir string
	// Size of a reserve Open makes: 0 makes none (an existing one is still
	// used, since the metadata cluster is in it), else at least MinSize.
	// An existing reserve grows to Size; it never shrinks.
	Size int64
	// StopStale stops a postmaster an earlier Grove left running on a
	// cluster dir, before that cluster moves into the reserve.
	StopStale func(ctx context.Context, dataDir string) error
	Logger    *slog.Logger // nil → discard
}

// Validate reports whether c can be used.
func (c Config) Validate() error {
	switch {
	case !filepath.IsAbs(c.DataDir):
		return fmt.Errorf("reserve: data dir %q is not absolute", c.DataDir)
	case c.Size < 0 || (c.Size > 0 && c.Size < MinSize):
		return fmt.Errorf("reserve: size %d: 0 (none) or at least %s", c.Size, human(MinSize))
	case c.StopStale == nil:
		return errors.New("reserve: StopStale is required")
	}
	return nil
}

// Reserve is the mounted file system of the metadata cluster.
type Reserve struct {
	cfg   Config
	log   *slog.Logger
	image string // <data-dir>/meta.img
	dir   string // <data-dir>/meta, its mount point
}

// Open mounts the reserve, making it first if needed, and moves a cluster
// made before the reserve into it. Where no reserve can be made (size 0,
// not root, no loop devices, no mkfs.ext4, no room for the image, or the
// mount point is already a file system of its own) it returns an error
// wrapping errors.ErrUnsupported that says why, and the caller runs the
// cluster in <data-dir>/meta as before. Any other error means the
// metadata cluster cannot be reached safely.
func Open(ctx context.Context, cfg Config) (*Reserve, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	// The kernel names mount points and loop devices' files by their real
	// paths: a data dir behind a symbolic link must match them.
	dataDir, err := filepath.EvalSymlinks(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("reserve: %w", err)
	}
	cfg.DataDir = dataDir
	r := &Reserve{cfg: cfg, log: cfg.Logger,
		image: filepath.Join(dataDir, imageName), dir: filepath.Join(dataDir, mountName)}
	mounts, err := loopdev.Mounts()
	if err != nil {
		return nil, fmt.Errorf("reserve: %w", err)
	}
	if m, ok := loopdev.MountAt(mounts, r.dir); ok {
		if !loopdev.Backs(m.Source, r.image) {
			return nil, fmt.Errorf("%w: %s is already a file system of its own (%s on %s)", errors.ErrUnsupported, r.dir, m.FSType, m.Source)
		}
		r.log.Info("reserve: mounted already (the Grove before did not stop cleanly)", "dir", r.dir, "device", m.Source)
		if !r.wantsGrowth() || !r.unmountToGrow(ctx) {
			if err := r.ready(ctx, false); err != nil {
				return nil, err
			}
			return r, nil
		}
		if mounts, err = loopdev.Mounts(); err != nil {
			return nil, fmt.Errorf("reserve: %w", err)
		}
	}
	_ = os.Remove(r.image + ".new") // an image whose making was cut short
	created := false
	switch _, err := os.Stat(r.image); {
	case errors.Is(err, fs.ErrNotExist):
		if err := r.canMake(); err != nil {
			return nil, err
		}
		if err := r.fits(); err != nil {
			return nil, err
		}
		if err := r.create(ctx); err != nil {
			return nil, fmt.Errorf("%w: %v", errors.ErrUnsupported, err)
		}
		created = true
		r.log.Info("reserve: made", "image", r.image, "size", human(cfg.Size))
	case err != nil:
		return nil, fmt.Errorf("reserve: %w", err)
	case os.Geteuid() != 0:
		return nil, fmt.Errorf("reserve: the metadata cluster is in %s, which only root can mount: run grove as root", r.image)
	}
	if err := r.detachStale(ctx, mounts); err != nil {
		return nil, err
	}
	if !created {
		if err := r.grow(ctx); err != nil {
			// It works at its old size; the free-space check at start says
			// whether that is too small.
			r.log.Warn("reserve: not grown", "err", err)
		}
	}
	renamed, err := r.setAsideLegacy(ctx)
	if err != nil {
		return nil, err
	}
	undo := func() {
		legacy := filepath.Join(cfg.DataDir, legacyName)
		if _, err := os.Lstat(legacy); renamed && err == nil {
			_ = os.Remove(r.dir)
			_ = os.Rename(legacy, r.dir)
		}
	}
	if err := os.Mkdir(r.dir, 0o711); err != nil && !errors.Is(err, fs.ErrExist) {
		undo()
		return nil, fmt.Errorf("reserve: %w", err)
	}
	if err := r.mount(ctx); err != nil {
		undo()
		if created {
			_ = os.Remove(r.image)
			return nil, fmt.Errorf("%w: %v", errors.ErrUnsupported, err)
		}
		return nil, err
	}
	if err := r.ready(ctx, renamed); err != nil {
		_, serr := os.Lstat(r.ClusterDir())
		moved := serr == nil
		_ = r.Close(context.WithoutCancel(ctx))
		undo() // the cluster set aside is whole until the move ends by removing it
		if created && !moved {
			// Nothing depends on the new reserve yet: back to before.
			_ = os.Remove(r.image)
			return nil, fmt.Errorf("%w: %v", errors.ErrUnsupported, err)
		}
		return nil, err
	}
	return r, nil
}

// unmountToGrow unmounts a reserve found mounted so that it can grow
// (online growth needs CAP_SYS_RESOURCE), once the metadata cluster on it
// has stopped. It reports false, keeping the mount, when something still
// uses it (computes the killed Grove left, whose sockets are in the run
// dir): the reserve then grows at a start after a clean stop.
func (r *Reserve) unmountToGrow(ctx context.Context) bool {
	if err := r.cfg.StopStale(ctx, r.ClusterDir()); err != nil {
		r.log.Warn("reserve: not grown: stop the metadata cluster", "err", err)
		return false
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := r.Close(cctx); err != nil {
		r.log.Warn("reserve: not grown now: in use; it grows at a start after a clean stop", "err", err)
		return false
	}
	return true
}

// Dir is the reserve's mount point.
func (r *Reserve) Dir() string { return r.dir }

// ClusterDir is the metadata cluster's data directory inside the reserve.
func (r *Reserve) ClusterDir() string { return filepath.Join(r.dir, clusterName) }

// Image is the reserve's image file.
func (r *Reserve) Image() string { return r.image }

// Close unmounts the reserve; the metadata cluster must have stopped. It
// retries while the file system is busy (processes of the cluster still
// exiting) until ctx ends.
func (r *Reserve) Close(ctx context.Context) error {
	if err := loopdev.Unmount(ctx, r.dir, r.image); err != nil {
		return fmt.Errorf("reserve: %w", err)
	}
	return nil
}

// Keep allocates again any part of the image that a discard (fstrim of the
// reserve's file system goes through the loop device as a hole punched in
// the image) gave back to the host, so that the reserve stays whole. It
// returns the bytes allocated.
func (r *Reserve) Keep() (int64, error) {
	f, err := os.OpenFile(r.image, os.O_RDWR, 0)
	if err != nil {
		return 0, fmt.Errorf("reserve: %w", err)
	}
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return 0, fmt.Errorf("reserve: %w", err)
	}
	missing := st.Size - st.Blocks*512
	if missing <= 0 {
		return 0, nil
	}
	if err := unix.Fallocate(int(f.Fd()), 0, 0, st.Size); err != nil {
		return 0, fmt.Errorf("reserve: allocate %s: %w", r.image, err)
	}
	return missing, nil
}

// canMake reports, as an error wrapping errors.ErrUnsupported, why no
// reserve can be made here.
func (r *Reserve) canMake() error {
	if r.cfg.Size == 0 {
		return fmt.Errorf("%w: turned off (size 0)", errors.ErrUnsupported)
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("%w: mounting a file system needs root", errors.ErrUnsupported)
	}
	if !loopdev.Available() {
		return fmt.Errorf("%w: no loop devices (/dev/loop-control)", errors.ErrUnsupported)
	}
	for _, t := range []string{"mkfs.ext4", "mount", "losetup"} {
		if _, err := loopdev.Tool(t); err != nil {
			return fmt.Errorf("%w: %v (Debian: e2fsprogs, mount)", errors.ErrUnsupported, err)
		}
	}
	return nil
}

// fits reports, as an error wrapping errors.ErrUnsupported, that a cluster
// made before the reserve would not fit in a new one of the configured
// size.
func (r *Reserve) fits() error {
	if empty, err := isEmptyDir(r.dir); err != nil || empty {
		return err
	}
	used, err := diskUsage(r.dir)
	if err != nil {
		return fmt.Errorf("reserve: %w", err)
	}
	// ext4 keeps about 5% of a small file system for itself.
	if need := used + used/10 + MinFree + r.cfg.Size/20; need > r.cfg.Size {
		return fmt.Errorf("%w: the metadata cluster in %s (%s) does not fit in a reserve of %s; one of at least %s would hold it",
			errors.ErrUnsupported, r.dir, human(used), human(r.cfg.Size), human(roundUp(need+need/20, 64<<20)))
	}
	return nil
}

// create makes the image: allocated in full (NOCOW first on btrfs, where
// an overwrite would otherwise need new space) and formatted ext4.
func (r *Reserve) create(ctx context.Context) error {
	tmp := r.image + ".new"
	if err := r.allocate(tmp); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	mkfs, err := loopdev.Tool("mkfs.ext4")
	if err != nil {
		return err
	}
	// nodiscard: mke2fs would otherwise punch the allocation out of the
	// file. Inode tables are zeroed now, keeping their allocation: ext4's
	// lazy init would zero them after the mount through the loop device,
	// which punches holes. The journal needs no zeroing: a fresh allocation
	// reads as zeros. No blocks are kept for root: the cluster runs as
	// another user.
	out, err := exec.CommandContext(ctx, mkfs, "-q", "-F", "-m", "0", "-L", "grove-meta",
		"-E", "lazy_itable_init=0,lazy_journal_init=1,nodiscard", tmp).CombinedOutput()
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("mkfs.ext4 %s: %v: %s", tmp, err, bytesTrim(out))
	}
	if err := syncPath(tmp); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, r.image); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return syncPath(r.cfg.DataDir)
}

func (r *Reserve) allocate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	var sfs unix.Statfs_t
	if err := unix.Fstatfs(int(f.Fd()), &sfs); err != nil {
		return err
	}
	if sfs.Type == unix.BTRFS_SUPER_MAGIC {
		// Only an empty file takes the flag.
		flags, err := unix.IoctlGetUint32(int(f.Fd()), unix.FS_IOC_GETFLAGS)
		if err != nil {
			return fmt.Errorf("get flags of %s: %w", path, err)
		}
		if err := unix.IoctlSetPointerInt(int(f.Fd()), unix.FS_IOC_SETFLAGS, int(flags|fsNoCOW)); err != nil {
			return fmt.Errorf("set NOCOW on %s: %w", path, err)
		}
	}
	if err := unix.Fallocate(int(f.Fd()), 0, 0, r.cfg.Size); err != nil {
		if errors.Is(err, unix.ENOSPC) {
			free := int64(sfs.Bavail) * sfs.Bsize
			return fmt.Errorf("no room for a reserve of %s in %s (%s free)", human(r.cfg.Size), r.cfg.DataDir, human(free))
		}
		return fmt.Errorf("allocate %s: %w", path, err)
	}
	return f.Sync()
}

// detachStale detaches loop devices left attached to the image without a
// mount, and refuses to go on if the image is mounted anywhere.
func (r *Reserve) detachStale(ctx context.Context, mounts []loopdev.Mount) error {
	devs, err := loopdev.DetachStale(ctx, r.image, mounts)
	if err != nil {
		return fmt.Errorf("reserve: %w", err)
	}
	for _, dev := range devs {
		r.log.Info("reserve: detached a stale loop device", "device", dev, "image", r.image)
	}
	return nil
}

// setAsideLegacy renames a cluster made before the reserve out of the
// mount point, once any postmaster on it has stopped.
func (r *Reserve) setAsideLegacy(ctx context.Context) (bool, error) {
	empty, err := isEmptyDir(r.dir)
	if err != nil {
		return false, fmt.Errorf("reserve: %w", err)
	}
	if empty {
		return false, nil
	}
	legacy := filepath.Join(r.cfg.DataDir, legacyName)
	if _, err := os.Lstat(legacy); err == nil {
		return false, fmt.Errorf("reserve: both %s and %s hold files; the metadata cluster is in one of them: remove the other", r.dir, legacy)
	}
	if err := r.cfg.StopStale(ctx, r.dir); err != nil {
		return false, fmt.Errorf("reserve: stop the metadata cluster in %s: %w", r.dir, err)
	}
	if err := os.Rename(r.dir, legacy); err != nil {
		return false, fmt.Errorf("reserve: %w", err)
	}
	return true, syncPath(r.cfg.DataDir)
}

func (r *Reserve) mount(ctx context.Context) error {
	bin, err := loopdev.Tool("mount")
	if err != nil {
		return fmt.Errorf("reserve: %w", err)
	}
	// noinit_itable: ext4 would zero the inode tables of groups a growth
	// added through the loop device, which punches holes in the image.
	out, err := exec.CommandContext(ctx, bin, "-t", "ext4", "-o", "loop,nosuid,nodev,noexec,noinit_itable", r.image, r.dir).CombinedOutput()
	if err != nil {
		return fmt.Errorf("reserve: mount %s at %s: %v: %s", r.image, r.dir, err, bytesTrim(out))
	}
	return nil
}

// ready finishes a mounted reserve: its root traversable by the cluster's
// user, and the cluster made before it moved in. renamed says whether this start set such a cluster aside.
func (r *Reserve) ready(ctx context.Context, renamed bool) error {
	if err := os.Chmod(r.dir, 0o711); err != nil {
		return fmt.Errorf("reserve: %w", err)
	}
	legacy := filepath.Join(r.cfg.DataDir, legacyName)
	if _, err := os.Lstat(legacy); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	cluster := r.ClusterDir()
	if _, err := os.Lstat(cluster); err == nil {
		if renamed {
			return fmt.Errorf("reserve: both %s (not mounted) and the reserve %s hold a metadata cluster: remove the one that is not current", r.dir, r.image)
		}
		// Moved already; the old copy was not yet removed.
		return removeAll(legacy)
	}
	return r.moveIn(legacy, cluster)
}

// moveIn copies the cluster in legacy to cluster and removes legacy.
func (r *Reserve) moveIn(legacy, cluster string) error {
	tmp := cluster + ".tmp"
	if err := removeAll(tmp); err != nil {
		return err
	}
	used, err := diskUsage(legacy)
	if err != nil {
		return fmt.Errorf("reserve: %w", err)
	}
	sp, err := Statfs(r.dir)
	if err != nil {
		return fmt.Errorf("reserve: %w", err)
	}
	if used+MinFree > sp.Free {
		return fmt.Errorf("reserve: the metadata cluster in %s (%s) does not fit in the reserve %s (%s free): restart with a reserve of at least %s",
			legacy, human(used), r.image, human(sp.Free), human(roundUp(sp.Size+used+MinFree-sp.Free, 64<<20)))
	}
	start := time.Now()
	if err := copyTree(legacy, tmp); err != nil {
		return fmt.Errorf("reserve: copy the metadata cluster: %w", err)
	}
	if err := syncFS(tmp); err != nil {
		return fmt.Errorf("reserve: %w", err)
	}
	if err := os.Rename(tmp, cluster); err != nil {
		return fmt.Errorf("reserve: %w", err)
	}
	if err := syncPath(r.dir); err != nil {
		return fmt.Errorf("reserve: %w", err)
	}
	if err := os.RemoveAll(legacy); err != nil {
		// The next start removes the rest.
		r.log.Warn("reserve: remove the old copy of the metadata cluster", "dir", legacy, "err", err)
	}
	r.log.Info("reserve: moved the metadata cluster into the reserve", "from", filepath.Join(r.cfg.DataDir, mountName),
		"to", cluster, "bytes", used, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// grow enlarges the image, not mounted, and its file system to the
// configured size.
func (r *Reserve) grow(ctx context.Context) error {
	fi, err := os.Stat(r.image)
	if err != nil {
		return err
	}
	fsSize, err := ext4SizeOf(r.image)
	if err != nil {
		return err
	}
	switch {
	case r.cfg.Size == 0:
		r.log.Info("reserve: kept although its size is 0: the metadata cluster is in it", "image", r.image, "size", human(fi.Size()))
		return nil
	case r.cfg.Size < fsSize:
		r.log.Info("reserve: kept at its size; it does not shrink", "image", r.image, "size", human(fsSize), "configured", human(r.cfg.Size))
		return nil
	case r.cfg.Size == fsSize:
		return nil
	}
	f, err := os.OpenFile(r.image, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	err = unix.Fallocate(int(f.Fd()), 0, 0, r.cfg.Size)
	if err == nil {
		err = f.Sync()
	}
	f.Close()
	if err != nil {
		return fmt.Errorf("allocate %s to %s: %w", r.image, human(r.cfg.Size), err)
	}
	// resize2fs wants a checked file system; -p repairs only what is safe
	// and exits 1 when it did.
	e2fsck, err := loopdev.Tool("e2fsck")
	if err != nil {
		return err
	}
	out, err := exec.CommandContext(ctx, e2fsck, "-f", "-p", r.image).CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 1) {
		return fmt.Errorf("e2fsck %s: %v: %s", r.image, err, bytesTrim(out))
	}
	resize2fs, err := loopdev.Tool("resize2fs")
	if err != nil {
		return err
	}
	if out, err := exec.CommandContext(ctx, resize2fs, r.image).CombinedOutput(); err != nil {
		return fmt.Errorf("resize2fs %s: %v: %s", r.image, err, bytesTrim(out))
	}
	r.log.Info("reserve: grown", "image", r.image, "from", human(fsSize), "to", human(r.cfg.Size))
	return nil
}

// wantsGrowth reports whether the image's file system is smaller than the
// configured size.
func (r *Reserve) wantsGrowth() bool {
	n, err := ext4SizeOf(r.image)
	return err == nil && r.cfg.Size > n
}

// ext4SizeOf reads the size of the ext4 file system in an image from its
// superblock.
func ext4SizeOf(image string) (int64, error) {
	f, err := os.Open(image)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sb := make([]byte, 1024)
	if _, err := f.ReadAt(sb, 1024); err != nil {
		return 0, fmt.Errorf("read the superblock of %s: %w", image, err)
	}
	n, err := ext4Size(sb)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", image, err)
	}
	return n, nil
}

// ext4Size is the size of an ext4 file system from its superblock.
func ext4Size(sb []byte) (int64, error) {
	le := binary.LittleEndian
	if len(sb) < 0x154 || le.Uint16(sb[0x38:]) != 0xef53 {
		return 0, errors.New("not an ext4 superblock")
	}
	logBlock := le.Uint32(sb[0x18:])
	if logBlock > 6 {
		return 0, fmt.Errorf("ext4 superblock: block size 1024<<%d", logBlock)
	}
	blocks := uint64(le.Uint32(sb[0x04:]))
	if le.Uint32(sb[0x60:])&0x80 != 0 { // INCOMPAT_64BIT
		blocks |= uint64(le.Uint32(sb[0x150:])) << 32
	}
	return int64(blocks) << (10 + logBlock), nil
}

// isEmptyDir reports whether dir is missing or empty.
func isEmptyDir(dir string) (bool, error) {
	f, err := os.Open(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	_, err = f.Readdirnames(1)
	if err == io.EOF {
		return true, nil
	}
	return false, err
}

func removeAll(path string) error {
	if err := os.RemoveAll(path); err != nil {
		return fmt.Errorf("reserve: %w", err)
	}
	return nil
}

// syncPath fsyncs a file or directory.
func syncPath(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// syncFS flushes the whole file system holding path.
func syncFS(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return unix.Syncfs(int(f.Fd()))
}

func bytesTrim(b []byte) string { return strings.TrimSpace(string(b)) }

func roundUp(n, to int64) int64 { return (n + to - 1) / to * to }
