package pgrun_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
