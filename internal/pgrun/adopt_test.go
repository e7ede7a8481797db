package pgrun_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/grovedb/grove/internal/pgrun"
	"github.com/grovedb/grove/internal/pgtest"
)

// TestAdopt takes over a server as a later process would: the same pid,
// queries over its socket, Stop through the pidfd and Done at its exit. A
// server started with other settings is refused, and none is found once
// it stopped.
func TestAdopt(t *testing.T) {
	in := pgtest.Install(t, 0)
	u := pgtest.User(t)
	dir := pgtest.Dir(t)
	data := filepath.Join(dir, "data")
	if err := pgrun.InitDB(t.Context(), in, u, data, pgrun.InitOptions{}); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "s")
	if err := u.MkdirOwned(sock, 0o700); err != nil {
		t.Fatal(err)
	}
	opts := pgrun.Options{Install: in, User: u, DataDir: data, SocketDir: sock, Settings: map[string]string{"work_mem": "8MB"}}
	srv, err := pgrun.Start(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Kill)
	if pid := pgrun.Running(data); pid != srv.Pid() {
		t.Fatalf("Running = %d, want %d", pid, srv.Pid())
	}

	other := opts
	other.Settings = map[string]string{"work_mem": "16MB"}
	if _, err := pgrun.Adopt(t.Context(), other, nil); !errors.Is(err, pgrun.ErrMismatch) {
		t.Fatalf("Adopt with other settings: %v, want ErrMismatch", err)
	}

	got, err := pgrun.Adopt(t.Context(), opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.Pid() != srv.Pid() {
		t.Fatalf("adopted pid %d, want %d", got.Pid(), srv.Pid())
	}
	if err := got.Psql(t.Context(), "postgres", "select 1"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-got.Done():
		t.Fatal("adopted server reported exited while running")
	case <-time.After(50 * time.Millisecond):
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := got.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-srv.Done():
	case <-ctx.Done():
		t.Fatal("the server did not exit when its adopter stopped it")
	}
	if _, err := pgrun.Adopt(context.Background(), opts, nil); !errors.Is(err, pgrun.ErrNoServer) {
		t.Fatalf("Adopt of a stopped server: %v, want ErrNoServer", err)
	}
}
