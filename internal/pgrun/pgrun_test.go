package pgrun_test

import (
	"context"
	"os"
	"path/filepath"
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
