// Package storagetest is the conformance suite every storage driver must pass,
// and helpers giving tests real small file systems (loop-mounted btrfs, tmpfs).
package storagetest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/grovedb/grove/internal/pgrun"
	"github.com/grovedb/grove/internal/pgtest"
	"github.com/grovedb/grove/internal/storage"
	"golang.org/x/sync/errgroup"
	"golang.org/x/sys/unix"
)

// RunSuite runs the conformance tests against drivers made by newDriver, which
// must return a driver on a fresh, empty root for each call. The subtests do
// not run in parallel with each other, because the ENOSPC test fills the
// file system.
func RunSuite(t *testing.T, newDriver func(t *testing.T) storage.Driver) {
	tests := []struct {
		name string
		run  func(t *testing.T, d storage.Driver)
	}{
		{"CreateListExistsPath", testCreateList},
		{"InvalidIDs", testInvalidIDs},
		{"ErrorsOnMissingAndExisting", testErrors},
		{"ClonePreservesTree", testClonePreserves},
		{"CloneIsIndependent", testCloneIndependent},
		{"CloneOfClone", testCloneOfClone},
		{"SnapshotReadOnly", testSnapshotReadOnly},
		{"DeleteWithDependants", testDeleteWithDependants},
		{"Concurrent", testConcurrent},
		{"SameDestinationRace", testSameDestination},
		{"Usage", testUsage},
		{"Cleanup", testCleanup},
		{"CanceledContext", testCanceled},
		{"ENOSPC", testENOSPC},
		{"Postgres", testPostgres},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.run(t, newDriver(t))
		})
	}
}

func testCreateList(t *testing.T, d storage.Driver) {
	ctx := t.Context()
	ids := []string{"b", "a", "0-x", strings.Repeat("z", 63)}
	for _, id := range ids {
		if d.Exists(id) {
			t.Fatalf("Exists(%q) before Create", id)
		}
		mustCreate(t, d, id)
		if !d.Exists(id) {
			t.Fatalf("Exists(%q) = false after Create", id)
		}
		if got, want := d.Path(id), filepath.Join(d.Root(), id); got != want {
			t.Fatalf("Path(%q) = %q, want %q", id, got, want)
		}
		fi, err := os.Stat(d.Path(id))
		if err != nil || !fi.IsDir() {
			t.Fatalf("volume %q is not a directory: %v", id, err)
		}
		if ents, _ := os.ReadDir(d.Path(id)); len(ents) != 0 {
			t.Fatalf("new volume %q not empty: %v", id, ents)
		}
	}
	// Things in the root that are not volumes must not be listed.
	for _, junk := range []string{".tmp-a-123", "lost+found", "UPPER"} {
		if err := os.Mkdir(filepath.Join(d.Root(), junk), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(d.Root(), "file"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := d.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := slices.Clone(ids)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("List = %q, want %q", got, want)
	}
	if err := d.Create(ctx, "a"); !errors.Is(err, storage.ErrExists) {
		t.Fatalf("Create of existing volume: err = %v, want ErrExists", err)
	}
	if err := d.Create(ctx, "file"); !errors.Is(err, storage.ErrExists) {
		t.Fatalf("Create over a file: err = %v, want ErrExists", err)
	}
	if d.Name() == "" || d.Root() == "" {
		t.Fatalf("Name %q, Root %q: want both set", d.Name(), d.Root())
	}
}

func testInvalidIDs(t *testing.T, d storage.Driver) {
	ctx := t.Context()
	mustCreate(t, d, "ok")
	bad := []string{"../x", "A", "", "a/b", "-a", ".tmp-a", ".", "..", "a b", "a_b", "é", strings.Repeat("a", 64), "a\x00"}
	for _, id := range bad {
		t.Run(strconv.Quote(id), func(t *testing.T) {
			if err := storage.ValidID(id); !errors.Is(err, storage.ErrInvalidID) {
				t.Errorf("ValidID: err = %v, want ErrInvalidID", err)
			}
			calls := map[string]error{
				"Create":       d.Create(ctx, id),
				"Clone to":     d.Clone(ctx, "ok", id),
				"Clone from":   d.Clone(ctx, id, "new"),
				"Snapshot to":  d.Snapshot(ctx, "ok", id),
				"Snapshot src": d.Snapshot(ctx, id, "new"),
				"Delete":       d.Delete(ctx, id),
			}
			_, calls["Usage"] = d.Usage(ctx, id)
			for name, err := range calls {
				if !errors.Is(err, storage.ErrInvalidID) {
					t.Errorf("%s: err = %v, want ErrInvalidID", name, err)
				}
			}
			if d.Exists(id) {
				t.Errorf("Exists = true")
			}
			if p := d.Path(id); p != "" {
				t.Errorf("Path = %q, want empty", p)
			}
		})
	}
	if _, err := os.Lstat(filepath.Join(d.Root(), "..", "x")); err == nil {
		t.Errorf("something was made outside the root")
	}
	assertVolumes(t, d, "ok")
}

func testErrors(t *testing.T, d storage.Driver) {
	ctx := t.Context()
	mustCreate(t, d, "a")
	mustCreate(t, d, "b")
	notFound := map[string]error{
		"Delete":         d.Delete(ctx, "missing"),
		"Clone":          d.Clone(ctx, "missing", "c"),
		"Snapshot":       d.Snapshot(ctx, "missing", "c"),
		"Delete deleted": func() error { mustDelete(t, d, "b"); return d.Delete(ctx, "b") }(),
	}
	_, notFound["Usage"] = d.Usage(ctx, "missing")
	for name, err := range notFound {
		if !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("%s: err = %v, want ErrNotFound", name, err)
		}
	}
	mustCreate(t, d, "b")
	for name, err := range map[string]error{
		"Clone":    d.Clone(ctx, "a", "b"),
		"Snapshot": d.Snapshot(ctx, "a", "b"),
		"Create":   d.Create(ctx, "b"),
	} {
		if !errors.Is(err, storage.ErrExists) {
			t.Errorf("%s onto existing: err = %v, want ErrExists", name, err)
		}
	}
	assertVolumes(t, d, "a", "b")
}

func testClonePreserves(t *testing.T, d storage.Driver) {
	mustCreate(t, d, "src")
	writeSampleTree(t, d.Path("src"))
	want := manifest(t, d.Path("src"))
	mustClone(t, d, "src", "dst")
	if got := manifest(t, d.Path("dst")); !equalManifest(t, got, want) {
		t.Fatal("clone differs from its source")
	}
	if got := manifest(t, d.Path("src")); !equalManifest(t, got, want) {
		t.Fatal("cloning changed the source")
	}
}

func testCloneIndependent(t *testing.T, d storage.Driver) {
	mustCreate(t, d, "src")
	writeFile(t, filepath.Join(d.Path("src"), "f"), "original")
	mustClone(t, d, "src", "dst")
	writeFile(t, filepath.Join(d.Path("dst"), "f"), "changed in dst")
	writeFile(t, filepath.Join(d.Path("src"), "g"), "new in src")
	checkFile(t, filepath.Join(d.Path("src"), "f"), "original")
	if _, err := os.Stat(filepath.Join(d.Path("dst"), "g")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("file written into the source after the clone appears in the clone: %v", err)
	}
}

func testCloneOfClone(t *testing.T, d storage.Driver) {
	mustCreate(t, d, "a")
	writeSampleTree(t, d.Path("a"))
	want := manifest(t, d.Path("a"))
	mustClone(t, d, "a", "b")
	writeFile(t, filepath.Join(d.Path("b"), "only-b"), "b")
	mustClone(t, d, "b", "c")
	mustDelete(t, d, "a")
	mustDelete(t, d, "b")
	got := manifest(t, d.Path("c"))
	if e, ok := got["only-b"]; !ok || e.content != "b" {
		t.Errorf("clone of clone lacks the file written into the middle clone")
	}
	delete(got, "only-b")
	delete(got, ".") // the middle clone's new file changed the root's mtime
	delete(want, ".")
	if !equalManifest(t, got, want) {
		t.Fatal("clone of clone differs from the original")
	}
	assertVolumes(t, d, "c")
}

func testSnapshotReadOnly(t *testing.T, d storage.Driver) {
	ctx := t.Context()
	mustCreate(t, d, "src")
	writeSampleTree(t, d.Path("src"))
	want := manifest(t, d.Path("src"))
	if err := d.Snapshot(ctx, "src", "snap"); err != nil {
		t.Fatal(err)
	}
	if got := manifest(t, d.Path("snap")); !equalManifest(t, got, want) {
		t.Fatal("snapshot differs from its source")
	}
	if d.Name() != storage.NameBtrfs && os.Geteuid() != 0 {
		t.Log("not root: tree drivers cannot make snapshots immutable; skipping write checks")
	} else {
		snap := d.Path("snap")
		if err := os.WriteFile(filepath.Join(snap, "file"), []byte("x"), 0o600); err == nil {
			t.Error("overwriting a file in a snapshot succeeded")
		}
		if err := os.WriteFile(filepath.Join(snap, "new"), []byte("x"), 0o600); err == nil {
			t.Error("creating a file in a snapshot succeeded")
		}
		if err := os.WriteFile(filepath.Join(snap, "dir", "nested"), []byte("x"), 0o600); err == nil {
			t.Error("overwriting a nested file in a snapshot succeeded")
		}
		if err := os.Remove(filepath.Join(snap, "file")); err == nil {
			t.Error("removing a file from a snapshot succeeded")
		}
	}
	// A clone of a snapshot is writable and keeps the modes.
	mustClone(t, d, "snap", "branch")
	if got := manifest(t, d.Path("branch")); !equalManifest(t, got, want) {
		t.Fatal("clone of snapshot differs from the original")
	}
	writeFile(t, filepath.Join(d.Path("branch"), "file"), "writable")
	mustDelete(t, d, "snap")
	assertVolumes(t, d, "branch", "src")
}

func testDeleteWithDependants(t *testing.T, d storage.Driver) {
	ctx := t.Context()
	mustCreate(t, d, "parent")
	writeSampleTree(t, d.Path("parent"))
	want := manifest(t, d.Path("parent"))
	mustClone(t, d, "parent", "child")
	if err := d.Snapshot(ctx, "parent", "snap"); err != nil {
		t.Fatal(err)
	}
	mustDelete(t, d, "parent")
	if d.Exists("parent") {
		t.Fatal("parent exists after Delete")
	}
	for _, id := range []string{"child", "snap"} {
		if got := manifest(t, d.Path(id)); !equalManifest(t, got, want) {
			t.Fatalf("%s changed when its parent was deleted", id)
		}
	}
	mustCreate(t, d, "parent") // the id is free again
	assertVolumes(t, d, "child", "parent", "snap")
}

func testConcurrent(t *testing.T, d storage.Driver) {
	const n = 8
	mustCreate(t, d, "src")
	writeSampleTree(t, d.Path("src"))
	want := manifest(t, d.Path("src"))
	for i := range n {
		mustClone(t, d, "src", fmt.Sprintf("old-%d", i))
	}
	var g errgroup.Group
	ctx := t.Context()
	for i := range n {
		g.Go(func() error { return d.Clone(ctx, "src", fmt.Sprintf("clone-%d", i)) })
		g.Go(func() error { return d.Snapshot(ctx, "src", fmt.Sprintf("snap-%d", i)) })
		g.Go(func() error { return d.Delete(ctx, fmt.Sprintf("old-%d", i)) })
		g.Go(func() error { _, err := d.List(ctx); return err })
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	var wantIDs []string
	for i := range n {
		for _, p := range []string{"clone", "snap"} {
			id := fmt.Sprintf("%s-%d", p, i)
			wantIDs = append(wantIDs, id)
			if got := manifest(t, d.Path(id)); !equalManifest(t, got, want) {
				t.Fatalf("concurrent %s differs from its source", id)
			}
		}
	}
	assertVolumes(t, d, append(wantIDs, "src")...)
}

func testSameDestination(t *testing.T, d storage.Driver) {
	const n = 6
	mustCreate(t, d, "src")
	writeSampleTree(t, d.Path("src"))
	ctx := t.Context()
	errs := make([]error, n)
	var g errgroup.Group
	for i := range n {
		g.Go(func() error {
			if i%2 == 0 {
				errs[i] = d.Clone(ctx, "src", "dst")
			} else {
				errs[i] = d.Snapshot(ctx, "src", "dst")
			}
			return nil
		})
	}
	_ = g.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, storage.ErrExists):
			t.Errorf("racing clone: err = %v, want nil or ErrExists", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d of %d racing clones to one id succeeded, want 1", ok, n)
	}
	assertVolumes(t, d, "dst", "src")
	assertNoTemporaries(t, d)
}

func testUsage(t *testing.T, d storage.Driver) {
	ctx := t.Context()
	mustCreate(t, d, "a")
	const size = 1 << 20
	writeRandom(t, filepath.Join(d.Path("a"), "big"), size)
	mustClone(t, d, "a", "b")
	for _, id := range []string{"a", "b"} {
		u, err := d.Usage(ctx, id)
		if err != nil && !errors.Is(err, errors.ErrUnsupported) {
			t.Fatalf("Usage(%q): %v", id, err)
		}
		if u.Total < size || u.Total > 2*size {
			t.Errorf("Usage(%q).Total = %d, want about %d", id, u.Total, size)
		}
		if err != nil && u.Exclusive != -1 {
			t.Errorf("Usage(%q) unsupported but Exclusive = %d, want -1", id, u.Exclusive)
		}
		if err == nil && (u.Exclusive < 0 || u.Exclusive > u.Total+(1<<20)) {
			t.Errorf("Usage(%q).Exclusive = %d, want in [0, Total]", id, u.Exclusive)
		}
		t.Logf("%s usage of %s: %+v (%v)", d.Name(), id, u, err)
	}
}

func testCleanup(t *testing.T, d storage.Driver) {
	ctx := t.Context()
	mustCreate(t, d, "keep")
	writeSampleTree(t, d.Path("keep"))
	// A crash midway through a clone leaves a temporary with content.
	tmp := filepath.Join(d.Root(), ".tmp-x-0123")
	if err := os.MkdirAll(filepath.Join(tmp, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(tmp, "sub", "f"), "partial")
	writeFile(t, filepath.Join(d.Root(), ".tmp-probe-1"), "probe")
	if err := d.Cleanup(ctx); err != nil {
		t.Fatal(err)
	}
	assertNoTemporaries(t, d)
	assertVolumes(t, d, "keep")
}

func testCanceled(t *testing.T, d storage.Driver) {
	mustCreate(t, d, "src")
	writeSampleTree(t, d.Path("src"))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	for name, err := range map[string]error{
		"Clone":    d.Clone(ctx, "src", "dst"),
		"Snapshot": d.Snapshot(ctx, "src", "dst"),
	} {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a canceled context: err = %v, want context.Canceled", name, err)
		}
	}
	assertNoTemporaries(t, d)
	assertVolumes(t, d, "src")
}

// testENOSPC fills the file system and clones: the clone either succeeds
// completely (drivers that share data need no space) or fails with an error
// wrapping ENOSPC and leaves nothing behind.
func testENOSPC(t *testing.T, d storage.Driver) {
	var sfs unix.Statfs_t
	if err := unix.Statfs(d.Root(), &sfs); err != nil {
		t.Fatal(err)
	}
	if size := sfs.Blocks * uint64(sfs.Bsize); size > 1<<30 {
		t.Skipf("file system of %s is %d MB; filling it needs a small one (LoopBtrfs, Tmpfs)", d.Root(), size>>20)
	}
	ctx := t.Context()
	mustCreate(t, d, "src")
	writeSampleTree(t, d.Path("src"))
	for i := range 4 {
		writeRandom(t, filepath.Join(d.Path("src"), fmt.Sprintf("data-%d", i)), 1<<20)
	}
	want := manifest(t, d.Path("src"))
	free := fill(t, filepath.Join(d.Root(), "filler.d"))
	if err := os.WriteFile(filepath.Join(d.Root(), "filler.d", "probe"), make([]byte, 1<<20), 0o600); !errors.Is(err, unix.ENOSPC) {
		t.Fatalf("writing 1 MB into the filled file system: err = %v, want ENOSPC", err)
	}

	err := d.Clone(ctx, "src", "dst")
	switch {
	case err == nil:
		t.Logf("%s clone succeeded on a full file system", d.Name())
		if got := manifest(t, d.Path("dst")); !equalManifest(t, got, want) {
			t.Fatal("clone on a full file system differs from its source")
		}
		mustDelete(t, d, "dst")
	case errors.Is(err, unix.ENOSPC):
		t.Logf("%s clone on a full file system: %v", d.Name(), err)
		if d.Exists("dst") {
			t.Error("failed clone left the destination volume")
		}
	default:
		t.Fatalf("clone on a full file system: err = %v, want nil or ENOSPC", err)
	}
	assertNoTemporaries(t, d)
	assertVolumes(t, d, "src")

	free()
	mustClone(t, d, "src", "dst")
	if got := manifest(t, d.Path("dst")); !equalManifest(t, got, want) {
		t.Fatal("clone after freeing space differs from its source")
	}
}

// fill takes all free space of the file system holding dir (made inside
// it): one big preallocated file, then small files for what remains in
// partial blocks and metadata. It returns a function freeing the space.
func fill(t *testing.T, dir string) (free func()) {
	t.Helper()
	free = func() {
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("remove filler: %v", err)
		}
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "big"), os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var off int64
	for chunk := int64(1 << 30); chunk >= 4096; {
		err := unix.Fallocate(int(f.Fd()), 0, off, chunk)
		switch {
		case err == nil:
			off += chunk
		case errors.Is(err, unix.ENOSPC):
			chunk /= 2
		default:
			t.Fatalf("fallocate: %v", err)
		}
	}
	for i := range 20000 {
		if os.WriteFile(filepath.Join(dir, strconv.Itoa(i)), make([]byte, 2048), 0o600) != nil {
			break
		}
	}
	return free
}

func testPostgres(t *testing.T, d storage.Driver) {
	if testing.Short() {
		t.Skip("starts Postgres; skipped with -short")
	}
	in := pgtest.Install(t, 0)
	u := pgtest.User(t)
	ctx := t.Context()
	mustCreate(t, d, "pg")
	if err := pgrun.InitDB(ctx, in, u, d.Path("pg"), pgrun.InitOptions{WALSegSizeMB: 1}); err != nil {
		t.Fatal(err)
	}
	srv := startPG(t, d, "pg")
	srv.Exec(t, "postgres", "CREATE TABLE t (i int); INSERT INTO t SELECT generate_series(1, 1000)")
	if d.Atomic() {
		// Crash-consistent while running: the clone recovers like after a
		// power cut and keeps every committed row.
		mustClone(t, d, "pg", "hot")
	}
	if err := srv.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	mustClone(t, d, "pg", "cold")
	if err := d.Snapshot(ctx, "pg", "snap"); err != nil {
		t.Fatal(err)
	}
	mustClone(t, d, "snap", "fromsnap")
	ids := []string{"cold", "fromsnap"}
	if d.Atomic() {
		ids = append(ids, "hot")
	}
	for _, id := range ids {
		t.Run(id, func(t *testing.T) {
			c := startPG(t, d, id)
			var n int
			if err := c.Conn(t, "postgres").QueryRow(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 1000 {
				t.Fatalf("clone %s has %d rows, want 1000", id, n)
			}
			c.Exec(t, "postgres", "INSERT INTO t VALUES (0)")
		})
	}
}
