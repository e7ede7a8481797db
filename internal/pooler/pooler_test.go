package pooler

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/grovedb/grove/internal/pgrun"
	"github.com/grovedb/grove/internal/pgtest"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// TestRender: pgbouncer.ini for each kind of PgBouncer, against golden files.
func TestRender(t *testing.T) {
	tests := []struct {
		name string
		s    iniSettings
	}{
		{"pgbouncer-1.24", iniSettings{ComputeSocketDir: "/run/grove/ep-a", SocketDir: "/run/grove-pooler/ep-a",
			PoolSize: poolSize(104), AuthUser: "grove_pooler", MaxPreparedStatements: 1000, AuthDBName: true}},
		{"pgbouncer-1.18", iniSettings{ComputeSocketDir: "/run/grove/ep-a", SocketDir: "/run/grove-pooler/ep-a",
			PoolSize: poolSize(839), AuthUser: "grove_pooler"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := render(tt.s)
			p := filepath.Join("testdata", tt.name+".ini")
			if *update {
				if err := os.WriteFile(p, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("render differs from %s (run with -update):\n%s", p, got)
			}
		})
	}
}

func TestPoolSize(t *testing.T) {
	for _, tt := range []struct{ conns, want int }{{104, 93}, {419, 377}, {839, 755}, {4000, 3600}, {1, 1}} {
		if got := poolSize(tt.conns); got != tt.want {
			t.Errorf("poolSize(%d) = %d, want %d", tt.conns, got, tt.want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	ok := Config{Binary: Binary{Path: "/usr/sbin/pgbouncer"}, User: userForValidate(), Dir: "/tmp/p"}
	tests := []struct {
		name   string
		change func(*Config)
		err    string
	}{
		{"valid", func(*Config) {}, ""},
		{"no binary", func(c *Config) { c.Binary = Binary{} }, "no PgBouncer binary"},
		{"relative dir", func(c *Config) { c.Dir = "run/p" }, "absolute path"},
		{"space in dir", func(c *Config) { c.Dir = "/tmp/a b" }, "absolute path"},
		{"long dir", func(c *Config) { c.Dir = "/" + strings.Repeat("d", MaxDirLen) }, "Unix socket path limit"},
		{"bad auth user", func(c *Config) { c.AuthUser = "x; drop" }, "invalid auth user"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.change(&c)
			err := c.Validate()
			if tt.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				if c.AuthUser != "grove_pooler" || c.MaxPreparedStatements != DefaultMaxPreparedStatements {
					t.Fatalf("defaults not filled: %+v", c)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("Validate() = %v, want %q", err, tt.err)
			}
		})
	}
}

func userForValidate() pgrun.User {
	return pgrun.User{Name: "grove-pg", UID: 999, GID: 999, Switch: true}
}

// env is a real Postgres with a role, and a pooler manager in front of it.
type env struct {
	srv *pgtest.Server
	m   *Manager
	t   Target
}

// binaries returns every distinct PgBouncer installed (the one setup.sh
// builds and Debian's), or skips.
func binaries(t *testing.T) []Binary {
	t.Helper()
	var out []Binary
	seen := map[string]bool{}
	for _, p := range DefaultCandidates() {
		b, err := Find(t.Context(), p)
		if err != nil || seen[b.Version] {
			continue
		}
		seen[b.Version] = true
		out = append(out, b)
	}
	if len(out) == 0 {
		t.Skip("PgBouncer not installed (scripts/setup.sh)")
	}
	return out
}

func newEnv(t *testing.T, maxConns int) *env {
	t.Helper()
	return newEnvWith(t, binaries(t)[0], maxConns)
}

func newEnvWith(t *testing.T, bin Binary, maxConns int) *env {
	t.Helper()
	srv := pgtest.Start(t)
	srv.Exec(t, "postgres", "CREATE ROLE app LOGIN PASSWORD 'secret-1'")
	srv.Exec(t, "postgres", "CREATE DATABASE app_db OWNER app")
	dir := pgtest.Dir(t)
	m, err := New(Config{Binary: bin, User: srv.User, Dir: filepath.Join(dir, "p"), LogDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Close(context.Background()); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			logs, _ := filepath.Glob(filepath.Join(dir, "*-pooler.log"))
			for _, l := range logs {
				b, _ := os.ReadFile(l)
				t.Logf("%s:\n%s", l, b)
			}
		}
	})
	return &env{srv: srv, m: m, t: Target{ID: "ep-test-pooler", SocketDir: srv.SocketDir(), MaxConnections: maxConns}}
}

func (e *env) ensure(t *testing.T) string {
	t.Helper()
	sock, err := e.m.Ensure(t.Context(), e.t)
	if err != nil {
		t.Fatal(err)
	}
	return sock
}

// execMode is pgx's query mode: without protocol-level prepared statement
// support (PgBouncer < 1.21) the cached named statements pgx prepares by
// default break in transaction mode, and clients must use unnamed ones.
var execMode = pgx.QueryExecModeCacheStatement

func connect(ctx context.Context, sock, role, password, db string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(fmt.Sprintf("host=%s port=%d user=%s password=%s dbname=%s sslmode=disable",
		filepath.Dir(sock), Port, role, password, db))
	if err != nil {
		return nil, err
	}
	cfg.DefaultQueryExecMode = execMode
	return pgx.ConnectConfig(ctx, cfg)
}

func mustConnect(t *testing.T, sock, role, password, db string) *pgx.Conn {
	t.Helper()
	c, err := connect(t.Context(), sock, role, password, db)
	if err != nil {
		t.Fatalf("connect %s through the pooler: %v", role, err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// TestPooler: SCRAM through PgBouncer against verifiers it reads from
// Postgres, transaction pooling, roles created and passwords reset after
// the start, reload, stop and restart after a crash.
func TestPooler(t *testing.T) {
	for _, bin := range binaries(t) {
		t.Run(bin.Version, func(t *testing.T) { testPooler(t, bin) })
	}
}

func testPooler(t *testing.T, bin Binary) {
	if !bin.PreparedStatements() {
		execMode = pgx.QueryExecModeExec
		defer func() { execMode = pgx.QueryExecModeCacheStatement }()
	}
	e := newEnvWith(t, bin, 1) // pool of one server connection
	sock := e.ensure(t)
	if got := e.ensure(t); got != sock {
		t.Fatalf("second Ensure gave %s, first %s", got, sock)
	}
	pid := e.m.Pid(e.t.ID)

	t.Run("scram login", func(t *testing.T) {
		c := mustConnect(t, sock, "app", "secret-1", "app_db")
		var user string
		if err := c.QueryRow(t.Context(), "select current_user").Scan(&user); err != nil || user != "app" {
			t.Fatalf("current_user = %q, %v", user, err)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		// PgBouncer's own text and code (08P01); behind the proxy clients
		// never get here with a wrong password and see Postgres' 28P01.
		_, err := connect(t.Context(), sock, "app", "nope", "app_db")
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Severity != "FATAL" {
			t.Fatalf("wrong password: %v, want a FATAL error", err)
		}
	})
	t.Run("transaction mode shares server connections", func(t *testing.T) {
		a := mustConnect(t, sock, "app", "secret-1", "app_db")
		b := mustConnect(t, sock, "app", "secret-1", "app_db")
		var pa, pb int
		if err := a.QueryRow(t.Context(), "select pg_backend_pid()").Scan(&pa); err != nil {
			t.Fatal(err)
		}
		if err := b.QueryRow(t.Context(), "select pg_backend_pid()").Scan(&pb); err != nil {
			t.Fatal(err)
		}
		if pa != pb {
			t.Fatalf("two clients on a pool of one got backends %d and %d", pa, pb)
		}
	})
	t.Run("role created and password reset after start", func(t *testing.T) {
		e.srv.Exec(t, "postgres", "CREATE ROLE late LOGIN PASSWORD 'late-pw'")
		c := mustConnect(t, sock, "late", "late-pw", "app_db")
		c.Close(t.Context())
		e.srv.Exec(t, "postgres", "ALTER ROLE app PASSWORD 'secret-2'")
		if _, err := connect(t.Context(), sock, "app", "secret-1", "app_db"); err == nil {
			t.Fatal("old password still accepted")
		}
		c = mustConnect(t, sock, "app", "secret-2", "app_db")
		if _, err := c.Exec(t.Context(), "select 1"); err != nil {
			t.Fatalf("query after password reset: %v", err)
		}
	})
	t.Run("reload on new settings", func(t *testing.T) {
		nt := e.t
		nt.MaxConnections = 104
		if _, err := e.m.Ensure(t.Context(), nt); err != nil {
			t.Fatal(err)
		}
		if got := e.m.Pid(e.t.ID); got != pid {
			t.Fatalf("reload restarted the pooler: pid %d, was %d", got, pid)
		}
		ini, err := os.ReadFile(filepath.Join(filepath.Dir(sock), "pgbouncer.ini"))
		if err != nil || !strings.Contains(string(ini), "default_pool_size = 93\n") {
			t.Fatalf("pgbouncer.ini after reload: %v\n%s", err, ini)
		}
		e.t = nt
	})
	t.Run("restart after a crash", func(t *testing.T) {
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "pooler exit", func() bool { return !e.m.Running(e.t.ID) })
		sock = e.ensure(t)
		if e.m.Pid(e.t.ID) == pid {
			t.Fatal("same pid after a crash")
		}
		mustConnect(t, sock, "app", "secret-2", "app_db")
	})
	t.Run("stop", func(t *testing.T) {
		if err := e.m.Stop(t.Context(), e.t.ID); err != nil {
			t.Fatal(err)
		}
		if e.m.Running(e.t.ID) {
			t.Fatal("running after Stop")
		}
		if _, err := os.Stat(sock); !os.IsNotExist(err) {
			t.Fatalf("socket left after Stop: %v", err)
		}
	})
}

// TestConcurrentEnsure: callers at once share one start.
func TestConcurrentEnsure(t *testing.T) {
	e := newEnv(t, 10)
	var wg sync.WaitGroup
	socks := make([]string, 8)
	errs := make([]error, 8)
	for i := range socks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			socks[i], errs[i] = e.m.Ensure(t.Context(), e.t)
		}()
	}
	wg.Wait()
	for i := range socks {
		if errs[i] != nil || socks[i] != socks[0] {
			t.Fatalf("Ensure %d: %s, %v (first %s)", i, socks[i], errs[i], socks[0])
		}
	}
	out, err := os.ReadFile("/proc/" + fmt.Sprint(e.m.Pid(e.t.ID)) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	if uid := fmt.Sprint(e.srv.User.UID); !strings.Contains(string(out), "\nUid:\t"+uid+"\t") {
		t.Fatalf("pgbouncer does not run as uid %s:\n%s", uid, out)
	}
}

// TestReapStale: a manager started on the folder of one that died without
// its cleanup kills the PgBouncers it left.
func TestReapStale(t *testing.T) {
	e := newEnv(t, 10)
	e.ensure(t)
	pid := e.m.Pid(e.t.ID)
	m2, err := New(e.m.cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer m2.Close(context.Background())
	waitFor(t, "stale pgbouncer killed", func() bool { return !e.m.Running(e.t.ID) })
	if err := syscall.Kill(pid, 0); err == nil {
		t.Fatalf("pgbouncer %d still alive", pid)
	}
}

// TestPreparedStatements: pgx's default (extended protocol, statements
// prepared once per connection and cached) works through a transaction
// pooler when PgBouncer tracks protocol-level prepared statements (1.21+).
func TestPreparedStatements(t *testing.T) {
	e := newEnv(t, 2)
	if !e.m.Binary().PreparedStatements() {
		t.Skipf("PgBouncer %s has no protocol-level prepared statements (scripts/setup.sh builds 1.24)", e.m.Binary().Version)
	}
	sock := e.ensure(t)
	var conns []*pgx.Conn
	for range 5 {
		conns = append(conns, mustConnect(t, sock, "app", "secret-1", "app_db"))
	}
	for round := range 20 {
		for i, c := range conns {
			var n int
			if err := c.QueryRow(t.Context(), "select $1::int + 1", round).Scan(&n); err != nil || n != round+1 {
				t.Fatalf("conn %d round %d: %d, %v", i, round, n, err)
			}
		}
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
