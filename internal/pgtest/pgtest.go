// Package pgtest starts throwaway real PostgreSQL servers for tests. It skips
// the test, with the reason, when no installation or no usable OS user exists.
package pgtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grovedb/grove/internal/osid"
	"github.com/grovedb/grove/internal/pgrun"
	"github.com/grovedb/grove/internal/pgversion"
	"github.com/jackc/pgx/v5"
	"golang.org/x/sys/unix"
)

// OSUser is the account test servers run as when tests run as root.
const OSUser = "grove-pg"

var (
	findOnce sync.Once
	installs []pgversion.Install
	findErr  error
)

// Installs returns the installed Postgres versions or skips the test. It
// skips with -short too: the fast tier needs nothing installed, and must not
// become slow because Postgres happens to be.
func Installs(t testing.TB) []pgversion.Install {
	t.Helper()
	SkipShort(t, "needs PostgreSQL")
	findOnce.Do(func() { installs, findErr = pgversion.Find(context.Background()) })
	if findErr != nil {
		t.Skipf("PostgreSQL not installed (run scripts/setup.sh): %v", findErr)
	}
	return installs
}

// Install returns the installation of major, or of the default major when
// major is 0 (falling back to the newest installed), or skips the test.
func Install(t testing.TB, major int) pgversion.Install {
	t.Helper()
	all := Installs(t)
	want := major
	if want == 0 {
		want = pgversion.DefaultMajor
	}
	if in, ok := pgversion.Pick(all, want); ok {
		return in
	}
	if major == 0 {
		return all[len(all)-1]
	}
	t.Skipf("PostgreSQL %d not installed; have %v", major, pgversion.Majors(all))
	return pgversion.Install{}
}

// User returns the OS user Postgres runs as, or skips the test.
func User(t testing.TB) pgrun.User {
	t.Helper()
	SkipShort(t, "runs PostgreSQL as its own OS user")
	u, err := pgrun.EnsureUser(OSUser)
	if err != nil {
		t.Skipf("no OS user for Postgres: %v", err)
	}
	return u
}

// SkipShort skips the test with -short, the fast tier, saying what it needs.
// Every helper that needs something installed (Postgres, PgBouncer, btrfs,
// Node.js clients) calls it, so that the fast tier stays fast wherever it runs.
func SkipShort(t testing.TB, needs string) {
	t.Helper()
	if testing.Short() {
		t.Skipf("%s; skipped with -short (the fast tier)", needs)
	}
}

// Dir returns a new temporary folder that the Postgres OS user can traverse
// (t.TempDir makes 0700 folders, which a dropped-privilege child cannot enter).
func Dir(t testing.TB) string {
	t.Helper()
	d := t.TempDir()
	MakeTraversable(t, d)
	return d
}

// ShortDir returns a new temporary folder with a short path, traversable by
// the Postgres OS user, for Unix sockets (whose paths must stay under 107
// bytes).
func ShortDir(t testing.TB) string {
	t.Helper()
	d, err := os.MkdirTemp("", "pg")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	if err := os.Chmod(d, 0o711); err != nil {
		t.Fatal(err)
	}
	return d
}

// MakeTraversable adds o+x to d and every parent up to the root.
func MakeTraversable(t testing.TB, d string) {
	t.Helper()
	for p := d; p != "/" && p != "."; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatalf("stat %s: %v", p, err)
		}
		if fi.Mode().Perm()&0o001 == 0 {
			if err := os.Chmod(p, fi.Mode().Perm()|0o011); err != nil {
				t.Fatalf("chmod %s: %v", p, err)
			}
		}
	}
}

// Server is a running throwaway cluster.
type Server struct {
	*pgrun.Server
	User pgrun.User
}

type templateKey struct{ major int }

var (
	tmplMu    sync.Mutex
	templates = map[templateKey]string{}
)

// template returns a cluster initialised once per machine, major and
// version, to be copied for each server (initdb costs about a second). It is
// kept in the temp folder across runs; a lock serialises test binaries that
// run in parallel.
func template(t testing.TB, in pgversion.Install, u pgrun.User) string {
	t.Helper()
	tmplMu.Lock()
	defer tmplMu.Unlock()
	if d, ok := templates[templateKey{in.Major}]; ok {
		return d
	}
	root := filepath.Join(os.TempDir(), fmt.Sprintf("grove-pgtest-%d-%s-%d", in.Major, in.Version, u.UID))
	dir := filepath.Join(root, "data")
	lock, err := os.OpenFile(root+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		t.Fatalf("lock template: %v", err)
	}
	defer unix.Flock(int(lock.Fd()), unix.LOCK_UN)
	// The marker names the template's generation: one made by an older
	// Grove (without helper roles) is made again.
	const complete = "complete-helpers"
	if _, err := os.Stat(filepath.Join(root, complete)); err != nil {
		if err := os.RemoveAll(root); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(root, 0o711); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := pgrun.InitDB(ctx, in, u, dir, pgrun.InitOptions{Helpers: true}); err != nil {
			t.Fatalf("initdb: %v", err)
		}
		if err := os.WriteFile(filepath.Join(root, complete), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	templates[templateKey{in.Major}] = dir
	return dir
}

// Identities returns an allocator of compute identities for a test, or nil
// when tests do not run as root (every server then runs as the current user).
func Identities(t testing.TB) *osid.Allocator {
	t.Helper()
	if os.Geteuid() != 0 {
		return nil
	}
	a, err := osid.Open(filepath.Join(t.TempDir(), "uids"), osid.DefaultFirst, osid.DefaultCount)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// Option changes a test server.
type Option func(*pgrun.Options)

// WithSettings adds -c settings.
func WithSettings(kv map[string]string) Option {
	return func(o *pgrun.Options) {
		if o.Settings == nil {
			o.Settings = map[string]string{}
		}
		for k, v := range kv {
			o.Settings[k] = v
		}
	}
}

// Start starts a fresh cluster of the default major and stops it when the test ends.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	return StartMajor(t, 0, opts...)
}

// StartMajor starts a fresh cluster of a given major (0 = default).
func StartMajor(t testing.TB, major int, opts ...Option) *Server {
	t.Helper()
	in := Install(t, major)
	u := User(t)
	tmpl := template(t, in, u)
	root := Dir(t)
	data := filepath.Join(root, "data")
	if out, err := exec.Command("cp", "-a", tmpl, data).CombinedOutput(); err != nil {
		t.Fatalf("copy template: %v: %s", err, out)
	}
	sock := filepath.Join(root, "s")
	if err := u.MkdirOwned(sock, 0o700); err != nil {
		t.Fatal(err)
	}
	o := pgrun.Options{Install: in, User: u, DataDir: data, SocketDir: sock,
		Settings: map[string]string{"fsync": "off", "max_connections": "50", "shared_buffers": "16MB"}}
	for _, opt := range opts {
		opt(&o)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv, err := pgrun.Start(ctx, o)
	if err != nil {
		t.Fatalf("start postgres: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = srv.Stop(ctx)
	})
	return &Server{Server: srv, User: u}
}

// Exec runs SQL as the admin role or fails the test.
func (s *Server) Exec(t testing.TB, db, sql string) {
	t.Helper()
	if err := s.Psql(t.Context(), db, sql); err != nil {
		t.Fatalf("exec %q: %v", abbrev(sql), err)
	}
}

// Conn opens an admin connection closed at the end of the test.
func (s *Server) Conn(t testing.TB, db string) *pgx.Conn {
	t.Helper()
	c, err := s.Connect(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func abbrev(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}
