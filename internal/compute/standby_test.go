package compute_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/grovedb/grove/internal/compute"
	"github.com/grovedb/grove/internal/pgtest"
)

// dirArchiver archives every volume's WAL into one directory and lets
// standbys read it.
type dirArchiver struct{ dir string }

func (a dirArchiver) Prepare(context.Context, string) error { return nil }
func (a dirArchiver) Owns(string) bool                      { return false }
func (a dirArchiver) Forget(context.Context, string) error  { return nil }
func (a dirArchiver) WALDir(string) string                  { return a.dir }

// TestStandby runs a read replica on a copy of a running primary's volume:
// it is in recovery with limits at least the primary's, sees the
// primary's data and later commits (streamed over the primary's socket),
// refuses writes with SQLSTATE 25006, and its volume goes at Suspend. A
// standby without a primary to stream from catches up from the archive.
func TestStandby(t *testing.T) {
	dir := filepath.Join(pgtest.Dir(t), "archive")
	// Every volume's identity archives into it.
	if err := pgtest.User(t).MkdirOwned(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(c *compute.Config) { c.Archive = dirArchiver{dir} })
	e.run(t)
	ctx := t.Context()
	prim, err := e.m.Take(ctx, compute.Spec{ID: "ep-prim", Major: e.major, MinCU: 1, MaxCU: 1})
	if err != nil {
		t.Fatal(err)
	}
	exec(t, prim, "postgres", "create table kv (k int primary key); insert into kv values (1)")

	start := func(id, vol, primary string) *compute.Instance {
		t.Helper()
		if err := e.m.CloneRunning(ctx, "ep-prim", vol); err != nil {
			t.Fatal(err)
		}
		in, err := e.m.Start(ctx, compute.Spec{ID: id, VolumeID: vol, Major: e.major, MinCU: 0.25, MaxCU: 0.25, ReadOnly: true,
			Standby: &compute.Standby{PrimaryID: primary, ArchiveVolume: prim.VolumeID()}})
		if err != nil {
			t.Fatal(err)
		}
		return in
	}
	rep := start("ep-rep", "ro-ep-rep", "ep-prim")
	if v := queryInt(t, rep, "postgres", "select pg_is_in_recovery()::int"); v != 1 {
		t.Fatal("replica not in recovery")
	}
	if v := queryInt(t, rep, "postgres", "select setting::int from pg_settings where name = 'max_connections'"); v < 419 {
		t.Errorf("replica max_connections %d, below the primary's 419", v)
	}
	// A resize keeps the primary's limits: no restart for them.
	pid := rep.Pid()
	if err := e.m.Resize(ctx, "ep-rep", 0.25, 0.5); err != nil {
		t.Fatal(err)
	}
	if rep.Pid() != pid {
		t.Error("a resize within the primary's limits restarted the standby")
	}
	if v := queryInt(t, rep, "postgres", "select count(*) from kv"); v != 1 {
		t.Errorf("replica sees %d rows, want 1", v)
	}
	err = rep.Exec(ctx, "postgres", "insert into kv values (2)")
	if pe := (*pgconn.PgError)(nil); !errors.As(err, &pe) || pe.Code != "25006" {
		t.Errorf("write on the replica: %v, want SQLSTATE 25006", err)
	}
	exec(t, prim, "postgres", "insert into kv values (2)")
	waitFor(t, "streamed commit", func() bool { return queryInt(t, rep, "postgres", "select count(*) from kv") == 2 })
	if v := queryInt(t, prim, "postgres", "select count(*) from pg_stat_replication where application_name = 'ep-rep'"); v != 1 {
		t.Errorf("primary has %d walsenders for ep-rep, want 1", v)
	}
	if v := queryInt(t, prim, "postgres", "select count(*) from pg_replication_slots"); v != 0 {
		t.Errorf("primary has %d replication slots, want none", v)
	}

	// Archive only: commits reach the standby once their segment is archived.
	arch := start("ep-arch", "ro-ep-arch", "")
	exec(t, prim, "postgres", "insert into kv values (3)")
	exec(t, prim, "postgres", "select pg_switch_wal()")
	waitFor(t, "archived commit", func() bool { return queryInt(t, arch, "postgres", "select count(*) from kv") == 3 })

	for _, id := range []string{"ep-rep", "ep-arch"} {
		in, _ := e.m.Get(id)
		vol := in.VolumeID()
		if err := e.m.Suspend(ctx, id); err != nil {
			t.Fatal(err)
		}
		if e.vols.Exists(vol) {
			t.Errorf("standby volume %s survived the suspend", vol)
		}
	}
	if !e.vols.Exists(prim.VolumeID()) {
		t.Error("primary volume gone")
	}
	// A standby spec must be read-only and not its own primary.
	for _, sp := range []compute.Spec{
		{ID: "ep-x", VolumeID: "ro-x", Standby: &compute.Standby{}},
		{ID: "ep-x", VolumeID: "ro-x", ReadOnly: true, Standby: &compute.Standby{PrimaryID: "ep-x"}},
		{ID: "ep-x", VolumeID: "ro-x", ReadOnly: true, Standby: &compute.Standby{PrimaryID: "../x"}},
	} {
		if _, err := e.m.Start(ctx, sp); err == nil || !strings.Contains(err.Error(), "ep-x") {
			t.Errorf("Start(%+v): %v, want a refusal", sp.Standby, err)
		}
	}
}
