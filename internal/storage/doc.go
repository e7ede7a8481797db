// Package storage makes and removes volumes: one directory per Postgres data
// directory, all under one root, made by one of three drivers.
//
//   - btrfs: every volume is a btrfs subvolume; Clone and Snapshot are
//     subvolume snapshots made by ioctl, O(1) and atomic, so a clone of a
//     running cluster is crash-consistent. Exclusive usage comes from qgroups
//     when quotas are enabled on the file system.
//   - reflink: volumes are plain directories; Clone walks the tree and shares
//     every regular file's extents with FICLONE (XFS, btrfs, bcachefs …).
//   - copy: like reflink but copies bytes (copy_file_range, which file
//     systems that can share extents may still turn into a reflink).
//
// Probe picks the best driver the root's file system offers; Open names one.
//
// # Volumes image
//
// Where the data dir's file system offers neither (ext4), OpenImage gives
// the btrfs driver a file system of its own: a sparse image file beside the
// root, formatted btrfs and loop-mounted at the root (discard=async, so
// that space btrfs frees goes back to the host as holes). It is a plain
// file, mounted again at each start; one a killed Grove left mounted is
// taken as it is. Its size is a share of the host's free space (it costs
// nothing until written); Run grows it online (a longer file, the loop
// device's new capacity, a btrfs resize) when under a quarter of it is
// free, by at most half of what the host has free. Close unmounts it only
// when nothing uses it: the kernel refuses a busy unmount, and the mount
// then stays for the next start. An image is never made over volumes
// already in the root, which a mount would hide.
//
// # Lifecycle and crash safety
//
// The tree drivers build a clone under a temporary name in the root
// (".tmp-<id>-<random>"), flush the file system, and rename it into place
// with RENAME_NOREPLACE, so a crash never leaves a half-made volume under a
// real id; Delete renames the volume to a temporary name before removing it.
// btrfs snapshots and subvolume deletion are atomic by themselves. List
// ignores temporaries and Cleanup (run by Probe and Open) removes them, so
// only one process may own a root at a time.
//
// # Concurrency
//
// Drivers hold no state beyond their root: operations on different ids may run
// concurrently. Two operations racing for the same destination id end with one
// success and one error wrapping ErrExists. Cloning a volume while it is being
// deleted may fail.
//
// # Gaps
//
// The tree drivers are not point-in-time consistent (Atomic is false): clone
// a stopped cluster or use Postgres' backup API. They copy owner, mode,
// timestamps, symlinks and special files, but not extended attributes, ACLs,
// file flags or hard links (each link becomes its own file). Their snapshots
// are made read-only with the immutable inode flag, which needs
// CAP_LINUX_IMMUTABLE and file-system support; without it a snapshot is an
// ordinary copy.
package storage
