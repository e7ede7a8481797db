package storage_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/grovedb/grove/internal/pgrun"
	"github.com/grovedb/grove/internal/pgtest"
	"github.com/grovedb/grove/internal/storage"
	"github.com/grovedb/grove/internal/storage/storagetest"
)

// BenchmarkClone clones a freshly initdb'd cluster (the template a new
// project starts from) with each driver the machine offers. Deleting each
// clone is not timed.
func BenchmarkClone(b *testing.B) {
	roots := []struct {
		name, driver string
		root         func(b *testing.B) string
	}{
		{"copy-tempdir", storage.NameCopy, func(b *testing.B) string { return pgtest.Dir(b) }},
		{"copy-tmpfs", storage.NameCopy, func(b *testing.B) string { return storagetest.Tmpfs(b, 256) }},
		{"reflink-tempdir", storage.NameReflink, func(b *testing.B) string { return pgtest.Dir(b) }},
		{"reflink-btrfs", storage.NameReflink, func(b *testing.B) string { return storagetest.LoopBtrfs(b, 512) }},
		{"btrfs", storage.NameBtrfs, func(b *testing.B) string { return storagetest.LoopBtrfs(b, 512) }},
		{"btrfs-noquota", storage.NameBtrfs, func(b *testing.B) string {
			mnt := storagetest.LoopBtrfs(b, 512)
			if err := runQuota(mnt, "disable"); err != nil {
				b.Fatal(err)
			}
			return mnt
		}},
	}
	for _, r := range roots {
		b.Run(r.name, func(b *testing.B) {
			ctx := b.Context()
			d, err := storage.Open(ctx, r.driver, filepath.Join(r.root(b), "vols"))
			if err != nil {
				b.Skipf("%s unusable here: %v", r.driver, err)
			}
			if err := d.Create(ctx, "tmpl"); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = d.Delete(context.Background(), "tmpl") })
			if err := pgrun.InitDB(ctx, pgtest.Install(b, 0), pgtest.User(b), d.Path("tmpl"), pgrun.InitOptions{WALSegSizeMB: 1}); err != nil {
				b.Fatal(err)
			}
			u, err := d.Usage(ctx, "tmpl")
			if u.Total <= 0 {
				b.Fatal(err)
			}
			b.SetBytes(u.Total)
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				id := fmt.Sprintf("c-%d", i)
				if err := d.Clone(ctx, "tmpl", id); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if err := d.Delete(ctx, id); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
		})
	}
}
