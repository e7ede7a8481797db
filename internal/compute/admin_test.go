package compute_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/grovedb/grove/internal/compute"
)

// adminPid is the backend pid Admin runs on.
func adminPid(t *testing.T, in *compute.Instance, f func(*pgx.Conn) error) int {
	t.Helper()
	var pid int
	err := in.Admin(t.Context(), func(c *pgx.Conn) error {
		if err := c.QueryRow(t.Context(), "select pg_backend_pid()").Scan(&pid); err != nil {
			return err
		}
		if f != nil {
			return f(c)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

func TestAdmin(t *testing.T) {
	e := newEnv(t, func(c *compute.Config) {
		c.Restart = compute.RestartPolicy{Initial: 10 * time.Millisecond, Window: time.Hour, MaxCrashes: 3}
	})
	in, err := e.m.Take(t.Context(), compute.Spec{ID: "ep-admin", Major: e.major})
	if err != nil {
		t.Fatal(err)
	}
	exec(t, in, "postgres", "SELECT 1")

	first := adminPid(t, in, nil)
	if again := adminPid(t, in, nil); again != first {
		t.Fatalf("second call on backend %d, want the kept %d", again, first)
	}

	// A call while the connection is in use gets one of its own.
	inner := 0
	outer := adminPid(t, in, func(*pgx.Conn) error {
		inner = adminPid(t, in, nil)
		return nil
	})
	if outer != first || inner == first {
		t.Fatalf("outer %d, inner %d: want the kept %d outside and another inside", outer, inner, first)
	}

	// A session left inside a transaction is not kept.
	adminPid(t, in, func(c *pgx.Conn) error {
		_, err := c.Exec(t.Context(), "BEGIN")
		return err
	})
	afterTx := adminPid(t, in, nil)
	if afterTx == first {
		t.Fatalf("backend %d kept after a call left a transaction open", afterTx)
	}

	// A SQL error keeps the connection; the error reaches the caller.
	err = in.Admin(t.Context(), func(c *pgx.Conn) error {
		_, err := c.Exec(t.Context(), "select * from no_such_table")
		return err
	})
	if err == nil {
		t.Fatal("error of the statement not returned")
	}
	if pid := adminPid(t, in, nil); pid != afterTx {
		t.Fatalf("backend %d after a SQL error, want the kept %d", pid, afterTx)
	}

	// After a crash and restart the kept connection is dead: the next call
	// succeeds on a new one.
	old := in.Pid()
	if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "restart", func() bool { return in.State() == compute.StateActive && in.Pid() != old && in.Pid() != 0 })
	if pid := adminPid(t, in, nil); pid == afterTx {
		t.Fatalf("backend %d survived its server", pid)
	}

	// A suspend closes it: no backend of the old server is left behind.
	if err := e.m.Suspend(context.Background(), "ep-admin"); err != nil {
		t.Fatal(err)
	}
	if err := in.Admin(t.Context(), func(*pgx.Conn) error { return nil }); err == nil {
		t.Fatal("Admin on a suspended compute succeeded")
	}
}
