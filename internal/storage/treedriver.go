package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Reflink is the driver for file systems that share extents between files
// (FICLONE): volumes are plain directories and a clone shares every file's
// data until either side writes.
type Reflink struct{ tree }

// Copy is the driver for any file system: a clone copies every byte.
type Copy struct{ tree }

var (
	_ Driver = (*Reflink)(nil)
	_ Driver = (*Copy)(nil)
	_ Driver = (*Btrfs)(nil)
)

// OpenReflink returns the reflink driver for the existing directory root, or
// an error if FICLONE does not work there.
func OpenReflink(ctx context.Context, root string) (*Reflink, error) {
	if err := probeReflink(root); err != nil {
		return nil, fmt.Errorf("open reflink storage in %s: %w", root, err)
	}
	return &Reflink{tree{base: base{root: root}, name: NameReflink, copy: reflinkFile}}, nil
}

// OpenCopy returns the copy driver for the existing directory root.
func OpenCopy(ctx context.Context, root string) (*Copy, error) {
	fi, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("open copy storage: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("open copy storage: %s is not a directory", root)
	}
	return &Copy{tree{base: base{root: root}, name: NameCopy, copy: copyFile}}, nil
}

// Usage reports the apparent size; every byte of a copy is its own, so
// Exclusive equals Total.
func (c *Copy) Usage(ctx context.Context, id string) (Usage, error) {
	u, err := c.tree.Usage(ctx, id)
	if err != nil && !errors.Is(err, errors.ErrUnsupported) {
		return u, err
	}
	u.Exclusive = u.Total
	return u, nil
}

// probeReflink clones one file to another in root.
func probeReflink(root string) error {
	src, err := tmpName(root, "probe")
	if err != nil {
		return err
	}
	dst := src + "-clone"
	defer os.Remove(src)
	defer os.Remove(dst)
	if err := os.WriteFile(src, []byte("grove reflink probe\n"), 0o600); err != nil {
		return err
	}
	sfd, err := unix.Open(src, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(sfd)
	dfd, err := unix.Open(dst, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return err
	}
	defer unix.Close(dfd)
	if err := unix.IoctlFileClone(dfd, sfd); err != nil {
		return fmt.Errorf("FICLONE: %w", err)
	}
	return nil
}

func reflinkFile(dst, src int, size int64) error {
	if size == 0 {
		return nil
	}
	if err := unix.IoctlFileClone(dst, src); err != nil {
		return fmt.Errorf("FICLONE: %w", err)
	}
	return nil
}

// copyFile copies with copy_file_range, falling back to read/write where the
// kernel refuses (across file systems, special files of some file systems).
func copyFile(dst, src int, size int64) error {
	var done int64
	for done < size {
		n, err := unix.CopyFileRange(src, nil, dst, nil, int(min(size-done, 1<<30)), 0)
		if err != nil {
			if done == 0 && (errors.Is(err, unix.EXDEV) || errors.Is(err, unix.ENOSYS) ||
				errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EOPNOTSUPP)) {
				return readWrite(dst, src)
			}
			return fmt.Errorf("copy_file_range: %w", err)
		}
		if n == 0 {
			break // source shrank under us; copy what there is
		}
		done += int64(n)
	}
	return nil
}

// readWrite copies with plain syscalls rather than os.File, whose finalizer
// would close descriptors the caller owns.
func readWrite(dst, src int) error {
	buf := make([]byte, 1<<20)
	for {
		n, err := unix.Read(src, buf)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return fmt.Errorf("read: %w", err)
		}
		if n == 0 {
			return nil
		}
		for b := buf[:n]; len(b) > 0; {
			w, err := unix.Write(dst, b)
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if err != nil {
				return fmt.Errorf("write: %w", err)
			}
			if w == 0 {
				return fmt.Errorf("write: %w", io.ErrShortWrite)
			}
			b = b[w:]
		}
	}
}

// tree implements Driver with plain directories and a per-file copier.
type tree struct {
	base
	name string
	copy fileCopier
}

func (t *tree) Name() string { return t.name }

// Atomic is false: files are copied one after another.
func (t *tree) Atomic() bool { return false }

func (t *tree) Create(ctx context.Context, id string) error {
	p, err := t.fresh(id)
	if err != nil {
		return fmt.Errorf("create volume: %w", err)
	}
	if err := os.Mkdir(p, 0o700); err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("create volume %q: %w", id, ErrExists)
		}
		return fmt.Errorf("create volume %q: %w", id, err)
	}
	return nil
}

func (t *tree) Clone(ctx context.Context, src, dst string) error {
	if err := t.clone(ctx, src, dst, false); err != nil {
		return fmt.Errorf("clone volume %q to %q: %w", src, dst, err)
	}
	return nil
}

func (t *tree) Snapshot(ctx context.Context, src, dst string) error {
	if err := t.clone(ctx, src, dst, true); err != nil {
		return fmt.Errorf("snapshot volume %q to %q: %w", src, dst, err)
	}
	return nil
}

func (t *tree) clone(ctx context.Context, src, dst string, readOnly bool) (err error) {
	sp, err := t.existing(src)
	if err != nil {
		return err
	}
	dp, err := t.fresh(dst)
	if err != nil {
		return err
	}
	tmp, err := tmpName(t.root, dst)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			if rerr := removeTree(tmp); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
				err = errors.Join(err, fmt.Errorf("remove partial copy: %w", rerr))
			}
		}
	}()
	if err := copyTree(ctx, sp, tmp, false, t.copy); err != nil {
		return err
	}
	if readOnly {
		// The root stays writable until renamed: the kernel refuses to
		// rename an immutable directory.
		if err := setImmutable(tmp, true, true); err != nil && !errors.Is(err, errFlagsUnsupported) {
			return err
		}
	}
	if err := syncFS(tmp); err != nil {
		return err
	}
	if err := publish(tmp, dp, dst); err != nil {
		return err
	}
	if readOnly {
		if err := setFlag(dp, true); err != nil && !errors.Is(err, errFlagsUnsupported) {
			return err
		}
	}
	return nil
}

func (t *tree) Delete(ctx context.Context, id string) error {
	p, err := t.existing(id)
	if err != nil {
		return fmt.Errorf("delete volume: %w", err)
	}
	if err := setFlag(p, false); err != nil && !errors.Is(err, errFlagsUnsupported) {
		return fmt.Errorf("delete volume %q: %w", id, err)
	}
	// Out of the namespace first, so a crash midway leaves a temporary
	// rather than a damaged volume.
	tmp, err := tmpName(t.root, id)
	if err != nil {
		return fmt.Errorf("delete volume %q: %w", id, err)
	}
	if err := os.Rename(p, tmp); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("delete volume %q: %w", id, ErrNotFound)
		}
		return fmt.Errorf("delete volume %q: %w", id, err)
	}
	if err := removeTree(tmp); err != nil {
		return fmt.Errorf("delete volume %q: %w", id, err)
	}
	return nil
}

func (t *tree) Usage(ctx context.Context, id string) (Usage, error) {
	p, err := t.existing(id)
	if err != nil {
		return Usage{}, fmt.Errorf("usage: %w", err)
	}
	n, err := apparentSize(ctx, p)
	if err != nil {
		return Usage{}, fmt.Errorf("usage of volume %q: %w", id, err)
	}
	return Usage{Total: n, Exclusive: -1}, fmt.Errorf("exclusive usage of volume %q with %s storage: %w", id, t.name, errors.ErrUnsupported)
}

func (t *tree) Cleanup(ctx context.Context) error {
	tmps, err := t.temporaries()
	if err != nil {
		return err
	}
	var errs []error
	for _, p := range tmps {
		if err := removeTree(p); err != nil {
			errs = append(errs, fmt.Errorf("remove temporary %s: %w", filepath.Base(p), err))
		}
	}
	return errors.Join(errs...)
}
