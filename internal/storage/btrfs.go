package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Btrfs is the driver for btrfs: every volume is a subvolume, and Clone and
// Snapshot are subvolume snapshots made with ioctls (exec'ing the btrfs tool
// would cost more than the snapshot itself).
type Btrfs struct{ base }

// Kernel ABI from linux/btrfs.h.
const (
	btrfsFirstFreeObjectID = 256 // inode number of every subvolume's root directory
	btrfsSubvolRdonly      = 1 << 1

	// _IOW(0x94, nr, 4096-byte args)
	btrfsIocSubvolCreate  = 0x5000940e
	btrfsIocSnapDestroy   = 0x5000940f
	btrfsIocSnapCreateV2  = 0x50009417
	btrfsIocSubvolGetflag = 0x80089419 // _IOR(0x94, 25, u64)
	btrfsIocSubvolSetflag = 0x4008941a // _IOW(0x94, 26, u64)
)

// btrfsVolArgs is struct btrfs_ioctl_vol_args.
type btrfsVolArgs struct {
	fd   int64
	name [4088]byte
}

// btrfsVolArgsV2 is struct btrfs_ioctl_vol_args_v2.
type btrfsVolArgsV2 struct {
	fd      int64
	transid uint64
	flags   uint64
	unused  [4]uint64
	name    [4040]byte
}

func btrfsIoctl(fd int, req uintptr, arg unsafe.Pointer) error {
	_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), req, uintptr(arg))
	if e != 0 {
		return e
	}
	return nil
}

// OpenBtrfs returns the btrfs driver for the existing directory root, or an
// error if root is not on btrfs or subvolumes cannot be made and removed there.
func OpenBtrfs(ctx context.Context, root string) (*Btrfs, error) {
	var sfs unix.Statfs_t
	if err := unix.Statfs(root, &sfs); err != nil {
		return nil, fmt.Errorf("open btrfs storage: %w", err)
	}
	if sfs.Type != unix.BTRFS_SUPER_MAGIC {
		return nil, fmt.Errorf("open btrfs storage: %s is not on btrfs", root)
	}
	b := &Btrfs{base{root: root}}
	tmp, err := tmpName(root, "probe")
	if err != nil {
		return nil, err
	}
	if err := b.subvolCreate(filepath.Base(tmp)); err != nil {
		return nil, fmt.Errorf("open btrfs storage in %s: %w", root, err)
	}
	if err := b.subvolDestroy(filepath.Base(tmp)); err != nil {
		return nil, fmt.Errorf("open btrfs storage in %s: %w", root, err)
	}
	return b, nil
}

// Name is NameBtrfs.
func (b *Btrfs) Name() string { return NameBtrfs }

// Atomic is true: a snapshot is a point-in-time copy of the subvolume,
// including data still in the page cache.
func (b *Btrfs) Atomic() bool { return true }

// withRoot runs f with a descriptor of the root directory.
func (b *Btrfs) withRoot(f func(fd int) error) error {
	fd, err := unix.Open(b.root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open storage root: %w", err)
	}
	defer unix.Close(fd)
	return f(fd)
}

// subvolCreate makes the subvolume root/name, mode 0700.
func (b *Btrfs) subvolCreate(name string) error {
	var args btrfsVolArgs
	copy(args.name[:len(args.name)-1], name)
	err := b.withRoot(func(fd int) error {
		return btrfsIoctl(fd, btrfsIocSubvolCreate, unsafe.Pointer(&args))
	})
	if err != nil {
		return fmt.Errorf("create subvolume %s: %w", name, err)
	}
	if err := os.Chmod(filepath.Join(b.root, name), 0o700); err != nil {
		return fmt.Errorf("create subvolume %s: %w", name, err)
	}
	return nil
}

// subvolDestroy removes the subvolume root/name, read-only or not.
func (b *Btrfs) subvolDestroy(name string) error {
	var args btrfsVolArgs
	copy(args.name[:len(args.name)-1], name)
	err := b.withRoot(func(fd int) error {
		return btrfsIoctl(fd, btrfsIocSnapDestroy, unsafe.Pointer(&args))
	})
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EROFS) {
		// Without CAP_SYS_ADMIN the kernel refuses read-only subvolumes
		// (and, without user_subvol_rm_allowed, all of them); make it
		// writable and try once more.
		if ferr := setSubvolReadOnly(filepath.Join(b.root, name), false); ferr == nil {
			err = b.withRoot(func(fd int) error {
				return btrfsIoctl(fd, btrfsIocSnapDestroy, unsafe.Pointer(&args))
			})
		}
	}
	if err != nil {
		return fmt.Errorf("delete subvolume %s: %w", name, err)
	}
	return nil
}

// snapshot makes root/name a snapshot of the subvolume open as srcFD.
func (b *Btrfs) snapshot(srcFD int, name string, readOnly bool) error {
	args := btrfsVolArgsV2{fd: int64(srcFD)}
	if readOnly {
		args.flags = btrfsSubvolRdonly
	}
	copy(args.name[:len(args.name)-1], name)
	return b.withRoot(func(fd int) error {
		return btrfsIoctl(fd, btrfsIocSnapCreateV2, unsafe.Pointer(&args))
	})
}

func setSubvolReadOnly(path string, on bool) error {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	var flags uint64
	if err := btrfsIoctl(fd, btrfsIocSubvolGetflag, unsafe.Pointer(&flags)); err != nil {
		return fmt.Errorf("get subvolume flags of %s: %w", path, err)
	}
	if on {
		flags |= btrfsSubvolRdonly
	} else {
		flags &^= btrfsSubvolRdonly
	}
	if err := btrfsIoctl(fd, btrfsIocSubvolSetflag, unsafe.Pointer(&flags)); err != nil {
		return fmt.Errorf("set subvolume flags of %s: %w", path, err)
	}
	return nil
}

// isSubvolume reports whether path is the root directory of a subvolume.
func isSubvolume(path string) (bool, error) {
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		return false, err
	}
	return st.Mode&unix.S_IFMT == unix.S_IFDIR && st.Ino == btrfsFirstFreeObjectID, nil
}

// Create makes volume id as a new empty subvolume, mode 0700.
func (b *Btrfs) Create(ctx context.Context, id string) error {
	if _, err := b.fresh(id); err != nil {
		return fmt.Errorf("create volume: %w", err)
	}
	if err := b.subvolCreate(id); err != nil {
		if errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("create volume %q: %w", id, ErrExists)
		}
		return fmt.Errorf("create volume %q: %w", id, err)
	}
	return nil
}

// Clone makes dst a writable snapshot of src.
func (b *Btrfs) Clone(ctx context.Context, src, dst string) error {
	if err := b.clone(ctx, src, dst, false); err != nil {
		return fmt.Errorf("clone volume %q to %q: %w", src, dst, err)
	}
	return nil
}

// Snapshot makes dst a read-only snapshot of src.
func (b *Btrfs) Snapshot(ctx context.Context, src, dst string) error {
	if err := b.clone(ctx, src, dst, true); err != nil {
		return fmt.Errorf("snapshot volume %q to %q: %w", src, dst, err)
	}
	return nil
}

func (b *Btrfs) clone(ctx context.Context, src, dst string, readOnly bool) error {
	sp, err := b.existing(src)
	if err != nil {
		return err
	}
	dp, err := b.fresh(dst)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	fd, err := unix.Open(sp, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	if st.Ino != btrfsFirstFreeObjectID {
		// A snapshot of a plain directory would snapshot the whole
		// subvolume holding it; copy such a volume into a new subvolume.
		return b.copyIntoSubvolume(ctx, sp, dp, dst, readOnly)
	}
	err = b.snapshot(fd, dst, readOnly)
	if errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("volume %q: %w", dst, ErrExists)
	}
	return err
}

// copyIntoSubvolume reflinks the plain directory sp into a new subvolume
// published as dp.
func (b *Btrfs) copyIntoSubvolume(ctx context.Context, sp, dp, dst string, readOnly bool) (err error) {
	tmp, err := tmpName(b.root, dst)
	if err != nil {
		return err
	}
	if err := b.subvolCreate(filepath.Base(tmp)); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			if derr := b.subvolDestroy(filepath.Base(tmp)); derr != nil && !errors.Is(derr, unix.ENOENT) {
				err = errors.Join(err, derr)
			}
		}
	}()
	if err := copyTree(ctx, sp, tmp, true, reflinkFile); err != nil {
		return err
	}
	if err := syncFS(tmp); err != nil {
		return err
	}
	if err := publish(tmp, dp, dst); err != nil {
		return err
	}
	if readOnly {
		// After the rename, so that publish only ever moves a writable
		// subvolume. A crash in between leaves a writable snapshot.
		return setSubvolReadOnly(dp, true)
	}
	return nil
}

// Delete removes volume id: a subvolume by ioctl (read-only or not), a plain
// directory by renaming it away and removing its tree.
func (b *Btrfs) Delete(ctx context.Context, id string) error {
	p, err := b.existing(id)
	if err != nil {
		return fmt.Errorf("delete volume: %w", err)
	}
	if err := b.remove(p); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("delete volume %q: %w", id, ErrNotFound)
		}
		return fmt.Errorf("delete volume %q: %w", id, err)
	}
	return nil
}

func (b *Btrfs) remove(p string) error {
	sub, err := isSubvolume(p)
	if err != nil {
		return err
	}
	if sub {
		return b.subvolDestroy(filepath.Base(p))
	}
	tmp := p
	if !strings.HasPrefix(filepath.Base(p), tmpPrefix) {
		if tmp, err = tmpName(b.root, filepath.Base(p)); err != nil {
			return err
		}
		if err := os.Rename(p, tmp); err != nil {
			return err
		}
	}
	return removeTree(tmp)
}

// Usage reports the apparent size and, when quotas are enabled on the file
// system, the exclusive bytes from the subvolume's qgroup (after a sync).
func (b *Btrfs) Usage(ctx context.Context, id string) (Usage, error) {
	p, err := b.existing(id)
	if err != nil {
		return Usage{}, fmt.Errorf("usage: %w", err)
	}
	total, err := apparentSize(ctx, p)
	if err != nil {
		return Usage{}, fmt.Errorf("usage of volume %q: %w", id, err)
	}
	u := Usage{Total: total, Exclusive: -1}
	sub, err := isSubvolume(p)
	if err != nil {
		return Usage{}, fmt.Errorf("usage of volume %q: %w", id, err)
	}
	if !sub {
		return u, fmt.Errorf("exclusive usage of volume %q: not a subvolume: %w", id, errors.ErrUnsupported)
	}
	excl, err := qgroupExclusive(ctx, p)
	if err != nil {
		return u, fmt.Errorf("exclusive usage of volume %q: %w", id, err)
	}
	u.Exclusive = excl
	return u, nil
}

// qgroupExclusive reads the exclusive bytes of the level-0 qgroup of the
// subvolume at path. The qgroup tree has no simple ioctl to read it, and
// usage is not on a hot path, so this execs the btrfs tool.
func qgroupExclusive(ctx context.Context, path string) (int64, error) {
	cmd := exec.CommandContext(ctx, "btrfs", "qgroup", "show", "--raw", "--sync", "-f", path)
	cmd.Env = []string{"LC_ALL=C", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if errors.Is(err, exec.ErrNotFound) {
		return 0, fmt.Errorf("btrfs tool: %w: %w", errors.ErrUnsupported, err)
	}
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if strings.Contains(msg, "quotas not enabled") {
			return 0, fmt.Errorf("btrfs quotas not enabled: %w", errors.ErrUnsupported)
		}
		return 0, fmt.Errorf("btrfs qgroup show: %w: %s", err, msg)
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && strings.HasPrefix(f[0], "0/") {
			n, err := strconv.ParseInt(f[2], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("btrfs qgroup show: bad exclusive %q", f[2])
			}
			return n, nil
		}
	}
	return 0, fmt.Errorf("btrfs qgroup show: no level-0 qgroup in %q", out)
}

// Cleanup removes leftover temporaries, subvolumes or plain directories.
func (b *Btrfs) Cleanup(ctx context.Context) error {
	tmps, err := b.temporaries()
	if err != nil {
		return err
	}
	var errs []error
	for _, p := range tmps {
		if err := b.remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove temporary %s: %w", filepath.Base(p), err))
		}
	}
	return errors.Join(errs...)
}
