package main

import (
	"testing"

	"github.com/grovedb/grove/internal/storage"
)

func TestStorageImageSizeFlag(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want int64
		ok   bool
	}{
		{nil, 0, true},
		{[]string{"--storage-image-size", "auto"}, 0, true},
		{[]string{"--storage-image-size=100GiB"}, 100 << 30, true},
		{[]string{"--storage-image-size", "512MiB"}, storage.MinImageSize, true},
		{[]string{"--storage-image-size", "256MiB"}, 0, false}, // under storage.MinImageSize
		{[]string{"--storage-image-size", "0"}, 0, false},
		{[]string{"--storage-image-size", "big"}, 0, false},
	} {
		c, err := parseServe(tt.args)
		if (err == nil) != tt.ok || (tt.ok && c.StorageImageSize != tt.want) {
			t.Errorf("parseServe(%q): --storage-image-size %d, %v; want %d, ok %v", tt.args, c.StorageImageSize, err, tt.want, tt.ok)
		}
	}
}
