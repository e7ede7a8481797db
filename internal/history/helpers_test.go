package history_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grovedb/grove/internal/compute"
	"github.com/grovedb/grove/internal/history"
	"github.com/grovedb/grove/internal/pgconf"
	"github.com/grovedb/grove/internal/pgtest"
	"github.com/grovedb/grove/internal/pgversion"
	"github.com/grovedb/grove/internal/storage"
	"github.com/grovedb/grove/internal/storage/storagetest"
)

// env is a compute manager archiving into a history manager, on one
// storage driver, with real Postgres.
type env struct {
	hist      *history.Manager
	computes  *compute.Manager
	vols      storage.Driver
	major     int
	archive   string
	cfg       history.Config
	retention atomic.Int64 // nanoseconds
	seq       atomic.Int64
}

// driverRoots gives, per driver, a function making a volume root: a
// temporary folder for copy, a loop-mounted btrfs for reflink and btrfs.
func driverRoots() []struct {
	name string
	root func(t testing.TB, sizeMB int) string
} {
	btrfsRoot := func(t testing.TB, sizeMB int) string { return storagetest.LoopBtrfs(t, sizeMB) }
	return []struct {
		name string
		root func(t testing.TB, sizeMB int) string
	}{
		{storage.NameCopy, func(t testing.TB, _ int) string { return pgtest.Dir(t) }},
		{storage.NameReflink, btrfsRoot},
		{storage.NameBtrfs, btrfsRoot},
	}
}

// newEnv starts the managers on a fresh root of driver; Run of the history
// manager is not started.
func newEnv(t testing.TB, driver string, root string, opts ...func(*history.Config)) *env {
	t.Helper()
	if testing.Short() {
		t.Skip("needs PostgreSQL")
	}
	in := pgtest.Install(t, 0)
	user := pgtest.User(t)
	ctx := t.Context()
	vols, err := storage.Open(ctx, driver, filepath.Join(root, "volumes"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Read-only snapshots and subvolumes would stop an unmount.
		ids, _ := vols.List(context.Background())
		for _, id := range ids {
			_ = vols.Delete(context.Background(), id)
		}
	})
	e := &env{vols: vols, major: in.Major, archive: filepath.Join(root, "archive")}
	e.retention.Store(int64(24 * time.Hour))
	hcfg := history.Config{
		Dir: e.archive, Volumes: vols, Installs: []pgversion.Install{in},
		RunDir:    pgtest.ShortDir(t),
		Retention: func(string) time.Duration { return time.Duration(e.retention.Load()) },
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	for _, o := range opts {
		o(&hcfg)
	}
	e.cfg = hcfg
	if e.hist, err = history.New(hcfg); err != nil {
		t.Fatal(err)
	}
	ccfg := compute.Config{
		Installs: []pgversion.Install{in}, User: user, Volumes: vols, RunDir: pgtest.ShortDir(t),
		LogDir: filepath.Join(root, "logs"), PoolSize: -1, Host: pgconf.Host{MemoryBytes: 8 << 30, CPUs: 2},
		Archive: e.hist, ArchiveTimeout: 5 * time.Second,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if ids := pgtest.Identities(t); ids != nil {
		ccfg.Identities = ids
	}
	e.computes, err = compute.New(ccfg)
	if err != nil {
		t.Fatal(err)
	}
	e.hist.SetComputes(e.computes)
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		logs, _ := filepath.Glob(filepath.Join(root, "logs", "*.log"))
		for _, l := range logs {
			b, _ := os.ReadFile(l)
			if len(b) > 3000 {
				b = b[len(b)-3000:]
			}
			t.Logf("%s:\n%s", filepath.Base(l), b)
		}
	})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := e.computes.Close(ctx); err != nil {
			t.Errorf("close computes: %v", err)
		}
	})
	if err := e.computes.EnsureTemplates(ctx); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) id(prefix string) string { return fmt.Sprintf("%s-%d", prefix, e.seq.Add(1)) }

// take starts a new read-write compute on a new volume.
func (e *env) take(t testing.TB) *compute.Instance {
	t.Helper()
	in, err := e.computes.Take(t.Context(), compute.Spec{ID: e.id("ep-src"), Major: e.major})
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// start starts a read-write compute on an existing volume.
func (e *env) start(t testing.TB, volumeID string) *compute.Instance {
	t.Helper()
	in, err := e.computes.Start(t.Context(), compute.Spec{ID: e.id("ep-dst"), VolumeID: volumeID, Major: e.major})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.computes.Suspend(context.Background(), in.ID()) })
	return in
}

func exec(t testing.TB, in *compute.Instance, sql string) {
	t.Helper()
	if err := in.Exec(t.Context(), "postgres", sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func queryString(t testing.TB, in *compute.Instance, sql string) string {
	t.Helper()
	conn, err := in.Conn(t.Context(), "postgres")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var s string
	if err := conn.QueryRow(t.Context(), sql).Scan(&s); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return s
}

// rows returns the values of t.v, in order, joined by commas.
func rows(t testing.TB, in *compute.Instance) string {
	t.Helper()
	return queryString(t, in, "SELECT coalesce(string_agg(v, ',' ORDER BY id), '') FROM t")
}

// pause is a short wait that puts commits on distinct, ordered moments.
func pause() { time.Sleep(30 * time.Millisecond) }

// snapshots lists the volume ids of history snapshots and temporaries.
func ownedVolumes(t testing.TB, e *env) []string {
	t.Helper()
	ids, err := e.vols.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, id := range ids {
		if strings.HasPrefix(id, "hist-") {
			out = append(out, id)
		}
	}
	return out
}

// waitFor polls cond until it holds or 30 s pass.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

var _ = sync.Mutex{}
