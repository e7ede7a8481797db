package pgrun_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/grovedb/grove/internal/pgconf"
	"github.com/grovedb/grove/internal/pgrun"
	"github.com/grovedb/grove/internal/pgtest"
)

func TestStartQueryStop(t *testing.T) {
	srv := pgtest.Start(t)
	var v string
	if err := srv.Conn(t, "postgres").QueryRow(t.Context(), "select current_user").Scan(&v); err != nil {
		t.Fatal(err)
	}
	if v != pgrun.AdminRole {
		t.Fatalf("current_user = %q, want %q", v, pgrun.AdminRole)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := srv.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(srv.DataDir(), "postmaster.pid")); !os.IsNotExist(err) {
		t.Fatalf("postmaster.pid left after stop: %v", err)
	}
}

func TestStartFailsWithLog(t *testing.T) {
	in := pgtest.Install(t, 0)
	u := pgtest.User(t)
	dir := pgtest.Dir(t)
	_, err := pgrun.Start(t.Context(), pgrun.Options{Install: in, User: u, DataDir: filepath.Join(dir, "missing"), SocketDir: dir})
	if err == nil {
		t.Fatal("start on a missing data directory succeeded")
	}
}

func TestInitDBDatabases(t *testing.T) {
	in := pgtest.Install(t, 0)
	u := pgtest.User(t)
	dir := pgtest.Dir(t)
	data := filepath.Join(dir, "data")
	if err := pgrun.InitDB(t.Context(), in, u, data, pgrun.InitOptions{Databases: []string{"spare"}}); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "s")
	if err := u.MkdirOwned(sock, 0o700); err != nil {
		t.Fatal(err)
	}
	srv, err := pgrun.Start(t.Context(), pgrun.Options{Install: in, User: u, DataDir: data, SocketDir: sock})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop(context.Background())
	if err := srv.Psql(t.Context(), "spare", "select 1"); err != nil {
		t.Fatal(err)
	}
}

// TestPromoteCrashImage: a server killed mid-work leaves a crash image;
// started with Promote it replays its WAL as a standby, promotes to a new
// timeline without the end-of-recovery checkpoint, keeps every committed
// row, accepts writes, and leaves no signal file behind. A clean data
// directory is not reported as crashed.
func TestPromoteCrashImage(t *testing.T) {
	srv := pgtest.Start(t, pgtest.WithSettings(map[string]string{"fsync": "on"}))
	dir := srv.DataDir()
	if crashed, err := pgrun.Crashed(dir); err != nil || !crashed {
		t.Fatalf("Crashed of a running server's directory = %v, %v; want true", crashed, err)
	}
	// PendingRedo reads on past a segment a WAL switch ended early.
	srv.Exec(t, "postgres", "select pg_switch_wal()")
	srv.Exec(t, "postgres", "create table t (n int); insert into t select generate_series(1, 1000)")
	srv.Kill()
	<-srv.Done()
	if redo, err := pgrun.PendingRedo(dir); err != nil || redo < 8<<10 {
		t.Fatalf("PendingRedo after a table of 1000 rows = %d, %v; want the WAL written since the checkpoint", redo, err)
	}

	sock := filepath.Join(pgtest.Dir(t), "s")
	if err := srv.User.MkdirOwned(sock, 0o700); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	opts := pgrun.Options{Install: pgtest.Install(t, 0), User: srv.User, DataDir: dir, SocketDir: sock,
		Settings: map[string]string{"max_connections": "50", "shared_buffers": "16MB"}, Log: &log, Promote: true}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := pgrun.StopStale(ctx, dir); err != nil {
		t.Fatal(err)
	}
	// "ready" must mean promoted: the first query may write.
	again, err := pgrun.Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = again.Stop(context.Background()) })
	conn, err := again.Connect(ctx, "postgres")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	var recovering bool
	var wal string
	if err := conn.QueryRow(ctx, "select count(*), pg_is_in_recovery(), pg_walfile_name(pg_current_wal_lsn()) from t").Scan(&n, &recovering, &wal); err != nil {
		t.Fatal(err)
	}
	if n != 1000 || recovering || !strings.HasPrefix(wal, "00000002") {
		t.Fatalf("after the promoted start: %d rows, in recovery %v, WAL %s; want 1000, false, timeline 2", n, recovering, wal)
	}
	if _, err := conn.Exec(ctx, "insert into t values (0)"); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(log.String(), "end-of-recovery immediate") {
		t.Errorf("the promoted start ran the end-of-recovery checkpoint:\n%s", log.String())
	}
	for _, f := range []string{"standby.signal", "promote"} {
		if _, err := os.Stat(filepath.Join(dir, f)); !os.IsNotExist(err) {
			t.Errorf("%s left after the promoted start: %v", f, err)
		}
	}
	if err := again.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if crashed, err := pgrun.Crashed(dir); err != nil || crashed {
		t.Fatalf("Crashed after a clean stop = %v, %v; want false", crashed, err)
	}
	if redo, err := pgrun.PendingRedo(dir); err != nil || redo > 8<<10 {
		t.Fatalf("PendingRedo after a clean stop = %d, %v; want nothing but the shutdown checkpoint", redo, err)
	}
}

// TestPauseAtTarget: an archive recovery of a cleanly stopped copy to a time
// between two commits sees the first and not the second, promotes to a new
// timeline without the synchronous end-of-recovery checkpoint, and accepts
// writes; a target after the last commit fails the start with Postgres'
// message, so that the caller can recover to the end instead.
func TestPauseAtTarget(t *testing.T) {
	archive := filepath.Join(pgtest.Dir(t), "archive")
	u := pgtest.User(t)
	if err := u.MkdirOwned(archive, 0o700); err != nil {
		t.Fatal(err)
	}
	settings := map[string]string{"fsync": "off", "max_connections": "50", "shared_buffers": "16MB",
		"archive_mode": "on", "archive_command": "cp %p " + archive + "/%f"}
	srv := pgtest.Start(t, pgtest.WithSettings(settings))
	srv.Exec(t, "postgres", "create table t (v text)")
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	if err := srv.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	base := filepath.Join(pgtest.Dir(t), "base")
	if out, err := exec.Command("cp", "-a", srv.DataDir(), base).CombinedOutput(); err != nil {
		t.Fatalf("copy: %v: %s", err, out)
	}
	opts := pgrun.Options{Install: srv.Install(), User: u, DataDir: srv.DataDir(), SocketDir: srv.SocketDir(), Settings: settings}
	again, err := pgrun.Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = again.Stop(context.Background()) })
	psql := func(s *pgrun.Server, sql string) {
		t.Helper()
		if err := s.Psql(ctx, "postgres", sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	// Enough WAL before the point that the replay is still running when
	// the promotion is asked for, so that it is a fast one.
	psql(again, "create table filler as select generate_series(1, 1000000) n")
	psql(again, "insert into t values ('a')")
	time.Sleep(20 * time.Millisecond)
	between := time.Now().UTC()
	time.Sleep(20 * time.Millisecond)
	psql(again, "insert into t values ('b')")
	psql(again, "select pg_switch_wal()")
	if err := again.Stop(ctx); err != nil { // archives what is left
		t.Fatal(err)
	}

	restore := "cp " + archive + "/%f %p"
	recover := func(name string, at time.Time) (*pgrun.Server, string, string, error) {
		dir := filepath.Join(pgtest.Dir(t), name)
		if out, err := exec.Command("cp", "-a", base, dir).CombinedOutput(); err != nil {
			t.Fatalf("copy: %v: %s", err, out)
		}
		sock := filepath.Join(pgtest.Dir(t), name+"-s")
		if err := u.MkdirOwned(sock, 0o700); err != nil {
			t.Fatal(err)
		}
		var log strings.Builder
		s, err := pgrun.Start(ctx, pgrun.Options{Install: srv.Install(), User: u, DataDir: dir, SocketDir: sock, Log: &log,
			PauseAtTarget: true, Settings: map[string]string{"max_connections": "50", "shared_buffers": "16MB",
				"restore_command": restore, "recovery_target_time": at.Format("2006-01-02 15:04:05.999999+00")}})
		if err == nil {
			t.Cleanup(func() { _ = s.Stop(context.Background()) })
		}
		return s, log.String(), dir, err
	}
	rec, log, _, err := recover("between", between)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := rec.Connect(ctx, "postgres")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var rows, wal string
	var recovering bool
	if err := conn.QueryRow(ctx, "select string_agg(v, ','), pg_is_in_recovery(), pg_walfile_name(pg_current_wal_lsn()) from t").Scan(&rows, &recovering, &wal); err != nil {
		t.Fatal(err)
	}
	if rows != "a" || recovering || !strings.HasPrefix(wal, "00000002") {
		t.Fatalf("recovered to between a and b: rows %q, in recovery %v, WAL %s; want a, false, timeline 2", rows, recovering, wal)
	}
	if _, err := conn.Exec(ctx, "insert into t values ('c')"); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(log, "end-of-recovery immediate") {
		t.Errorf("the recovery ran the synchronous end-of-recovery checkpoint:\n%s", log)
	}

	_, log, dir, err := recover("after", time.Now().UTC())
	if !errors.Is(err, pgrun.ErrTargetNotReached) {
		t.Fatalf("a target after the last commit: %v; want Postgres' target-not-reached failure\n%s", err, log)
	}
	// The state at such a point is the state at the end of the WAL: a
	// standby that promotes once it runs out, started over the failed
	// attempt, leaves no signal file for a later start to obey.
	sock := filepath.Join(pgtest.Dir(t), "s")
	if err := u.MkdirOwned(sock, 0o700); err != nil {
		t.Fatal(err)
	}
	end, err := pgrun.Start(ctx, pgrun.Options{Install: srv.Install(), User: u, DataDir: dir, SocketDir: sock, Promote: true,
		Settings: map[string]string{"max_connections": "50", "shared_buffers": "16MB", "restore_command": restore}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = end.Stop(context.Background()) })
	if err := end.Psql(ctx, "postgres", "insert into t values ('d')"); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"recovery.signal", "standby.signal"} {
		if _, err := os.Stat(filepath.Join(dir, f)); !os.IsNotExist(err) {
			t.Errorf("%s left after the promotion: %v", f, err)
		}
	}
}

// TestControlLimits: the replay limits read from the control file are
// those the last server ran with, on every installed major.
func TestControlLimits(t *testing.T) {
	want := pgconf.ReplayLimits{MaxConnections: 123, MaxWorkerProcesses: 13, MaxWALSenders: 7, MaxPreparedTransactions: 5, MaxLocksPerTransaction: 71}
	for _, in := range pgtest.Installs(t) {
		t.Run(strconv.Itoa(in.Major), func(t *testing.T) {
			srv := pgtest.StartMajor(t, in.Major, pgtest.WithSettings(map[string]string{
				"max_connections": "123", "max_worker_processes": "13", "max_wal_senders": "7",
				"max_prepared_transactions": "5", "max_locks_per_transaction": "71",
			}))
			if err := srv.Stop(t.Context()); err != nil {
				t.Fatal(err)
			}
			got, err := pgrun.ControlLimits(srv.DataDir())
			if err != nil || got != want {
				t.Fatalf("ControlLimits = %+v, %v; want %+v", got, err, want)
			}
		})
	}
	if _, err := pgrun.ControlLimits(t.TempDir()); err == nil {
		t.Error("ControlLimits of a directory without a control file succeeded")
	}
}
