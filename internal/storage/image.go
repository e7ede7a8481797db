package storage

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/grovedb/grove/internal/loopdev"
)

// Sizes of a volumes image.
const (
	// MinImageSize is the smallest image OpenImage makes: below it a
	// btrfs file system spends most of itself on metadata.
	MinImageSize = 512 << 20
	// imageStep aligns image sizes, and is the smallest growth worth a resize.
	imageStep = 64 << 20
)

// btrfsIocResize is _IOW(0x94, 3, struct btrfs_ioctl_vol_args).
const btrfsIocResize = 0x50009403

// ImageConfig describes a btrfs file system in a sparse image file,
// loop-mounted at the volumes root: copy-on-write branches for a data dir
// whose own file system has neither subvolumes nor reflinks (ext4).
type ImageConfig struct {
	// Path is the image file, absolute, e.g. <data-dir>/volumes.img.
	Path string
	// Dir is the mount point, the volumes root, absolute.
	Dir string
	// Size of a new image; an existing one grows to it (never shrinks).
	// 0: DefaultImageSize of the free space of Path's file system.
	Size int64
	// Interval between readings of free space by Run; 0 → 2 s.
	Interval time.Duration
	Logger   *slog.Logger // nil → discard
}

// Validate reports whether c can be used.
func (c ImageConfig) Validate() error {
	switch {
	case !filepath.IsAbs(c.Path) || !filepath.IsAbs(c.Dir):
		return fmt.Errorf("storage image: paths %q and %q must be absolute", c.Path, c.Dir)
	case c.Size < 0 || (c.Size > 0 && c.Size < MinImageSize):
		return fmt.Errorf("storage image: size %d: 0 (a share of the free space) or at least %d MiB", c.Size, MinImageSize>>20)
	}
	return nil
}

// ImageState says how OpenImage found the image.
type ImageState string

const (
	ImageMade    ImageState = "made"          // made by this Open
	ImageMounted ImageState = "mounted"       // an existing image, mounted by this Open
	ImageAdopted ImageState = "found mounted" // left mounted by a Grove that did not stop cleanly
)

// Image is a mounted volumes image. Run grows it as its file system fills;
// Close unmounts it.
type Image struct {
	cfg   ImageConfig
	log   *slog.Logger
	dev   string // the loop device, /dev/loopN
	state ImageState

	mu     sync.Mutex
	cannot bool // the last growth was impossible (logged once)
}

// ImageExists reports whether an image file is at path: then it holds the
// volumes, and must be mounted whatever driver serves them.
func ImageExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// DefaultImageSize is the size of a new image when none is configured: half
// of hostFree, the free space of the file system holding it, in whole
// steps. The image is sparse, so its size costs nothing until volumes use
// it; half leaves the host room for the WAL archive, logs and the metadata
// reserve, which live beside it. It is 0 when the host has less than
// MinImageSize free.
func DefaultImageSize(hostFree int64) int64 {
	if hostFree < MinImageSize {
		return 0
	}
	return max(hostFree/2/imageStep*imageStep, MinImageSize)
}

// GrowTo is the size an image of size should grow to, given the free bytes
// of its file system and of the host's: when under a quarter of the image
// is free, it doubles, adding at most half of what the host has free (each
// byte of the image not yet written is a promise on the host's free
// space). It returns size when no growth is due or the host has too
// little room.
func GrowTo(size, free, hostFree int64) int64 {
	if free >= size/4 {
		return size
	}
	step := min(size, hostFree/2) / imageStep * imageStep
	if step < imageStep {
		return size
	}
	return size + step
}

// OpenImage mounts the image at cfg.Dir, making it first when there is none
// (sparse, formatted btrfs). Where no image can be made (not root, no loop
// devices, no mkfs.btrfs, too little free space, or volumes already in
// cfg.Dir that an image would hide) it returns an error wrapping
// errors.ErrUnsupported that says why. An image a Grove killed left
// mounted is taken as it is. Any other error means the volumes in an
// existing image cannot be reached.
func OpenImage(ctx context.Context, cfg ImageConfig) (*Image, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 2 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	// The kernel names mount points and loop devices' files by their real
	// paths: paths behind a symbolic link must match them.
	for _, p := range []*string{&cfg.Path, &cfg.Dir} {
		dir, err := filepath.EvalSymlinks(filepath.Dir(*p))
		if err != nil {
			return nil, fmt.Errorf("storage image: %w", err)
		}
		*p = filepath.Join(dir, filepath.Base(*p))
	}
	im := &Image{cfg: cfg, log: cfg.Logger}
	mounts, err := loopdev.Mounts()
	if err != nil {
		return nil, fmt.Errorf("storage image: %w", err)
	}
	if m, ok := loopdev.MountAt(mounts, cfg.Dir); ok {
		if !loopdev.Backs(m.Source, cfg.Path) {
			return nil, fmt.Errorf("storage image: %s is a file system of its own (%s on %s), not the image %s", cfg.Dir, m.FSType, m.Source, cfg.Path)
		}
		im.dev, im.state = m.Source, ImageAdopted
		return im, im.ready(ctx)
	}
	_ = os.Remove(cfg.Path + ".new") // an image whose making was cut short
	switch _, err := os.Stat(cfg.Path); {
	case errors.Is(err, fs.ErrNotExist):
		if err := im.create(ctx); err != nil {
			return nil, err
		}
		im.state = ImageMade
	case err != nil:
		return nil, fmt.Errorf("storage image: %w", err)
	case os.Geteuid() != 0:
		return nil, fmt.Errorf("storage image: the volumes are in %s, which only root can mount: run grove as root", cfg.Path)
	default:
		im.state = ImageMounted
	}
	if err := im.detachStale(ctx, mounts); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Dir, 0o711); err != nil {
		return nil, fmt.Errorf("storage image: %w", err)
	}
	if err := im.mount(); err != nil {
		if im.state == ImageMade {
			_ = os.Remove(cfg.Path)
			return nil, fmt.Errorf("%w: %v", errors.ErrUnsupported, err)
		}
		return nil, err
	}
	if err := im.ready(ctx); err != nil {
		_ = im.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	return im, nil
}

// ready finishes a mounted image: its root traversable by the Postgres
// users, and grown to the configured size.
func (im *Image) ready(ctx context.Context) error {
	if err := os.Chmod(im.cfg.Dir, 0o711); err != nil {
		return fmt.Errorf("storage image: %w", err)
	}
	if size := im.Size(); im.cfg.Size > size {
		if err := im.grow(ctx, im.cfg.Size); err != nil {
			// It works at its old size, and Run grows it as it fills.
			im.log.Warn("storage: image not grown to the configured size", "image", im.cfg.Path, "err", err)
		} else {
			im.log.Info("storage: image grown", "image", im.cfg.Path, "from", size, "to", im.cfg.Size)
		}
	}
	return nil
}

// Path is the image file.
func (im *Image) Path() string { return im.cfg.Path }

// Dir is where it is mounted: the volumes root.
func (im *Image) Dir() string { return im.cfg.Dir }

// Device is the loop device it is mounted from.
func (im *Image) Device() string { return im.dev }

// State says whether Open made, mounted or found the image mounted.
func (im *Image) State() ImageState { return im.state }

// Size is the image file's size, which its file system fills.
func (im *Image) Size() int64 {
	fi, err := os.Stat(im.cfg.Path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// canMake reports, as an error wrapping errors.ErrUnsupported, why no
// image can be made here.
func (im *Image) canMake() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("%w: mounting a file system needs root", errors.ErrUnsupported)
	}
	if !loopdev.Available() {
		return fmt.Errorf("%w: no loop devices (/dev/loop-control)", errors.ErrUnsupported)
	}
	if _, err := loopdev.Tool("mkfs.btrfs"); err != nil {
		return fmt.Errorf("%w: %v (Debian: btrfs-progs)", errors.ErrUnsupported, err)
	}
	ents, err := os.ReadDir(im.cfg.Dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("storage image: %w", err)
	}
	if len(ents) > 0 {
		return fmt.Errorf("%w: %s holds volumes made without an image, which a mount would hide", errors.ErrUnsupported, im.cfg.Dir)
	}
	return nil
}

// create makes the image: a sparse file of the configured size (or the
// default share of the free space), formatted btrfs.
func (im *Image) create(ctx context.Context) error {
	if err := im.canMake(); err != nil {
		return err
	}
	size := im.cfg.Size
	if size == 0 {
		host, err := statfs(filepath.Dir(im.cfg.Path))
		if err != nil {
			return fmt.Errorf("storage image: %w", err)
		}
		free := int64(host.Bavail) * host.Bsize
		if size = DefaultImageSize(free); size == 0 {
			return fmt.Errorf("%w: %d MiB free in %s, an image needs %d MiB", errors.ErrUnsupported, free>>20, filepath.Dir(im.cfg.Path), MinImageSize>>20)
		}
	}
	tmp := im.cfg.Path + ".new"
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("storage image: %w", err)
	}
	err = f.Truncate(size)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("%w: %v", errors.ErrUnsupported, err)
	}
	mkfs, _ := loopdev.Tool("mkfs.btrfs")
	// -K: nothing to discard in a new sparse file.
	out, err := exec.CommandContext(ctx, mkfs, "-q", "-f", "-K", "-L", "grove-volumes", tmp).CombinedOutput()
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("%w: mkfs.btrfs %s: %v: %s", errors.ErrUnsupported, tmp, err, strings.TrimSpace(string(out)))
	}
	// mkfs.btrfs flushes what it wrote; the rename publishes a whole image.
	if err := os.Rename(tmp, im.cfg.Path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("storage image: %w", err)
	}
	return fsyncDir(filepath.Dir(im.cfg.Path))
}

// detachStale detaches loop devices left attached to the image without a
// mount, and refuses to go on if the image is mounted anywhere else.
func (im *Image) detachStale(ctx context.Context, mounts []loopdev.Mount) error {
	devs, err := loopdev.DetachStale(ctx, im.cfg.Path, mounts)
	if err != nil {
		return fmt.Errorf("storage image: %w", err)
	}
	for _, dev := range devs {
		im.log.Info("storage: detached a stale loop device", "device", dev, "image", im.cfg.Path)
	}
	return nil
}

func (im *Image) mount() error {
	dev, err := loopdev.Attach(im.cfg.Path, true)
	if err != nil {
		return fmt.Errorf("storage image: %w", err)
	}
	defer dev.Close() // detaches it unless mounted
	// discard=async: space btrfs frees goes back to the host as holes in
	// the image. noatime: a read would otherwise write metadata that
	// snapshots then hold apart.
	if err := unix.Mount(dev.Name(), im.cfg.Dir, "btrfs", unix.MS_NOATIME|unix.MS_NOSUID|unix.MS_NODEV, "discard=async"); err != nil {
		return fmt.Errorf("storage image: mount %s (%s) at %s: %w", im.cfg.Path, dev.Name(), im.cfg.Dir, err)
	}
	im.dev = dev.Name()
	return nil
}

// grow makes the image to bytes long and its mounted file system fill it.
func (im *Image) grow(ctx context.Context, to int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := os.Truncate(im.cfg.Path, to); err != nil {
		return fmt.Errorf("grow %s: %w", im.cfg.Path, err)
	}
	if err := loopdev.SetCapacity(im.dev); err != nil {
		return fmt.Errorf("grow %s: %w", im.cfg.Path, err)
	}
	var args btrfsVolArgs
	copy(args.name[:], "max")
	fd, err := unix.Open(im.cfg.Dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("grow %s: %w", im.cfg.Path, err)
	}
	defer unix.Close(fd)
	if err := btrfsIoctl(fd, btrfsIocResize, unsafe.Pointer(&args)); err != nil {
		return fmt.Errorf("grow %s: resize its file system: %w", im.cfg.Path, err)
	}
	return nil
}

// Check reads the free space of the image's file system and of the host's,
// and grows the image when GrowTo says so. It logs growth, and once a
// growth the host has no room for.
func (im *Image) Check(ctx context.Context) error {
	im.mu.Lock()
	defer im.mu.Unlock()
	in, err := statfs(im.cfg.Dir)
	if err != nil {
		return fmt.Errorf("storage image: %w", err)
	}
	host, err := statfs(filepath.Dir(im.cfg.Path))
	if err != nil {
		return fmt.Errorf("storage image: %w", err)
	}
	size := im.Size()
	free, hostFree := int64(in.Bavail)*in.Bsize, int64(host.Bavail)*host.Bsize
	to := GrowTo(size, free, hostFree)
	if to == size {
		if free < size/4 && !im.cannot {
			im.log.Warn("storage: the image is filling and the host has no room to grow it", "image", im.cfg.Path,
				"size", size, "free", free, "host_free", hostFree)
		}
		im.cannot = free < size/4
		return nil
	}
	im.cannot = false
	if err := im.grow(ctx, to); err != nil {
		return err
	}
	im.log.Info("storage: image grown", "image", im.cfg.Path, "from", size, "to", to, "free_before", free, "host_free", hostFree)
	return nil
}

// Run checks the image at each interval until ctx ends.
func (im *Image) Run(ctx context.Context) {
	t := time.NewTicker(im.cfg.Interval)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := im.Check(ctx)
		if err != nil && !failing && ctx.Err() == nil {
			im.log.Warn("storage: cannot grow the image", "image", im.cfg.Path, "err", err)
		}
		failing = err != nil
	}
}

// Close unmounts the image, unless a process works in it (Postgres
// servers left running for the next Grove): it then returns an error
// wrapping unix.EBUSY at once, and the next Open takes the mount as it
// finds it. Otherwise it retries while the kernel finds the file system
// busy (processes still exiting) until ctx ends.
func (im *Image) Close(ctx context.Context) error {
	if pid := workingIn(im.cfg.Dir); pid != 0 {
		return fmt.Errorf("storage image: %s: process %d works in it: %w", im.cfg.Dir, pid, unix.EBUSY)
	}
	if err := loopdev.Unmount(ctx, im.cfg.Dir, im.cfg.Path); err != nil {
		return fmt.Errorf("storage image: %w", err)
	}
	return nil
}

// workingIn returns a process whose working directory is under dir (a
// Postgres server's is its data directory), or 0.
func workingIn(dir string) int {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if cwd, err := os.Readlink(filepath.Join("/proc", e.Name(), "cwd")); err == nil && (cwd == dir || strings.HasPrefix(cwd, dir+"/")) {
			return pid
		}
	}
	return 0
}

func statfs(path string) (unix.Statfs_t, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return st, fmt.Errorf("statfs %s: %w", path, err)
	}
	return st, nil
}

// fsyncDir makes a rename in dir durable.
func fsyncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("storage image: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("storage image: sync %s: %w", dir, err)
	}
	return nil
}
