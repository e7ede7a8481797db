package storage

import (
	"testing"
	"unsafe"
)

// The kernel copies exactly 4096 bytes for both btrfs argument structs.
func TestBtrfsIoctlArgSizes(t *testing.T) {
	if s := unsafe.Sizeof(btrfsVolArgs{}); s != 4096 {
		t.Errorf("btrfs_ioctl_vol_args is %d bytes, want 4096", s)
	}
	if s := unsafe.Sizeof(btrfsVolArgsV2{}); s != 4096 {
		t.Errorf("btrfs_ioctl_vol_args_v2 is %d bytes, want 4096", s)
	}
}
