package storage

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sys/unix"
)

// fileCopier fills the empty regular file dst (open for writing) with the
// contents of src, which is size bytes long.
type fileCopier func(dst, src int, size int64) error

// copyWorkers is how many regular files copyTree copies at once: per-file
// cost is mostly syscalls and I/O waits, which overlap well beyond the core
// count of small machines.
const copyWorkers = 4

// copyTree copies the directory src to dst, which must not exist unless
// intoExisting is set (then dst's own metadata is overwritten with src's).
// Owner, mode and times are copied for every entry. Directories are made
// first (owner-only, so no one else sees them partial and we can always
// write into them), files are copied in parallel, and directories get their
// own metadata last, deepest first, so writing children cannot disturb it.
func copyTree(ctx context.Context, src, dst string, intoExisting bool, cp fileCopier) error {
	var st unix.Stat_t
	if err := unix.Lstat(src, &st); err != nil {
		return fmt.Errorf("stat %s: %w", src, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return fmt.Errorf("%s is not a directory", src)
	}
	if !intoExisting {
		if err := unix.Mkdir(dst, 0o700); err != nil {
			return fmt.Errorf("mkdir %s: %w", dst, err)
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(copyWorkers)
	dirs := []dirMeta{{dst, st}}
	walkErr := walkCopy(gctx, g, src, dst, cp, &dirs)
	if err := g.Wait(); err != nil {
		return err
	}
	if walkErr != nil {
		return walkErr
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := setMeta(dirs[i].path, &dirs[i].st); err != nil {
			return err
		}
	}
	return nil
}

type dirMeta struct {
	path string
	st   unix.Stat_t
}

// walkCopy recreates the entries of src in dst, handing regular files to g
// and appending directories to dirs in pre-order.
func walkCopy(ctx context.Context, g *errgroup.Group, src, dst string, cp fileCopier, dirs *[]dirMeta) error {
	ents, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if err := ctx.Err(); err != nil {
			return err
		}
		s, d := filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())
		var st unix.Stat_t
		if err := unix.Lstat(s, &st); err != nil {
			return fmt.Errorf("stat %s: %w", s, err)
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFDIR:
			if err := unix.Mkdir(d, 0o700); err != nil {
				return fmt.Errorf("mkdir %s: %w", d, err)
			}
			*dirs = append(*dirs, dirMeta{d, st})
			err = walkCopy(ctx, g, s, d, cp, dirs)
		case unix.S_IFREG:
			g.Go(func() error { return copyRegular(s, d, &st, cp) })
		case unix.S_IFLNK:
			err = copySymlink(s, d, &st)
		default:
			err = copySpecial(s, d, &st)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func copyRegular(src, dst string, st *unix.Stat_t, cp fileCopier) error {
	sfd, err := unix.Open(src, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", src, err)
	}
	defer unix.Close(sfd)
	dfd, err := unix.Open(dst, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("create %s: %w", dst, err)
	}
	defer unix.Close(dfd)
	if err := cp(dfd, sfd, st.Size); err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	// Owner before mode: chown clears set-id bits.
	if err := unix.Fchown(dfd, int(st.Uid), int(st.Gid)); err != nil {
		return fmt.Errorf("chown %s: %w", dst, err)
	}
	if err := unix.Fchmod(dfd, st.Mode&0o7777); err != nil {
		return fmt.Errorf("chmod %s: %w", dst, err)
	}
	return setTimes(dst, st)
}

func copySymlink(src, dst string, st *unix.Stat_t) error {
	target, err := os.Readlink(src)
	if err != nil {
		return err
	}
	if err := os.Symlink(target, dst); err != nil {
		return err
	}
	if err := unix.Lchown(dst, int(st.Uid), int(st.Gid)); err != nil {
		return fmt.Errorf("chown %s: %w", dst, err)
	}
	return setTimes(dst, st)
}

// copySpecial recreates fifos, sockets and device nodes (the last only as root).
func copySpecial(src, dst string, st *unix.Stat_t) error {
	if err := unix.Mknod(dst, st.Mode, int(st.Rdev)); err != nil {
		return fmt.Errorf("mknod %s (copy of %s): %w", dst, src, err)
	}
	return setMeta(dst, st)
}

func setMeta(path string, st *unix.Stat_t) error {
	if err := unix.Lchown(path, int(st.Uid), int(st.Gid)); err != nil {
		return fmt.Errorf("chown %s: %w", path, err)
	}
	if err := unix.Chmod(path, st.Mode&0o7777); err != nil {
		return fmt.Errorf("chmod %s: %w", path, err)
	}
	return setTimes(path, st)
}

func setTimes(path string, st *unix.Stat_t) error {
	ts := []unix.Timespec{st.Atim, st.Mtim}
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, path, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("set times of %s: %w", path, err)
	}
	return nil
}

// removeTree removes path and everything below it. When a first attempt is
// refused, it lifts what can stop it, immutable flags (left by a tree
// driver's Snapshot) and directories without owner write permission (which
// stop a non-root caller), and tries again.
func removeTree(path string) error {
	if err := os.RemoveAll(path); err == nil {
		return nil
	}
	_ = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // the second RemoveAll reports what still fails
		}
		if d.IsDir() || d.Type().IsRegular() {
			_ = setFlag(p, false)
		}
		if d.IsDir() {
			if fi, err := d.Info(); err == nil && fi.Mode().Perm()&0o700 != 0o700 {
				_ = os.Chmod(p, fi.Mode().Perm()|0o700)
			}
		}
		return nil
	})
	return os.RemoveAll(path)
}

// fsImmutableFL is FS_IMMUTABLE_FL from linux/fs.h (x/sys/unix lacks it): no
// one, root included, may change or unlink the inode or add entries to it.
const fsImmutableFL = 0x00000010

// errFlagsUnsupported means inode flags cannot be changed here (file system
// without support, or no CAP_LINUX_IMMUTABLE).
var errFlagsUnsupported = errors.New("inode flags unsupported")

// setImmutable sets or clears FS_IMMUTABLE_FL on every directory and regular
// file under root (on root itself unless skipRoot). Symlinks and special files
// cannot carry the flag through an open file and are left alone.
func setImmutable(root string, on, skipRoot bool) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if (skipRoot && p == root) || !(d.Type().IsDir() || d.Type().IsRegular()) {
			return nil
		}
		return setFlag(p, on)
	})
}

func setFlag(path string, on bool) error {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer unix.Close(fd)
	flags, err := unix.IoctlGetUint32(fd, unix.FS_IOC_GETFLAGS)
	if err != nil {
		return flagErr(path, err)
	}
	want := flags &^ fsImmutableFL
	if on {
		want |= fsImmutableFL
	}
	if want == flags {
		return nil
	}
	if err := unix.IoctlSetPointerInt(fd, unix.FS_IOC_SETFLAGS, int(want)); err != nil {
		return flagErr(path, err)
	}
	return nil
}

func flagErr(path string, err error) error {
	switch {
	case errors.Is(err, unix.ENOTTY), errors.Is(err, unix.EOPNOTSUPP), errors.Is(err, unix.EINVAL),
		errors.Is(err, unix.EPERM), errors.Is(err, unix.EACCES):
		return fmt.Errorf("inode flags of %s: %w: %w", path, errFlagsUnsupported, err)
	}
	return fmt.Errorf("inode flags of %s: %w", path, err)
}

// apparentSize sums the sizes of the regular files under root, counting
// each hard-linked inode once.
func apparentSize(ctx context.Context, root string) (int64, error) {
	type inode struct{ dev, ino uint64 }
	seen := map[inode]bool{}
	var total int64
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return fmt.Errorf("stat %s: %w", p, err)
		}
		if st.Nlink > 1 {
			k := inode{st.Dev, st.Ino}
			if seen[k] {
				return nil
			}
			seen[k] = true
		}
		total += st.Size
		return nil
	})
	return total, err
}
