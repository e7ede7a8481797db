package storage

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"golang.org/x/sys/unix"
)

// Driver names accepted by Open.
const (
	NameBtrfs   = "btrfs"
	NameReflink = "reflink"
	NameCopy    = "copy"
)

// Driver makes, copies and removes volumes under one root directory.
// Every id must satisfy ValidID; methods reject others.
type Driver interface {
	// Name is NameBtrfs, NameReflink or NameCopy.
	Name() string
	// Root is the directory holding the volumes.
	Root() string
	// Path is the data directory of volume id (Root()/id), or "" for an invalid id.
	Path(id string) string
	// Create makes a new empty volume.
	Create(ctx context.Context, id string) error
	// Clone makes dst a writable copy of src, keeping owner, mode,
	// timestamps and symlinks.
	Clone(ctx context.Context, src, dst string) error
	// Snapshot makes dst a read-only copy of src.
	Snapshot(ctx context.Context, src, dst string) error
	// Delete removes a volume, read-only or not. Volumes cloned from it are
	// unaffected. A missing volume is an error wrapping ErrNotFound.
	Delete(ctx context.Context, id string) error
	// List returns the ids of all volumes, sorted.
	List(ctx context.Context) ([]string, error)
	// Exists reports whether volume id exists.
	Exists(id string) bool
	// Atomic reports whether Clone of a volume being written is a
	// point-in-time (crash-consistent) copy.
	Atomic() bool
	// Usage reports the space a volume takes. When the driver cannot tell
	// exclusive bytes, Exclusive is -1 and the error wraps
	// errors.ErrUnsupported, while Total is still valid.
	Usage(ctx context.Context, id string) (Usage, error)
	// Cleanup removes temporaries left in the root by a crash. Only the
	// owner of the root may call it, while no other operation runs.
	Cleanup(ctx context.Context) error
}

// Usage is the space a volume takes, in bytes.
type Usage struct {
	// Total is the apparent size of the volume's regular files.
	Total int64
	// Exclusive is what deleting the volume would free, or -1 if unknown.
	Exclusive int64
}

var (
	// ErrNotFound means the volume does not exist.
	ErrNotFound = errors.New("volume not found")
	// ErrExists means a volume with that id already exists.
	ErrExists = errors.New("volume already exists")
	// ErrInvalidID means an id does not match the volume id pattern.
	ErrInvalidID = errors.New("invalid volume id")
)

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// ValidID returns an error wrapping ErrInvalidID unless id is 1–63 lower-case
// letters, digits and dashes, not starting with a dash. Such an id is a
// single safe path element and can never name a temporary.
func ValidID(id string) error {
	if !idPattern.MatchString(id) {
		return fmt.Errorf("%w %q", ErrInvalidID, id)
	}
	return nil
}

// Probe returns the best driver for root, creating root (mode 0711, so the
// Postgres user can reach the volumes) when missing: btrfs if root is on
// btrfs and subvolumes can be made and removed there, else reflink if
// FICLONE works in root, else copy. It removes leftover temporaries.
func Probe(ctx context.Context, root string) (Driver, error) {
	if err := makeRoot(root); err != nil {
		return nil, err
	}
	var errs []error
	for _, name := range []string{NameBtrfs, NameReflink} {
		d, err := Open(ctx, name, root)
		if err == nil {
			return d, nil
		}
		errs = append(errs, err)
	}
	d, err := Open(ctx, NameCopy, root)
	if err != nil {
		return nil, fmt.Errorf("probe storage in %s: %w", root, errors.Join(append(errs, err)...))
	}
	return d, nil
}

// Open returns the named driver for root, creating root when missing, or an
// error if that driver cannot work there. It removes leftover temporaries.
func Open(ctx context.Context, name, root string) (Driver, error) {
	if err := makeRoot(root); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("open storage %s: %w", root, err)
	}
	var d Driver
	switch name {
	case NameBtrfs:
		d, err = OpenBtrfs(ctx, abs)
	case NameReflink:
		d, err = OpenReflink(ctx, abs)
	case NameCopy:
		d, err = OpenCopy(ctx, abs)
	default:
		return nil, fmt.Errorf("open storage %s: unknown driver %q (want btrfs, reflink or copy)", root, name)
	}
	if err != nil {
		return nil, err
	}
	if err := d.Cleanup(ctx); err != nil {
		return nil, fmt.Errorf("open %s storage in %s: %w", name, root, err)
	}
	return d, nil
}

func makeRoot(root string) error {
	if root == "" {
		return errors.New("storage root is empty")
	}
	if err := os.MkdirAll(root, 0o711); err != nil {
		return fmt.Errorf("create storage root: %w", err)
	}
	fi, err := os.Stat(root)
	if err != nil {
		return fmt.Errorf("storage root: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("storage root %s is not a directory", root)
	}
	return nil
}

// tmpPrefix starts every temporary's name; ValidID never accepts it.
const tmpPrefix = ".tmp-"

// tmpName returns a fresh temporary name in root for work on id.
func tmpName(root, id string) (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return filepath.Join(root, tmpPrefix+id+"-"+hex.EncodeToString(b[:])), nil
}

// base holds what all drivers share.
type base struct {
	root string
}

func (b *base) Root() string { return b.root }

func (b *base) Path(id string) string {
	if ValidID(id) != nil {
		return ""
	}
	return filepath.Join(b.root, id)
}

func (b *base) Exists(id string) bool {
	if ValidID(id) != nil {
		return false
	}
	fi, err := os.Lstat(filepath.Join(b.root, id))
	return err == nil && fi.IsDir()
}

// List returns the sorted ids of the directories in root that are valid ids.
func (b *base) List(ctx context.Context) ([]string, error) {
	ents, err := os.ReadDir(b.root)
	if err != nil {
		return nil, fmt.Errorf("list volumes: %w", err)
	}
	ids := []string{}
	for _, e := range ents {
		if e.IsDir() && ValidID(e.Name()) == nil {
			ids = append(ids, e.Name())
		}
	}
	return ids, nil
}

// existing validates id and returns its path, or an error wrapping
// ErrNotFound when it is not a volume.
func (b *base) existing(id string) (string, error) {
	if err := ValidID(id); err != nil {
		return "", err
	}
	p := filepath.Join(b.root, id)
	fi, err := os.Lstat(p)
	if errors.Is(err, os.ErrNotExist) || (err == nil && !fi.IsDir()) {
		return "", fmt.Errorf("volume %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("volume %q: %w", id, err)
	}
	return p, nil
}

// fresh validates id and returns its path, or an error wrapping ErrExists
// when something already has that name.
func (b *base) fresh(id string) (string, error) {
	if err := ValidID(id); err != nil {
		return "", err
	}
	p := filepath.Join(b.root, id)
	if _, err := os.Lstat(p); err == nil {
		return "", fmt.Errorf("volume %q: %w", id, ErrExists)
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("volume %q: %w", id, err)
	}
	return p, nil
}

// temporaries returns the paths of leftover temporaries in root.
func (b *base) temporaries() ([]string, error) {
	ents, err := os.ReadDir(b.root)
	if err != nil {
		return nil, fmt.Errorf("read storage root: %w", err)
	}
	var tmps []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), tmpPrefix) {
			tmps = append(tmps, filepath.Join(b.root, e.Name()))
		}
	}
	return tmps, nil
}

// publish renames tmp to dst unless dst exists.
func publish(tmp, dst, id string) error {
	err := unix.Renameat2(unix.AT_FDCWD, tmp, unix.AT_FDCWD, dst, unix.RENAME_NOREPLACE)
	if errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("volume %q: %w", id, ErrExists)
	}
	if err != nil {
		return fmt.Errorf("rename %s into place: %w", filepath.Base(tmp), err)
	}
	return nil
}

// syncFS flushes the file system holding path, so that a rename published
// afterwards never names data still in memory.
func syncFS(path string) error {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	defer unix.Close(fd)
	if err := unix.Syncfs(fd); err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	return nil
}
