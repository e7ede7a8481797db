package compute_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/grovedb/grove/internal/compute"
	"github.com/grovedb/grove/internal/pgrun"
	"github.com/grovedb/grove/internal/pgtest"
	"github.com/grovedb/grove/internal/pgversion"
	"github.com/grovedb/grove/internal/storage"
)

// fakeVolumes stands in where no volume is touched.
type fakeVolumes struct{ compute.Volumes }

func TestConfigValidate(t *testing.T) {
	u := pgrun.User{Name: "grove-pg", UID: 999, GID: 999, Switch: true}
	inst := []pgversion.Install{{Major: 17}}
	var vols fakeVolumes
	tests := []struct {
		name    string
		cfg     compute.Config
		wantErr string
	}{
		{"ok", compute.Config{Installs: inst, User: u, Volumes: vols, RunDir: "/run/grove"}, ""},
		{"no installs", compute.Config{User: u, Volumes: vols, RunDir: "/run/grove"}, "installations"},
		{"no volumes", compute.Config{Installs: inst, User: u, RunDir: "/run/grove"}, "volumes"},
		{"relative run dir", compute.Config{Installs: inst, User: u, Volumes: vols, RunDir: "run"}, "absolute"},
		{"long run dir", compute.Config{Installs: inst, User: u, Volumes: vols, RunDir: "/" + strings.Repeat("r", compute.MaxRunDirLen)}, "socket"},
		{"pool min above max", compute.Config{Installs: inst, User: u, Volumes: vols, RunDir: "/run/grove", PoolMinCU: 4, PoolMaxCU: 1}, "min above max"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("Validate() = %v, want error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestEnsureTemplates(t *testing.T) {
	if testing.Short() {
		t.Skip("needs PostgreSQL")
	}
	all := pgtest.Installs(t)
	installs := []pgversion.Install{pgtest.Install(t, 0)}
	for _, in := range all {
		if in.Major != installs[0].Major {
			installs = append(installs, in) // the oldest other major
			break
		}
	}
	vols, err := storage.Open(t.Context(), storage.NameCopy, filepath.Join(pgtest.Dir(t), "vols"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := compute.New(compute.Config{Installs: installs, User: pgtest.User(t), Volumes: vols, RunDir: pgtest.ShortDir(t), PoolSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close(context.Background()) })
	if err := m.EnsureTemplates(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, in := range installs {
		t.Run(fmt.Sprint(in.Major), func(t *testing.T) {
			dir := vols.Path(compute.TemplateID(in.Major))
			fi, err := os.Stat(filepath.Join(dir, "PG_VERSION"))
			if err != nil {
				t.Fatal(err)
			}
			if err := m.EnsureTemplates(t.Context()); err != nil {
				t.Fatal(err)
			}
			if fi2, _ := os.Stat(filepath.Join(dir, "PG_VERSION")); !fi2.ModTime().Equal(fi.ModTime()) {
				t.Fatal("existing template was remade")
			}
			inst, err := m.Take(t.Context(), compute.Spec{ID: fmt.Sprintf("ep-tmpl-%d", in.Major), Major: in.Major, MinCU: 0.25, MaxCU: 0.25})
			if err != nil {
				t.Fatal(err)
			}
			for _, q := range []struct{ sql string }{
				{"select count(*) from pg_database where datname = 'grove_spare'"},
				{"select (current_setting('data_checksums') = 'on')::int"},
				{"select (current_setting('wal_segment_size') = '1MB')::int"},
				{"select (current_setting('max_connections') = '104')::int"},
			} {
				if v := queryInt(t, inst, "postgres", q.sql); v != 1 {
					t.Errorf("%s = %d, want 1", q.sql, v)
				}
			}
			var owner uint32
			if fi, err := os.Stat(dir); err == nil {
				owner = fi.Sys().(*syscall.Stat_t).Uid
			}
			if owner == 0 {
				t.Error("template owned by root")
			}
		})
	}
}

func TestTakeSuspendStart(t *testing.T) {
	e := newEnv(t, func(c *compute.Config) { c.PoolSize = 1 })
	e.run(t)
	waitFor(t, "warm pool", func() bool { return e.m.PoolLen(e.major) == 1 })

	spec := compute.Spec{ID: "ep-cool-rain-a1b2c3d4", Major: e.major, MinCU: 0.25, MaxCU: 2, SuspendTimeout: -1}
	begin := time.Now()
	in, err := e.m.Take(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("warm take: %v", time.Since(begin))
	if in.ID() != spec.ID || in.State() != compute.StateActive || in.VolumeID() == "" {
		t.Fatalf("took id %q state %q volume %q", in.ID(), in.State(), in.VolumeID())
	}
	if _, err := os.Stat(in.SocketPath()); err != nil {
		t.Fatalf("socket: %v", err)
	}
	if got, ok := e.m.Get(spec.ID); !ok || got != in {
		t.Fatal("Get does not return the taken instance")
	}
	if _, err := e.m.Take(t.Context(), spec); err == nil {
		t.Fatal("second Take of the same id succeeded")
	}
	exec(t, in, "postgres", `CREATE ROLE alice LOGIN PASSWORD 'secret'; ALTER DATABASE grove_spare RENAME TO app_db; ALTER DATABASE app_db OWNER TO alice`)
	exec(t, in, "app_db", `CREATE TABLE notes (id int PRIMARY KEY, body text); INSERT INTO notes VALUES (1, 'kept')`)
	if v := queryInt(t, in, "postgres", "select current_setting('max_connections')::int"); v != 839 {
		t.Errorf("max_connections = %d, want 839 for 0.25–2 CU", v)
	}
	waitFor(t, "pool refill", func() bool { return e.m.PoolLen(e.major) == 1 })

	pid, data := in.Pid(), in.DataDir()
	begin = time.Now()
	if err := e.m.Suspend(t.Context(), spec.ID); err != nil {
		t.Fatal(err)
	}
	t.Logf("suspend: %v", time.Since(begin))
	if _, ok := e.m.Get(spec.ID); ok {
		t.Fatal("suspended compute still listed")
	}
	if err := syscall.Kill(pid, 0); err == nil {
		t.Fatalf("postmaster %d still alive after suspend", pid)
	}
	if left := processesOf(t, data); len(left) > 0 {
		t.Fatalf("processes left after suspend: %v", left)
	}
	if err := e.m.Suspend(t.Context(), spec.ID); err != nil {
		t.Fatalf("second suspend: %v", err)
	}

	spec.VolumeID = in.VolumeID()
	begin = time.Now()
	in2, err := e.m.Start(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("wake: %v", time.Since(begin))
	var body string
	conn, err := in2.Conn(t.Context(), "app_db")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if err := conn.QueryRow(t.Context(), "select body from notes where id = 1").Scan(&body); err != nil || body != "kept" {
		t.Fatalf("after wake: %q, %v", body, err)
	}
	if e.events.count(spec.ID, compute.EventSuspended) != 1 || e.events.count(spec.ID, compute.EventStarted) != 1 {
		t.Fatalf("events: %+v", e.events.events)
	}
}

func TestTakeResizeRestarts(t *testing.T) {
	e := newEnv(t, func(c *compute.Config) { c.PoolSize = 1 })
	e.run(t)
	waitFor(t, "warm pool", func() bool { return e.m.PoolLen(e.major) == 1 })
	in, err := e.m.Take(t.Context(), compute.Spec{ID: "ep-big", Major: e.major, MinCU: 1, MaxCU: 1})
	if err != nil {
		t.Fatal(err)
	}
	if v := queryInt(t, in, "postgres", "select current_setting('max_connections')::int"); v != 419 {
		t.Fatalf("max_connections = %d, want 419 for 1 CU", v)
	}
	if v := queryInt(t, in, "postgres", "select setting::int from pg_settings where name = 'superuser_reserved_connections'"); v != 7 {
		t.Fatalf("superuser_reserved_connections = %d, want 7", v)
	}
}

func TestTakeCold(t *testing.T) {
	e := newEnv(t)
	begin := time.Now()
	in, err := e.m.Take(t.Context(), compute.Spec{ID: "ep-cold", Major: e.major})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("cold take (template clone + start): %v", time.Since(begin))
	if v := queryInt(t, in, "postgres", "select 1"); v != 1 {
		t.Fatal(v)
	}
	if _, err := e.m.Take(t.Context(), compute.Spec{ID: "ep-cold2", Major: 9}); err == nil {
		t.Fatal("take of an uninstalled major succeeded")
	}
}

func TestStartSingleFlight(t *testing.T) {
	e := newEnv(t)
	in, err := e.m.Take(t.Context(), compute.Spec{ID: "ep-single", Major: e.major})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.m.Suspend(t.Context(), "ep-single"); err != nil {
		t.Fatal(err)
	}
	spec := compute.Spec{ID: "ep-single", VolumeID: in.VolumeID(), Major: e.major}
	const n = 10
	got := make([]*compute.Instance, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = e.m.Start(t.Context(), spec)
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if got[i] != got[0] {
			t.Fatalf("start %d returned another instance", i)
		}
	}
	if pms := postmasters(t, in.DataDir()); len(pms) != 1 {
		t.Fatalf("%d postmasters on the volume, want 1: %v", len(pms), pms)
	}
	if c := e.events.count("ep-single", compute.EventStarted); c != 2 {
		t.Fatalf("%d started events, want 2 (take, one wake)", c)
	}
	// A second compute on the same volume is refused.
	if _, err := e.m.Start(t.Context(), compute.Spec{ID: "ep-other", VolumeID: in.VolumeID(), Major: e.major}); err == nil {
		t.Fatal("two computes on one volume")
	}
}

func TestIdleSuspend(t *testing.T) {
	e := newEnv(t)
	e.run(t)
	const timeout = 50 * time.Millisecond
	in, err := e.m.Take(t.Context(), compute.Spec{ID: "ep-idle", Major: e.major, SuspendTimeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	e.m.ConnOpened("ep-idle")
	// Held open well past the timeout, the compute stays up.
	held := time.Now()
	waitFor(t, "time to pass", func() bool { return time.Since(held) > 5*timeout })
	if in.State() != compute.StateActive {
		t.Fatalf("compute with an open connection is %s", in.State())
	}
	e.m.ConnClosed("ep-idle")
	waitFor(t, "idle suspend", func() bool { _, ok := e.m.Get("ep-idle"); return !ok })
	if left := processesOf(t, in.DataDir()); len(left) > 0 {
		t.Fatalf("processes left after idle suspend: %v", left)
	}
	// The event follows the removal from the manager by a moment.
	waitFor(t, "suspended event", func() bool { return e.events.count("ep-idle", compute.EventSuspended) >= 1 })
	if n := e.events.count("ep-idle", compute.EventSuspended); n != 1 {
		t.Fatalf("%d suspended events, want 1", n)
	}
	// Never: a negative timeout.
	in2, err := e.m.Take(t.Context(), compute.Spec{ID: "ep-never", Major: e.major, SuspendTimeout: -1})
	if err != nil {
		t.Fatal(err)
	}
	held = time.Now()
	waitFor(t, "time to pass", func() bool { return time.Since(held) > 5*timeout })
	if in2.State() != compute.StateActive {
		t.Fatalf("compute that never suspends is %s", in2.State())
	}
}

func TestCrashRestart(t *testing.T) {
	e := newEnv(t, func(c *compute.Config) {
		c.Restart = compute.RestartPolicy{Initial: 10 * time.Millisecond, Window: time.Hour, MaxCrashes: 3}
	})
	spec := compute.Spec{ID: "ep-crash", Major: e.major}
	in, err := e.m.Take(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	exec(t, in, "postgres", "CREATE TABLE t (v text); INSERT INTO t VALUES ('committed')")
	// Keep a backend busy so that it outlives the postmaster for a moment.
	busy, err := in.Conn(t.Context(), "postgres")
	if err != nil {
		t.Fatal(err)
	}
	// A pgx connection is not safe for concurrent use: only the goroutine
	// touches it until it has returned.
	busyDone := make(chan struct{})
	go func() {
		defer close(busyDone)
		busy.Exec(context.Background(), "select pg_sleep(60)")
	}()
	for crash := 1; crash <= 2; crash++ {
		old := in.Pid()
		if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "restart", func() bool { return in.State() == compute.StateActive && in.Pid() != old && in.Pid() != 0 })
		var v string
		conn, err := in.Conn(t.Context(), "postgres")
		if err != nil {
			t.Fatal(err)
		}
		err = conn.QueryRow(t.Context(), "select v from t").Scan(&v)
		conn.Close(context.Background())
		if err != nil || v != "committed" {
			t.Fatalf("after crash %d: %q, %v", crash, v, err)
		}
	}
	<-busyDone
	busy.Close(context.Background())
	// Events follow the state change by a moment.
	waitFor(t, "restarted events", func() bool { return e.events.count("ep-crash", compute.EventRestarted) >= 2 })
	if c := e.events.count("ep-crash", compute.EventRestarted); c != 2 {
		t.Fatalf("%d restarted events, want 2", c)
	}
	// The third crash within the window gives up.
	if err := syscall.Kill(in.Pid(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "failed state", func() bool { return in.State() == compute.StateFailed })
	waitFor(t, "failed event", func() bool { return e.events.count("ep-crash", compute.EventFailed) >= 1 })
	if in.Err() == nil || e.events.count("ep-crash", compute.EventFailed) != 1 {
		t.Fatalf("failed without cause: %v", in.Err())
	}
	// A later Start tries again.
	spec.VolumeID = in.VolumeID()
	in2, err := e.m.Start(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if v := queryInt(t, in2, "postgres", "select count(*) from t"); v != 1 {
		t.Fatalf("rows after start = %d", v)
	}
}

func TestReconcile(t *testing.T) {
	e := newEnv(t)
	u := pgtest.User(t)
	in := pgtest.Install(t, 0)
	// A "previous run" left a postmaster on two volumes, one of which is
	// still recorded, and an unknown volume without a server.
	var left []*pgrun.Server
	for _, vol := range []string{"vol-kept", "vol-lost"} {
		if err := e.vols.Clone(t.Context(), compute.TemplateID(e.major), vol); err != nil {
			t.Fatal(err)
		}
		sock := filepath.Join(pgtest.ShortDir(t), "s")
		if err := u.MkdirOwned(sock, 0o700); err != nil {
			t.Fatal(err)
		}
		srv, err := pgrun.Start(t.Context(), pgrun.Options{Install: in, User: u, DataDir: e.vols.Path(vol), SocketDir: sock})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Kill() })
		left = append(left, srv)
	}
	if err := e.vols.Create(t.Context(), "vol-junk"); err != nil {
		t.Fatal(err)
	}
	// And this run has a compute of its own, which Reconcile leaves alone.
	mine, err := e.m.Take(t.Context(), compute.Spec{ID: "ep-mine", Major: e.major})
	if err != nil {
		t.Fatal(err)
	}
	keep := func(v string) bool { return v == "vol-kept" }
	if err := e.m.Reconcile(t.Context(), keep, nil); err != nil {
		t.Fatal(err)
	}
	// Servers not adopted stop in the background, and then the volumes
	// nobody keeps go.
	for _, srv := range left {
		select {
		case <-srv.Done():
		case <-time.After(30 * time.Second):
			t.Fatalf("postmaster on %s still running", srv.DataDir())
		}
	}
	want := map[string]bool{compute.TemplateID(e.major): true, "vol-kept": true, mine.VolumeID(): true}
	var ids []string
	waitFor(t, "volumes nobody keeps deleted", func() bool {
		ids, _ = e.vols.List(t.Context())
		return len(ids) == len(want)
	})
	for _, id := range ids {
		if !want[id] {
			t.Fatalf("volume %s survived reconcile (have %v)", id, ids)
		}
	}
	if mine.State() != compute.StateActive {
		t.Fatalf("own compute is %s", mine.State())
	}
}

func TestCloneRunningUnderWrites(t *testing.T) {
	e := newEnv(t)
	src, err := e.m.Take(t.Context(), compute.Spec{ID: "ep-src", Major: e.major})
	if err != nil {
		t.Fatal(err)
	}
	exec(t, src, "postgres", "CREATE TABLE w (id bigint PRIMARY KEY, pad text)")
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	var written int64
	var mu sync.Mutex
	wg.Add(1)
	go func() {
		defer wg.Done()
		conn, err := src.Conn(ctx, "postgres")
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close(context.Background())
		for i := int64(1); ctx.Err() == nil; i++ {
			// One transaction per row; ids without gaps.
			if _, err := conn.Exec(ctx, "INSERT INTO w VALUES ($1, repeat('x', 2000))", i); err != nil {
				if ctx.Err() == nil {
					t.Error(err)
				}
				return
			}
			mu.Lock()
			written = i
			mu.Unlock()
		}
	}()
	rows := func() int64 { mu.Lock(); defer mu.Unlock(); return written }
	for round := 1; round <= 3; round++ {
		waitFor(t, "writes", func() bool { return rows() >= int64(round*300) })
		dst := fmt.Sprintf("vol-clone-%d", round)
		begin := time.Now()
		if err := e.m.CloneRunning(t.Context(), "ep-src", dst); err != nil {
			t.Fatal(err)
		}
		t.Logf("clone %d under writes: %v (source had >= %d rows)", round, time.Since(begin), rows())
		c, err := e.m.Start(t.Context(), compute.Spec{ID: fmt.Sprintf("ep-clone-%d", round), VolumeID: dst, Major: e.major})
		if err != nil {
			t.Fatal(err)
		}
		n := queryInt(t, c, "postgres", "select count(*) from w")
		mx := queryInt(t, c, "postgres", "select coalesce(max(id), 0) from w")
		if n == 0 || n != mx {
			t.Fatalf("clone %d holds %d rows with max id %d: not a consistent prefix", round, n, mx)
		}
		if v := queryInt(t, c, "postgres", "select pg_is_in_recovery()::int"); v != 0 {
			t.Fatal("clone still in recovery")
		}
		t.Logf("clone %d holds %d rows", round, n)
		if err := e.m.Suspend(t.Context(), c.ID()); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	wg.Wait()
	if _, err := e.m.Get("ep-src"); !err {
		t.Fatal("source compute gone")
	}
	// A clone of a parent at rest has nothing to replay: a plain crash
	// recovery, on the parent's timeline, with every row.
	exec(t, src, "postgres", "CHECKPOINT")
	if err := e.m.CloneRunning(t.Context(), "ep-src", "vol-clone-rest"); err != nil {
		t.Fatal(err)
	}
	c, err := e.m.Start(t.Context(), compute.Spec{ID: "ep-clone-rest", VolumeID: "vol-clone-rest", Major: e.major})
	if err != nil {
		t.Fatal(err)
	}
	// The last insert may commit as the writer is cancelled: count them on
	// the parent.
	if n, want := queryInt(t, c, "postgres", "select count(*) from w"), queryInt(t, src, "postgres", "select count(*) from w"); n != want {
		t.Fatalf("clone at rest holds %d rows, want %d", n, want)
	}
	if tl := queryInt(t, c, "postgres", "select ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int"); tl != 1 {
		t.Fatalf("clone at rest runs on timeline %d, want 1 (no promotion)", tl)
	}
	exec(t, c, "postgres", "INSERT INTO w VALUES (0, '')")
}

func TestResize(t *testing.T) {
	e := newEnv(t)
	in, err := e.m.Take(t.Context(), compute.Spec{ID: "ep-resize", Major: e.major, MinCU: 0.25, MaxCU: 0.25})
	if err != nil {
		t.Fatal(err)
	}
	exec(t, in, "postgres", "CREATE TABLE t AS SELECT 1 AS v")
	pid := in.Pid()
	if err := e.m.Resize(t.Context(), "ep-resize", 0.25, 0.25); err != nil {
		t.Fatal(err)
	}
	if in.Pid() != pid {
		t.Fatal("resize to the same size restarted the compute")
	}
	if err := e.m.Resize(t.Context(), "ep-resize", 2, 4); err != nil {
		t.Fatal(err)
	}
	if in.Pid() == pid || in.State() != compute.StateActive {
		t.Fatalf("resize to 2–4 CU did not restart: pid %d state %s", in.Pid(), in.State())
	}
	if v := queryInt(t, in, "postgres", "select current_setting('max_connections')::int"); v != 1678 {
		t.Fatalf("max_connections = %d, want 1678 for 2–4 CU", v)
	}
	if v := queryInt(t, in, "postgres", "select count(*) from t"); v != 1 {
		t.Fatal("data lost in resize")
	}
	if err := e.m.Resize(t.Context(), "ep-missing", 1, 1); err == nil {
		t.Fatal("resize of an unknown compute succeeded")
	}
	// Crash after a resize: the supervisor still restarts it.
	old := in.Pid()
	if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "restart after resize", func() bool { return in.State() == compute.StateActive && in.Pid() != old && in.Pid() != 0 })
}

// TestMaxActiveEvictsIdlest: past MaxActive the compute idle longest is
// suspended; one with a client connection is never chosen.
func TestMaxActiveEvictsIdlest(t *testing.T) {
	e := newEnv(t, func(c *compute.Config) { c.MaxActive = 2 })
	e.run(t)
	for _, id := range []string{"ep-first", "ep-second"} {
		if _, err := e.m.Take(t.Context(), compute.Spec{ID: id, Major: e.major, SuspendTimeout: -1}); err != nil {
			t.Fatal(err)
		}
	}
	e.m.ConnOpened("ep-first") // busy: never evicted
	if _, err := e.m.Take(t.Context(), compute.Spec{ID: "ep-third", Major: e.major, SuspendTimeout: -1}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "eviction of the idlest compute", func() bool { _, ok := e.m.Get("ep-second"); return !ok })
	for _, id := range []string{"ep-first", "ep-third"} {
		if _, ok := e.m.Get(id); !ok {
			t.Errorf("%s was suspended", id)
		}
	}
	e.m.ConnClosed("ep-first")
}

// TestPoolFollowsTakenSize: warm instances are refilled, and those already
// warm restarted in the background, at the size of the last Take, so the
// next Take of that size needs no restart.
func TestPoolFollowsTakenSize(t *testing.T) {
	e := newEnv(t, func(c *compute.Config) { c.PoolSize = 2 })
	e.run(t)
	waitFor(t, "warm pool", func() bool { return e.m.PoolLen(e.major) == 2 })
	spec := compute.Spec{ID: "ep-sized-1", Major: e.major, MinCU: 1, MaxCU: 4, SuspendTimeout: -1}
	if _, err := e.m.Take(t.Context(), spec); err != nil {
		t.Fatal(err)
	}
	if e.events.count("ep-sized-1", compute.EventStarted) != 1 {
		t.Fatal("the first Take of another size did not restart the warm instance")
	}
	waitFor(t, "pool refill", func() bool { return e.m.PoolLen(e.major) == 2 })
	spec.ID = "ep-sized-2"
	in, err := e.m.Take(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if e.events.count("ep-sized-2", compute.EventStarted) != 0 {
		t.Error("a Take of the pool's size restarted the compute")
	}
	if got := queryInt(t, in, "postgres", "select setting::int from pg_settings where name = 'max_connections'"); got != 1678 {
		t.Errorf("max_connections %d, want 1678 for 1–4 CU", got)
	}
	spec.ID = "ep-sized-3"
	if _, err := e.m.Take(t.Context(), spec); err != nil {
		t.Fatal(err)
	}
	if e.events.count("ep-sized-3", compute.EventStarted) != 0 {
		t.Error("the second warm instance was not resized in the background")
	}
}

// TestCheckpointAfter: the background checkpoint after a set-up leaves the
// compute's volume with (almost) nothing to replay, so that its clones
// start with a plain crash recovery.
func TestCheckpointAfter(t *testing.T) {
	e := newEnv(t)
	in, err := e.m.Take(t.Context(), compute.Spec{ID: "ep-setup", Major: e.major})
	if err != nil {
		t.Fatal(err)
	}
	exec(t, in, "postgres", "CREATE ROLE app LOGIN")
	exec(t, in, "postgres", "CREATE DATABASE app OWNER app")
	exec(t, in, "postgres", "CREATE TABLE t AS SELECT generate_series(1, 1000) AS n")
	dir := e.vols.Path(in.VolumeID())
	if redo, err := pgrun.PendingRedo(dir); err != nil || redo <= 16<<10 {
		t.Fatalf("PendingRedo after a set-up = %d, %v; want more than 16 kB", redo, err)
	}
	e.m.CheckpointAfter("ep-setup", 10*time.Millisecond)
	waitFor(t, "the background checkpoint", func() bool {
		redo, err := pgrun.PendingRedo(dir)
		return err == nil && redo <= 16<<10
	})
}

// TestSettleRedo: a compute that wrote more WAL than a clone should replay
// is checkpointed by SettleRedo (before a storage clone of its volume); one
// at rest is left alone.
func TestSettleRedo(t *testing.T) {
	e := newEnv(t)
	in, err := e.m.Take(t.Context(), compute.Spec{ID: "ep-busy", Major: e.major})
	if err != nil {
		t.Fatal(err)
	}
	dir := e.vols.Path(in.VolumeID())
	exec(t, in, "postgres", "CREATE TABLE t AS SELECT i, repeat('x', 900) AS pad FROM generate_series(1, 20000) i")
	before, err := pgrun.PendingRedo(dir)
	if err != nil || before <= 8<<20 {
		t.Fatalf("PendingRedo after writing 20 MB = %d, %v; want more than 8 MB", before, err)
	}
	if err := e.m.SettleRedo(t.Context(), "ep-busy"); err != nil {
		t.Fatal(err)
	}
	after, err := pgrun.PendingRedo(dir)
	if err != nil || after > 1<<20 {
		t.Fatalf("PendingRedo after SettleRedo = %d, %v; want at most 1 MB", after, err)
	}
	exec(t, in, "postgres", "INSERT INTO t VALUES (0, 'x')")
	quiet, _ := pgrun.PendingRedo(dir)
	if err := e.m.SettleRedo(t.Context(), "ep-busy"); err != nil {
		t.Fatal(err)
	}
	if again, err := pgrun.PendingRedo(dir); err != nil || again != quiet {
		t.Errorf("SettleRedo of a compute at rest: redo %d → %d, %v; want no checkpoint", quiet, again, err)
	}
}
