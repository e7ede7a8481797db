package history_test

import (
	"context"
	"log/slog"
	"os"
	osexec "os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/grovedb/grove/internal/compute"
	"github.com/grovedb/grove/internal/history"
	"github.com/grovedb/grove/internal/storage"
	"github.com/grovedb/grove/internal/storage/storagetest"
)

// BenchmarkMaterialize: Materialize at a past timestamp of a ~1 GiB
// database with ~100 MB of WAL written since its last automatic snapshot,
// on btrfs (a loop device): clone of the snapshot, recovery from the
// archive, promotion, clean shutdown, sync, and the new volume's first
// snapshot. The /compute cases measure the path of a branch with an
// endpoint instead: the clone, then the endpoint's compute recovering it
// and promoting at the point, until its first query answers (its pages
// are written afterwards).
//
//	go test -run '^$' -bench BenchmarkMaterialize -benchtime 1x ./internal/history
//
// Both cases load a 1 GiB table of 1M rows, then update rows spread over
// the whole table (every 500th or 50th) until 100 MB of WAL:
//
//   - incompressible: rows of 30 distinct MD5s, as most data: full-page
//     images dominate the WAL, so 100 MB of it changes about 100 MB of
//     the table.
//   - repetitive: rows of one MD5 repeated 30 times, updated by a prefix:
//     full-page images compress about 20× (wal_compression) and updates
//     log only the prefix, so 100 MB of WAL rewrites every page of the
//     table, several times: the adversarial case, bound by replay and the
//     final write of 1 GiB of pages.
func BenchmarkMaterialize(b *testing.B) {
	var terms []string
	for k := range 30 {
		terms = append(terms, "md5((i * 30 + "+strconv.Itoa(k)+")::text)")
	}
	for _, compute := range []bool{false, true} {
		suffix := ""
		if compute {
			suffix = "/compute"
		}
		b.Run("incompressible"+suffix, func(b *testing.B) {
			benchMaterialize(b, strings.Join(terms, " || "), "pad = md5(pad) || substr(pad, 33)", 500, compute)
		})
		b.Run("repetitive"+suffix, func(b *testing.B) {
			benchMaterialize(b, "repeat(md5(i::text), 30)", "pad = md5(pad) || pad", 50, compute)
		})
	}
}

// benchMaterialize measures Materialize, or with viaCompute what a branch
// with an endpoint does instead: PrepareRecovery, then a compute that
// recovers the volume and promotes, until its first query answers.
func benchMaterialize(b *testing.B, padExpr, set string, every int, viaCompute bool) {
	e := newEnv(b, storage.NameBtrfs, benchRoot(b), func(c *history.Config) {
		if testing.Verbose() {
			c.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
		}
	})
	in, err := e.computes.Take(b.Context(), compute.Spec{ID: "ep-bench", Major: e.major, MinCU: 1, MaxCU: 2})
	if err != nil {
		b.Fatal(err)
	}
	begin := time.Now()
	exec(b, in, "CREATE TABLE big (id bigint, pad text); "+
		"INSERT INTO big SELECT i, "+padExpr+" FROM generate_series(1, 1000000) i")
	// As autovacuum would after such a load: without it, the first scan
	// after the snapshot sets hint bits on every page, and logs each page
	// whole (wal_log_hints), 1 GiB of WAL that no live database writes.
	exec(b, in, "VACUUM big")
	size := queryString(b, in, "SELECT pg_database_size('postgres')::text")
	b.Logf("loaded %s bytes in %v", size, time.Since(begin))
	if err := e.hist.SnapshotNow(b.Context(), in); err != nil {
		b.Fatal(err)
	}
	snaps, _ := e.hist.Snapshots(in.VolumeID())
	base, _ := history.ParseLSN(snaps[len(snaps)-1].LSN)
	// ~100 MB of WAL after the snapshot: updates of rows scattered over
	// the table.
	stats := "SELECT format('%s records, %s full-page images', wal_records, wal_fpi) FROM pg_stat_wal"
	before := queryString(b, in, stats)
	wal := base
	for i := 0; wal-base < 100<<20; i++ {
		exec(b, in, "UPDATE big SET "+set+" WHERE id % "+strconv.Itoa(every)+" = "+strconv.Itoa(i))
		wal, _ = history.ParseLSN(queryString(b, in, "SELECT pg_current_wal_lsn()::text"))
	}
	exec(b, in, "CREATE TABLE marks (v text); INSERT INTO marks VALUES ('before')")
	time.Sleep(50 * time.Millisecond)
	pt := time.Now()
	time.Sleep(50 * time.Millisecond)
	exec(b, in, "INSERT INTO marks VALUES ('after')")
	// Let the archiver catch up, as it would in the minutes before a restore.
	seg := queryString(b, in, "SELECT pg_walfile_name(pg_switch_wal())")
	waitFor(b, "the archiver", func() bool {
		return queryString(b, in, "SELECT coalesce(last_archived_wal >= '"+seg+"', false)::text FROM pg_stat_archiver") == "true"
	})
	b.Logf("WAL since the snapshot: %d MB; before: %s; after: %s", (wal-base)>>20, before, queryString(b, in, stats))
	src := history.Source{VolumeID: in.VolumeID(), ComputeID: in.ID()}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		dst := "vol-bench-" + strconv.Itoa(i)
		if viaCompute {
			rec, err := e.hist.PrepareRecovery(b.Context(), src, history.Point{Time: pt}, dst)
			if err != nil {
				b.Fatal(err)
			}
			c, err := e.computes.Start(b.Context(), compute.Spec{ID: e.id("ep-pitr"), VolumeID: dst, Major: e.major,
				MinCU: 1, MaxCU: 2, Recovery: &rec.Recovery})
			rec.Release()
			if err != nil {
				b.Fatal(err)
			}
			got := queryString(b, c, "SELECT string_agg(v, ',') FROM marks")
			b.StopTimer()
			if got != "before" {
				b.Fatalf("recovered marks = %q, want before", got)
			}
			if err := e.computes.Suspend(b.Context(), c.ID()); err != nil {
				b.Fatal(err)
			}
		} else if _, err := e.hist.Materialize(b.Context(), src, history.Point{Time: pt}, dst); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if i == 0 && !viaCompute {
			c := e.start(b, dst)
			if got := queryString(b, c, "SELECT string_agg(v, ',') FROM marks"); got != "before" {
				b.Fatalf("materialized marks = %q, want before", got)
			}
			if err := e.computes.Suspend(b.Context(), c.ID()); err != nil {
				b.Fatal(err)
			}
		}
		if err := e.hist.Forget(context.Background(), dst); err != nil {
			b.Fatal(err)
		}
		if err := e.vols.Delete(context.Background(), dst); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// benchRoot is a btrfs file system of a data disk's size (64 GiB, sparse)
// without quotas, as Grove runs on: btrfs lets buffered writes reserve
// metadata in proportion to the free space, and on a small file system it
// flushes every few hundred scattered writes, which tripled the cost of a
// recovery's final checkpoint on the 8 GiB image this used; quotas add a
// reservation to every write.
func benchRoot(b *testing.B) string {
	mnt := storagetest.LoopBtrfs(b, 64<<10)
	if out, err := osexec.Command("btrfs", "quota", "disable", mnt).CombinedOutput(); err != nil {
		b.Fatalf("btrfs quota disable: %v: %s", err, out)
	}
	return mnt
}
