// Package loopdev reads the mount table and finds, resizes and detaches
// loop devices: what Grove needs to keep file systems of its own in image
// files of the data dir (the metadata reserve, the volumes' btrfs image).
// Devices are attached with autoclear, so that the unmount of the last
// mount detaches them by themselves.
package loopdev

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// SysBlock is where sysfs lists block devices.
const SysBlock = "/sys/block"

// Mount is one line of /proc/self/mountinfo.
type Mount struct {
	Point  string // where it is mounted
	FSType string
	Source string // e.g. /dev/loop3
}

// ParseMountInfo reads the format of proc(5)'s mountinfo, in mount order.
func ParseMountInfo(r io.Reader) ([]Mount, error) {
	var out []Mount
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		sep := -1
		for i := 6; i < len(f); i++ {
			if f[i] == "-" {
				sep = i
				break
			}
		}
		if len(f) < 5 || sep < 0 || sep+2 >= len(f) {
			return nil, fmt.Errorf("mountinfo: malformed line %q", sc.Text())
		}
		out = append(out, Mount{Point: unescapeOctal(f[4]), FSType: f[sep+1], Source: unescapeOctal(f[sep+2])})
	}
	return out, sc.Err()
}

// unescapeOctal undoes the kernel's \ooo escapes of space, tab, newline and
// backslash in mountinfo paths.
func unescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// MountAt returns the topmost mount at point, if any.
func MountAt(mounts []Mount, point string) (Mount, bool) {
	var found Mount
	ok := false
	for _, m := range mounts {
		if m.Point == point {
			found, ok = m, true
		}
	}
	return found, ok
}

// MountsOf lists the mounts whose source is dev.
func MountsOf(mounts []Mount, dev string) []Mount {
	var out []Mount
	for _, m := range mounts {
		if m.Source == dev {
			out = append(out, m)
		}
	}
	return out
}

// Mounts reads this process's mount table.
func Mounts() ([]Mount, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseMountInfo(f)
}

// Backing lists the loop devices (/dev/loopN) whose backing file is file,
// read from sysfs (root is SysBlock but in tests). The kernel writes the
// file's current path, with " (deleted)" once it is unlinked.
func Backing(root, file string) ([]string, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "loop") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(root, e.Name(), "loop", "backing_file"))
		if err != nil {
			continue // not attached
		}
		if strings.TrimSpace(string(b)) == file {
			out = append(out, "/dev/"+e.Name())
		}
	}
	return out, nil
}

// Backs reports whether dev is a loop device on file.
func Backs(dev, file string) bool {
	devs, err := Backing(SysBlock, file)
	if err != nil {
		return false
	}
	for _, d := range devs {
		if d == dev {
			return true
		}
	}
	return false
}

// Detach detaches the loop device dev, and fails if it stays attached.
func Detach(ctx context.Context, dev string) error {
	bin, err := Tool("losetup")
	if err != nil {
		return err
	}
	if out, err := exec.CommandContext(ctx, bin, "-d", dev).CombinedOutput(); err != nil {
		return fmt.Errorf("losetup -d %s: %v: %s", dev, err, strings.TrimSpace(string(out)))
	}
	// A device still in use (a file system unmounted lazily) stays
	// attached after -d until its last user goes.
	name := filepath.Base(dev)
	if _, err := os.Stat(filepath.Join(SysBlock, name, "loop", "backing_file")); err == nil {
		return fmt.Errorf("%s is still in use (a file system on it unmounted lazily?); stop what uses it", dev)
	}
	return nil
}

// Attach attaches file to a free loop device, with autoclear and, when
// directIO is set and file's file system allows it, direct I/O (which
// spares a second copy of every block in the page cache, and makes a flush
// of the device as cheap as one of the file). It returns the device open:
// autoclear detaches it once the last holder closes it, so the caller
// mounts it before closing it, and detaches it by closing it unmounted.
func Attach(file string, directIO bool) (*os.File, error) {
	backing, err := os.OpenFile(file, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("attach %s: %w", file, err)
	}
	defer backing.Close()
	ctl, err := os.OpenFile("/dev/loop-control", os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("attach %s: %w", file, err)
	}
	defer ctl.Close()
	cfg := unix.LoopConfig{Fd: uint32(backing.Fd())}
	cfg.Info.Flags = unix.LO_FLAGS_AUTOCLEAR
	if directIO {
		cfg.Info.Flags |= unix.LO_FLAGS_DIRECT_IO
	}
	copy(cfg.Info.File_name[:len(cfg.Info.File_name)-1], file)
	for range 20 {
		n, err := unix.IoctlRetInt(int(ctl.Fd()), unix.LOOP_CTL_GET_FREE)
		if err != nil {
			return nil, fmt.Errorf("attach %s: find a free loop device: %w", file, err)
		}
		dev := fmt.Sprintf("/dev/loop%d", n)
		if _, err := os.Stat(dev); errors.Is(err, os.ErrNotExist) {
			// No devtmpfs to make the node.
			if err := unix.Mknod(dev, unix.S_IFBLK|0o600, int(unix.Mkdev(7, uint32(n)))); err != nil && !errors.Is(err, unix.EEXIST) {
				return nil, fmt.Errorf("attach %s: %w", file, err)
			}
		}
		f, err := os.OpenFile(dev, os.O_RDWR, 0)
		if err != nil {
			return nil, fmt.Errorf("attach %s: %w", file, err)
		}
		err = unix.IoctlLoopConfigure(int(f.Fd()), &cfg)
		if errors.Is(err, unix.EINVAL) && cfg.Info.Flags&unix.LO_FLAGS_DIRECT_IO != 0 {
			// The file's file system takes no direct I/O.
			cfg.Info.Flags &^= unix.LO_FLAGS_DIRECT_IO
			err = unix.IoctlLoopConfigure(int(f.Fd()), &cfg)
		}
		if err == nil {
			return f, nil
		}
		f.Close()
		if !errors.Is(err, unix.EBUSY) {
			return nil, fmt.Errorf("attach %s to %s: %w", file, dev, err)
		}
		// Another process took the device between the two calls.
	}
	return nil, fmt.Errorf("attach %s: every free loop device was taken by others", file)
}

// Unmount unmounts the file system at dir, which is on a loop device over
// image. It retries while the kernel finds it busy (processes still
// exiting) until ctx ends, and then detaches any loop device still on
// image (autoclear detaches one by itself).
func Unmount(ctx context.Context, dir, image string) error {
	for {
		err := unix.Unmount(dir, 0)
		if err == nil {
			break
		}
		if !errors.Is(err, unix.EBUSY) || ctx.Err() != nil {
			return fmt.Errorf("unmount %s: %w", dir, err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
	devs, _ := Backing(SysBlock, image)
	for _, dev := range devs {
		if err := Detach(ctx, dev); err != nil {
			return err
		}
	}
	return nil
}

// DetachStale detaches the loop devices left on image without a mount (by
// a process killed between attaching and mounting) and returns them. It
// fails if image is mounted anywhere: a second mount of its file system
// through another device would corrupt it.
func DetachStale(ctx context.Context, image string, mounts []Mount) ([]string, error) {
	devs, err := Backing(SysBlock, image)
	if err != nil {
		return nil, nil // no sysfs: nothing to find
	}
	for _, dev := range devs {
		if ms := MountsOf(mounts, dev); len(ms) > 0 {
			return nil, fmt.Errorf("%s is mounted at %s (%s); unmount it first: a second mount would corrupt it", image, ms[0].Point, dev)
		}
		if err := Detach(ctx, dev); err != nil {
			return nil, err
		}
	}
	return devs, nil
}

// SetCapacity makes the loop device dev take the current size of its
// backing file (losetup -c), so that a file system on it can grow online.
func SetCapacity(dev string) error {
	fd, err := unix.Open(dev, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("set capacity of %s: %w", dev, err)
	}
	defer unix.Close(fd)
	if err := unix.IoctlSetInt(fd, unix.LOOP_SET_CAPACITY, 0); err != nil {
		return fmt.Errorf("set capacity of %s: %w", dev, err)
	}
	return nil
}

// Tool finds an administration program in PATH, then in /usr/sbin and
// /sbin, which a non-login PATH may lack.
func Tool(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, d := range []string{"/usr/sbin", "/sbin", "/usr/bin", "/bin"} {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found", name)
}

// Available reports whether loop devices can be had: made on demand
// through /dev/loop-control, or one already there.
func Available() bool {
	if _, err := os.Stat("/dev/loop-control"); err == nil {
		return true
	}
	_, err := os.Stat("/dev/loop0")
	return err == nil
}
