package storage

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// fileCopier fills the empty regular file dst (open for writing) with the
// contents of src, which is size bytes long.
type fileCopier func(dst, src int, size int64) error

// copyTree copies the directory src to dst, which must not exist unless
// intoExisting is set (then dst's own metadata is overwritten with src's).
// Owner, mode and times are copied for every entry; directories get theirs
// last so that writing their children does not disturb them.
func copyTree(ctx context.Context, src, dst string, intoExisting bool, cp fileCopier) error {
	var st unix.Stat_t
	if err := unix.Lstat(src, &st); err != nil {
		return fmt.Errorf("stat %s: %w", src, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return fmt.Errorf("%s is not a directory", src)
	}
	return copyDir(ctx, src, dst, &st, !intoExisting, cp)
}

func copyDir(ctx context.Context, src, dst string, st *unix.Stat_t, create bool, cp fileCopier) error {
	if create {
		// Owner-only until the end, whatever the final mode, so that no one
		// else sees a partial directory and we can always write into it.
		if err := unix.Mkdir(dst, 0o700); err != nil {
			return fmt.Errorf("mkdir %s: %w", dst, err)
		}
	}
	ents, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if err := ctx.Err(); err != nil {
			return err
		}
		s, d := filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())
		var est unix.Stat_t
		if err := unix.Lstat(s, &est); err != nil {
			return fmt.Errorf("stat %s: %w", s, err)
		}
		switch est.Mode & unix.S_IFMT {
		case unix.S_IFDIR:
			err = copyDir(ctx, s, d, &est, true, cp)
		case unix.S_IFREG:
			err = copyRegular(s, d, &est, cp)
		case unix.S_IFLNK:
			err = copySymlink(s, d, &est)
		default:
			err = copySpecial(s, d, &est)
		}
		if err != nil {
			return err
		}
	}
	return setMeta(dst, st)
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

// removeTree removes path and everything below it, clearing immutable flags
// (left by a tree driver's Snapshot) if a first attempt is refused.
func removeTree(path string) error {
	err := os.RemoveAll(path)
	if err == nil {
		return nil
	}
	if ferr := setImmutable(path, false, false); ferr != nil && !errors.Is(ferr, errFlagsUnsupported) {
		return errors.Join(err, ferr)
	}
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
