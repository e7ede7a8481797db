package history_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grovedb/grove/internal/compute"
	"github.com/grovedb/grove/internal/history"
	"github.com/grovedb/grove/internal/pgtest"
)

func TestParseLSN(t *testing.T) {
	for _, c := range []struct {
		in   string
		want history.LSN
		bad  bool
	}{
		{"0/0", 0, false},
		{"0/1A2B3C4", 0x1A2B3C4, false},
		{"16/B374D848", 0x16B374D848, false},
		{"FFFFFFFF/FFFFFFFF", 1<<64 - 1, false},
		{"", 0, true},
		{"0", 0, true},
		{"0/", 0, true},
		{"/1", 0, true},
		{"g/1", 0, true},
		{"1/123456789", 0, true},
		{"-1/0", 0, true},
	} {
		t.Run(c.in, func(t *testing.T) {
			got, err := history.ParseLSN(c.in)
			if (err != nil) != c.bad || got != c.want {
				t.Fatalf("ParseLSN(%q) = %v, %v; want %v, error %v", c.in, got, err, c.want, c.bad)
			}
			if !c.bad && got.String() != strings.ToUpper(c.in) {
				t.Errorf("String() = %q, want %q", got, c.in)
			}
		})
	}
}

// TestHistory runs every scenario on each storage driver.
func TestHistory(t *testing.T) {
	for _, d := range driverRoots() {
		t.Run(d.name, func(t *testing.T) {
			e := newEnv(t, d.name, d.root(t, 1024))
			t.Run("Materialize", func(t *testing.T) { testMaterialize(t, e) })
			t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, e) })
			t.Run("Prune", func(t *testing.T) { testPrune(t, e) })
			t.Run("Crash", func(t *testing.T) { testCrash(t, e) })
			t.Run("Automatic", func(t *testing.T) { testAutomatic(t, e) })
		})
	}
}

// materialize runs Materialize into a new volume, starts a compute on it
// and returns its rows of t.
func materialize(t *testing.T, e *env, src history.Source, pt history.Point) (string, history.Result) {
	t.Helper()
	dst := e.id("vol-pitr")
	res, err := e.hist.Materialize(t.Context(), src, pt, dst)
	if err != nil {
		t.Fatalf("Materialize at %+v: %v", pt, err)
	}
	in := e.start(t, dst)
	got := rows(t, in)
	if err := e.computes.Suspend(t.Context(), in.ID()); err != nil {
		t.Fatal(err)
	}
	return got, res
}

func testMaterialize(t *testing.T, e *env) {
	ctx := t.Context()
	src := e.take(t)
	vol := src.VolumeID()
	source := history.Source{VolumeID: vol, ComputeID: src.ID()}
	snaps, err := e.hist.Snapshots(vol)
	if err != nil || len(snaps) != 1 {
		t.Fatalf("history of a new volume: %v, %v; want its first snapshot", snaps, err)
	}
	created := snaps[0].Time

	exec(t, src, "CREATE TABLE t (id serial PRIMARY KEY, v text)")
	exec(t, src, "INSERT INTO t (v) VALUES ('a')")
	lsnA := queryString(t, src, "SELECT pg_current_wal_lsn()::text")
	pause()
	betweenAB := time.Now()
	pause()
	exec(t, src, "INSERT INTO t (v) VALUES ('b')")
	pause()
	betweenBC := time.Now()
	pause()
	exec(t, src, "INSERT INTO t (v) VALUES ('c')")

	cases := []struct {
		name string
		pt   history.Point
		want string
	}{
		{"time between a and b", history.Point{Time: betweenAB}, "a"},
		{"time between b and c", history.Point{Time: betweenBC}, "a,b"},
		{"lsn after a", history.Point{LSN: lsnA}, "a"},
		{"head of the running source", history.Point{Time: time.Now()}, "a,b,c"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, res := materialize(t, e, source, c.pt)
			if got != c.want {
				t.Errorf("rows = %q, want %q", got, c.want)
			}
			if _, err := history.ParseLSN(res.LSN); err != nil || res.Time.IsZero() {
				t.Errorf("result %+v: %v", res, err)
			}
		})
	}

	t.Run("outside the window", func(t *testing.T) {
		present := queryString(t, src, "SELECT pg_current_wal_lsn()::text")
		p, _ := history.ParseLSN(present)
		for _, pt := range []history.Point{
			{Time: created.Add(-time.Second)},
			{Time: time.Now().Add(time.Hour)},
			{LSN: (p + 1<<30).String()},
			{LSN: "0/10"},
		} {
			dst := e.id("vol-out")
			_, err := e.hist.Materialize(ctx, source, pt, dst)
			if !errors.Is(err, history.ErrOutsideWindow) {
				t.Errorf("Materialize at %+v: %v, want ErrOutsideWindow", pt, err)
			}
			if e.vols.Exists(dst) {
				t.Errorf("refused Materialize left volume %s", dst)
			}
		}
	})

	t.Run("bad input", func(t *testing.T) {
		for _, c := range []struct {
			src history.Source
			pt  history.Point
			dst string
		}{
			{source, history.Point{}, e.id("vol-bad")},
			{source, history.Point{LSN: "0/1", Time: time.Now()}, e.id("vol-bad")},
			{source, history.Point{LSN: "zz"}, e.id("vol-bad")},
			{source, history.Point{Time: betweenAB}, vol},
			{source, history.Point{Time: betweenAB}, "Bad/Id"},
			{history.Source{VolumeID: "vol-none"}, history.Point{Time: betweenAB}, e.id("vol-bad")},
		} {
			if _, err := e.hist.Materialize(ctx, c.src, c.pt, c.dst); err == nil || errors.Is(err, history.ErrOutsideWindow) {
				t.Errorf("Materialize(%+v, %+v, %q) = %v, want an input error", c.src, c.pt, c.dst, err)
			}
		}
	})

	t.Run("suspended source", func(t *testing.T) {
		exec(t, src, "INSERT INTO t (v) VALUES ('d')")
		pause()
		afterD := time.Now()
		pause()
		exec(t, src, "INSERT INTO t (v) VALUES ('e')")
		lsnE := queryString(t, src, "SELECT pg_current_wal_lsn()::text")
		if err := e.computes.Suspend(ctx, src.ID()); err != nil {
			t.Fatal(err)
		}
		stopped := history.Source{VolumeID: vol}
		if got, _ := materialize(t, e, stopped, history.Point{Time: afterD}); got != "a,b,c,d" {
			t.Errorf("at a time: rows = %q, want a,b,c,d", got)
		}
		if got, _ := materialize(t, e, stopped, history.Point{LSN: lsnE}); got != "a,b,c,d,e" {
			t.Errorf("at its last LSN: rows = %q, want a,b,c,d,e", got)
		}
		if got, _ := materialize(t, e, stopped, history.Point{Time: time.Now()}); got != "a,b,c,d,e" {
			t.Errorf("now: rows = %q, want a,b,c,d,e", got)
		}
	})

	t.Run("branch of a branch", func(t *testing.T) {
		// A materialized volume has a history of its own, from its creation.
		dst := e.id("vol-child")
		if _, err := e.hist.Materialize(ctx, history.Source{VolumeID: vol}, history.Point{Time: betweenBC}, dst); err != nil {
			t.Fatal(err)
		}
		child := e.start(t, dst)
		exec(t, child, "INSERT INTO t (v) VALUES ('x')")
		pause()
		afterX := time.Now()
		pause()
		exec(t, child, "INSERT INTO t (v) VALUES ('y')")
		got, _ := materialize(t, e, history.Source{VolumeID: dst, ComputeID: child.ID()}, history.Point{Time: afterX})
		if got != "a,b,x" {
			t.Errorf("rows = %q, want a,b,x", got)
		}
		if _, err := e.hist.Materialize(ctx, history.Source{VolumeID: dst, ComputeID: child.ID()},
			history.Point{Time: betweenAB}, e.id("vol-out")); !errors.Is(err, history.ErrOutsideWindow) {
			t.Errorf("before the branch's creation: %v, want ErrOutsideWindow", err)
		}
	})

	t.Run("Forget", func(t *testing.T) {
		before := ownedVolumes(t, e)
		snaps, _ := e.hist.Snapshots(vol)
		if err := e.hist.Forget(ctx, vol); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(e.archive, vol)); !os.IsNotExist(err) {
			t.Errorf("archive of %s still there: %v", vol, err)
		}
		for _, s := range snaps {
			if e.vols.Exists(s.ID) {
				t.Errorf("snapshot %s still there", s.ID)
			}
		}
		if after := ownedVolumes(t, e); len(before)-len(after) != len(snaps) {
			t.Errorf("owned volumes %d → %d, want %d fewer", len(before), len(after), len(snaps))
		}
		if s, _ := e.hist.Snapshots(vol); len(s) != 0 {
			t.Errorf("history after Forget: %v", s)
		}
		if _, err := e.hist.Materialize(ctx, history.Source{VolumeID: vol}, history.Point{Time: time.Now()}, e.id("vol-out")); !errors.Is(err, history.ErrOutsideWindow) {
			t.Errorf("Materialize after Forget: %v, want ErrOutsideWindow", err)
		}
	})
}

// testConcurrent materializes a source being written by several clients:
// the result starts and holds a prefix of the commits.
func testConcurrent(t *testing.T, e *env) {
	src := e.take(t)
	exec(t, src, "CREATE TABLE c (id bigint PRIMARY KEY, w int, n int); CREATE TABLE t (id serial, v text)")
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	var mu sync.Mutex
	committed := map[int]int{} // writer → last committed n
	for w := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := src.Conn(ctx, "postgres")
			if err != nil {
				return
			}
			defer conn.Close(context.Background())
			for n := 1; ctx.Err() == nil; n++ {
				// Each writer's rows are numbered 1, 2, 3 …; a prefix has no gaps.
				if _, err := conn.Exec(ctx, "INSERT INTO c VALUES ($1, $2, $3)", int64(w)<<32|int64(n), w, n); err != nil {
					return
				}
				mu.Lock()
				committed[w] = n
				mu.Unlock()
			}
		}()
	}
	defer func() { cancel(); wg.Wait() }()
	for i := range 3 {
		time.Sleep(300 * time.Millisecond)
		dst := e.id("vol-conc")
		_, err := e.hist.Materialize(t.Context(), history.Source{VolumeID: src.VolumeID(), ComputeID: src.ID()},
			history.Point{Time: time.Now()}, dst)
		if err != nil {
			t.Fatal(err)
		}
		in := e.start(t, dst)
		got := queryString(t, in, "SELECT string_agg(w || ':' || (count = max_n AND min_n = 1)::text || ':' || count, ',' ORDER BY w) "+
			"FROM (SELECT w, count(*), max(n) AS max_n, min(n) AS min_n FROM c GROUP BY w) s")
		if strings.Contains(got, "false") || got == "" {
			t.Errorf("materialization %d: per writer w:prefix:count = %q, want prefixes", i, got)
		}
		// It is a read-write primary.
		exec(t, in, "INSERT INTO c VALUES (-1, -1, -1)")
		if err := e.computes.Suspend(t.Context(), in.ID()); err != nil {
			t.Fatal(err)
		}
	}
}

// testPrune checks that pruning keeps what the window needs: the newest
// snapshot before its start and the WAL after it.
func testPrune(t *testing.T, e *env) {
	ctx := t.Context()
	defer e.retention.Store(int64(24 * time.Hour))
	src := e.take(t)
	vol := src.VolumeID()
	source := history.Source{VolumeID: vol, ComputeID: src.ID()}
	exec(t, src, "CREATE TABLE t (id serial PRIMARY KEY, v text)")
	var moments []time.Time
	for i := range 4 {
		// Each step fills more than a segment, so that old WAL can go.
		exec(t, src, fmt.Sprintf("INSERT INTO t (v) VALUES ('%d'); CREATE TABLE filler%d AS SELECT repeat('x', 200) FROM generate_series(1, 20000)", i, i))
		if err := e.hist.SnapshotNow(ctx, src); err != nil {
			t.Fatal(err)
		}
		pause()
		moments = append(moments, time.Now())
		pause()
	}
	exec(t, src, "INSERT INTO t (v) VALUES ('last')")
	snaps, _ := e.hist.Snapshots(vol)
	if len(snaps) != 5 {
		t.Fatalf("%d snapshots, want 5", len(snaps))
	}
	walBefore := segments(t, e.hist.WALDir(vol))

	// A window starting between the third and fourth automatic snapshots.
	// The window slides with the clock, and the moments are only 60 ms
	// apart: anchor it again before each call, so that a slow machine
	// does not slide it past them.
	anchor := func() { e.retention.Store(int64(time.Since(moments[2]))) }
	anchor()
	if err := e.hist.Prune(ctx, vol); err != nil {
		t.Fatal(err)
	}
	kept, _ := e.hist.Snapshots(vol)
	if len(kept) != 2 || kept[0].ID != snaps[3].ID || kept[1].ID != snaps[4].ID {
		t.Fatalf("kept %v, want the last two of %v", kept, snaps)
	}
	for _, s := range snaps[:3] {
		if e.vols.Exists(s.ID) {
			t.Errorf("pruned snapshot %s still there", s.ID)
		}
	}
	walAfter := segments(t, e.hist.WALDir(vol))
	if len(walAfter) >= len(walBefore) {
		t.Errorf("WAL segments %d → %d, want fewer", len(walBefore), len(walAfter))
	}
	anchor()
	if got, _ := materialize(t, e, source, history.Point{Time: moments[3]}); got != "0,1,2,3" {
		t.Errorf("inside the window: rows = %q, want 0,1,2,3", got)
	}
	anchor()
	if got, _ := materialize(t, e, source, history.Point{Time: time.Now()}); got != "0,1,2,3,last" {
		t.Errorf("now: rows = %q, want 0,1,2,3,last", got)
	}
	anchor()
	if _, err := e.hist.Materialize(ctx, source, history.Point{Time: moments[1]}, e.id("vol-out")); !errors.Is(err, history.ErrOutsideWindow) {
		t.Errorf("before the window: %v, want ErrOutsideWindow", err)
	}
	anchor()
	if _, err := e.hist.Materialize(ctx, source, history.Point{LSN: snaps[1].LSN}, e.id("vol-out")); !errors.Is(err, history.ErrOutsideWindow) {
		t.Errorf("LSN before the window: %v, want ErrOutsideWindow", err)
	}

	// No retention: only the newest snapshot and the WAL after it stay.
	e.retention.Store(0)
	if err := e.hist.Prune(ctx, vol); err != nil {
		t.Fatal(err)
	}
	if kept, _ := e.hist.Snapshots(vol); len(kept) != 1 || kept[0].ID != snaps[4].ID {
		t.Errorf("with no retention kept %v, want %s", kept, snaps[4].ID)
	}
}

func segments(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if len(e.Name()) == 24 {
			out = append(out, e.Name())
		}
	}
	return out
}

// testCrash interrupts Materialize during recovery and checks no volume is
// left half-made; and that Run removes what a crashed process left.
func testCrash(t *testing.T, e *env) {
	src := e.take(t)
	exec(t, src, "CREATE TABLE t (id serial PRIMARY KEY, v text); INSERT INTO t (v) VALUES ('a')")
	before := ownedVolumes(t, e)
	dst := e.id("vol-crash")
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := e.hist.Materialize(ctx, history.Source{VolumeID: src.VolumeID(), ComputeID: src.ID()}, history.Point{Time: time.Now()}, dst)
		done <- err
	}()
	// Cancel once the temporary volume exists (the recovery is under way).
	waitFor(t, "a temporary volume", func() bool {
		select {
		case err := <-done:
			done <- err
			return true
		default:
		}
		return len(ownedVolumes(t, e)) > len(before)
	})
	cancel()
	if err := <-done; err == nil {
		t.Log("Materialize finished before it could be interrupted")
		if err := e.vols.Delete(t.Context(), dst); err != nil {
			t.Fatal(err)
		}
		_ = e.hist.Forget(t.Context(), dst)
	} else if e.vols.Exists(dst) {
		t.Errorf("interrupted Materialize left %s", dst)
	}
	if after := ownedVolumes(t, e); len(after) != len(before) {
		t.Errorf("owned volumes %v after an interrupted Materialize, want %v", after, before)
	}

	// A crashed process leaves a temporary and an unrecorded snapshot; a
	// new manager's Run removes them and keeps the recorded snapshots.
	snaps, _ := e.hist.Snapshots(src.VolumeID())
	for _, id := range []string{"hist-tmp-0123456789abcdef", "hist-0123456789abcdef"} {
		if err := e.vols.Clone(t.Context(), snaps[0].ID, id); err != nil {
			t.Fatal(err)
		}
	}
	rctx, stop := context.WithCancel(t.Context())
	ran := make(chan struct{})
	go func() { e.hist.Run(rctx); close(ran) }()
	waitFor(t, "leftovers removed", func() bool {
		return !e.vols.Exists("hist-tmp-0123456789abcdef") && !e.vols.Exists("hist-0123456789abcdef")
	})
	stop()
	<-ran
	for _, s := range snaps {
		if !e.vols.Exists(s.ID) {
			t.Errorf("recorded snapshot %s removed", s.ID)
		}
	}
}

// testAutomatic checks that Run snapshots a volume as WAL is written, and
// forgets the history of a deleted volume.
func testAutomatic(t *testing.T, e *env) {
	src := e.take(t)
	vol := src.VolumeID()
	cfg := e.cfg
	cfg.RunDir, cfg.SnapshotWAL, cfg.CheckInterval, cfg.PruneInterval = pgtest.ShortDir(t), 2<<20, 20*time.Millisecond, 20*time.Millisecond
	h, err := history.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.SetComputes(e.computes)
	ctx, stop := context.WithCancel(t.Context())
	ran := make(chan struct{})
	go func() { h.Run(ctx); close(ran) }()
	defer func() { stop(); <-ran }()
	exec(t, src, "CREATE TABLE f WITH (autovacuum_enabled = off) AS SELECT repeat('x', 200) AS v FROM generate_series(1, 30000)")
	waitFor(t, "an automatic snapshot", func() bool {
		s, _ := h.Snapshots(vol)
		return len(s) >= 2
	})
	s, _ := h.Snapshots(vol)
	if a, _ := history.ParseLSN(s[0].LSN); true {
		b, _ := history.ParseLSN(s[1].LSN)
		if b-a < 2<<20 {
			t.Errorf("automatic snapshot after %d bytes of WAL, want ≥ 2 MiB", b-a)
		}
	}

	// Full-page images count at their size, not their compressed one: the
	// first read of the table after a snapshot sets hint bits and logs an
	// image of each of its 6.8 MB of pages (wal_log_hints), which
	// compress to a few hundred kB of WAL.
	if err := h.SnapshotNow(t.Context(), src); err != nil {
		t.Fatal(err)
	}
	s, _ = h.Snapshots(vol)
	n := len(s)
	// WAL bytes written, not LSNs: a segment switch (archive_timeout)
	// moves the LSN to the next segment without writing it. exec runs on
	// the compute's kept admin session, whose statistics reach
	// pg_stat_wal at most once a second unless flushed: flush them first,
	// or the table's load would count with the reads.
	walBytes := func() int64 {
		exec(t, src, "SELECT pg_stat_force_next_flush()")
		n, _ := strconv.ParseInt(queryString(t, src, "SELECT wal_bytes::text FROM pg_stat_wal"), 10, 64)
		return n
	}
	before := walBytes()
	exec(t, src, "SELECT count(*) FROM f")
	if wal := walBytes() - before; wal >= 1<<20 {
		t.Fatalf("the page images took %d bytes of WAL; the test needs them to compress below 1 MiB", wal)
	}
	waitFor(t, "an automatic snapshot after the page images", func() bool {
		s, _ = h.Snapshots(vol)
		return len(s) > n
	})
	// A deleted volume's history goes.
	if err := e.computes.Suspend(t.Context(), src.ID()); err != nil {
		t.Fatal(err)
	}
	if err := e.vols.Delete(t.Context(), vol); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "history of a deleted volume removed", func() bool {
		_, err := os.Stat(filepath.Join(e.archive, vol))
		return os.IsNotExist(err)
	})
	for _, snap := range s {
		if e.vols.Exists(snap.ID) {
			t.Errorf("snapshot %s of a deleted volume still there", snap.ID)
		}
	}
}

var _ = strconv.Itoa
var _ = compute.StateActive
