// Package pgrun runs PostgreSQL server processes: initdb, exec of postgres with
// readiness detection, and stop. It knows nothing of projects or endpoints; the
// compute manager, the metadata store's internal cluster and tests build on it.
//
// Servers listen only on a Unix socket. The platform's superuser (AdminRole)
// logs in over that socket by peer authentication, so it has no password to
// keep or leak; every other role logs in with SCRAM-SHA-256.
package pgrun

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/grovedb/grove/internal/pgversion"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// AdminRole is the platform's own superuser in every cluster. The proxy refuses it.
const AdminRole = "cloud_admin"

// User is the OS account Postgres runs as.
type User struct {
	Name     string
	UID, GID uint32
	// Switch is true when Grove runs as root and must drop to this user to exec Postgres.
	Switch bool
}

var namePattern = regexp.MustCompile(`^[a-z_][a-z0-9_-]{0,30}$`)

// EnsureUser returns the OS user Postgres runs as. As root it is the named
// system user, created when missing (Postgres refuses to run as root); as
// anyone else it is the current user.
func EnsureUser(name string) (User, error) {
	if os.Geteuid() != 0 {
		u, err := user.Current()
		if err != nil {
			return User{}, fmt.Errorf("current user: %w", err)
		}
		return toUser(u, false)
	}
	if !namePattern.MatchString(name) {
		return User{}, fmt.Errorf("invalid OS user name %q", name)
	}
	u, err := user.Lookup(name)
	if err != nil {
		out, aerr := exec.Command("useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
			"--shell", "/usr/sbin/nologin", "--user-group", name).CombinedOutput()
		if aerr != nil {
			return User{}, fmt.Errorf("create OS user %s: %w: %s", name, aerr, bytes.TrimSpace(out))
		}
		if u, err = user.Lookup(name); err != nil {
			return User{}, fmt.Errorf("look up OS user %s: %w", name, err)
		}
	}
	return toUser(u, true)
}

func toUser(u *user.User, sw bool) (User, error) {
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return User{}, err
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return User{}, err
	}
	return User{Name: u.Username, UID: uint32(uid), GID: uint32(gid), Switch: sw}, nil
}

// SysProcAttr runs a process in a process group of its own and, when u is
// not Grove's own identity, as u with no supplementary group (the parent's,
// root's, would otherwise stay).
func (u User) SysProcAttr() *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{Setpgid: true}
	if u.Switch {
		attr.Credential = &syscall.Credential{Uid: u.UID, Gid: u.GID, Groups: []uint32{}}
	}
	return attr
}

// IDUser is the identity of a uid (and group of the same number) that needs
// no /etc/passwd entry: one of a compute's (internal/osid).
func IDUser(uid uint32) User {
	return User{Name: strconv.FormatUint(uint64(uid), 10), UID: uid, GID: uid, Switch: os.Geteuid() == 0}
}

// OwnerOf is the identity owning path: the one a server on that data
// directory runs as. Not as root, it is the current user.
func OwnerOf(path string) (User, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return User{}, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || os.Geteuid() != 0 {
		u, err := user.Current()
		if err != nil {
			return User{}, fmt.Errorf("current user: %w", err)
		}
		return toUser(u, false)
	}
	// Named by number: a compute's identity has no passwd entry, and a
	// look-up on every start would only cost time.
	return User{Name: strconv.FormatUint(uint64(st.Uid), 10), UID: st.Uid, GID: st.Gid, Switch: true}, nil
}

// OwnTree gives root and everything under it to the user (modes unchanged).
func (u User) OwnTree(root string) error {
	if !u.Switch {
		return nil
	}
	return filepath.WalkDir(root, func(path string, _ os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, int(u.UID), int(u.GID))
	})
}

// Own makes path (not recursively) owned by the user with the given mode.
func (u User) Own(path string, mode os.FileMode) error {
	if err := os.Chmod(path, mode); err != nil {
		return err
	}
	if u.Switch {
		return os.Lchown(path, int(u.UID), int(u.GID))
	}
	return nil
}

// writeFile writes a file owned by the user, readable by it alone.
func (u User) writeFile(path string, data []byte) error {
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return err
	}
	return u.Own(path, 0o600)
}

// MkdirOwned creates dir (and parents) and gives the last element to the user.
func (u User) MkdirOwned(dir string, mode os.FileMode) error {
	if err := os.MkdirAll(dir, mode); err != nil {
		return err
	}
	return u.Own(dir, mode)
}

// InitOptions shape a new cluster.
type InitOptions struct {
	// WALSegSizeMB is initdb's --wal-segsize; 1 keeps a fresh cluster small.
	WALSegSizeMB int
	// AdminOSUsers may log in as AdminRole by peer authentication.
	AdminOSUsers []string
	// Databases are created empty after initdb, so that handing one out later
	// is a rename instead of a copy of template1.
	Databases []string
	// Freeze vacuums every database with FREEZE and checkpoints before the
	// cluster is stopped, and leaves each database's relation cache file
	// built: clones then start without rewriting catalog pages for hint
	// bits (which data checksums WAL-log as full pages), so a clone on a
	// copy-on-write file system stays small.
	Freeze bool
	// Helpers makes Grove's helper roles and PgBouncer's lookup function
	// (in template1 and postgres, so that every database made later has it).
	Helpers bool
}

// InitDB makes a new cluster in dataDir (which must not exist or be empty),
// owned by u, with data checksums, AdminRole as bootstrap superuser and
// Grove's pg_hba.conf.
func InitDB(ctx context.Context, inst pgversion.Install, u User, dataDir string, opts InitOptions) error {
	if err := u.MkdirOwned(dataDir, 0o700); err != nil {
		return fmt.Errorf("initdb %s: %w", dataDir, err)
	}
	seg := opts.WALSegSizeMB
	if seg == 0 {
		seg = 1
	}
	args := []string{"-D", dataDir, "-U", AdminRole, "--data-checksums", "--encoding=UTF8",
		"--locale=C.UTF-8", "--wal-segsize=" + strconv.Itoa(seg), "--auth-local=peer", "--auth-host=reject", "--no-instructions"}
	cmd := exec.CommandContext(ctx, inst.Bin("initdb"), args...)
	cmd.SysProcAttr = u.SysProcAttr()
	cmd.Env = []string{"LC_ALL=C.UTF-8", "PATH=/usr/bin:/bin"}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb %s: %w: %s", dataDir, err, tail(out))
	}
	if err := WriteHBA(dataDir, u, opts.AdminOSUsers); err != nil {
		return err
	}
	if len(opts.Databases) == 0 && !opts.Freeze && !opts.Helpers {
		return nil
	}
	sock, err := os.MkdirTemp("", "grove-initdb-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(sock)
	if err := u.Own(sock, 0o700); err != nil {
		return err
	}
	srv, err := Start(ctx, Options{Install: inst, User: u, DataDir: dataDir, SocketDir: sock})
	if err != nil {
		return fmt.Errorf("initdb %s: first start: %w", dataDir, err)
	}
	defer srv.Stop(context.WithoutCancel(ctx))
	if opts.Helpers {
		if err := InstallHelpers(ctx, srv.Psql); err != nil {
			return fmt.Errorf("initdb %s: %w", dataDir, err)
		}
	}
	for _, db := range opts.Databases {
		if err := srv.Psql(ctx, "postgres", `CREATE DATABASE "`+db+`"`); err != nil {
			return fmt.Errorf("initdb %s: %w", dataDir, err)
		}
	}
	if opts.Freeze {
		for _, db := range append([]string{"template1", "postgres"}, opts.Databases...) {
			// ANALYZE first: the statistics rows it writes get frozen too.
			for _, sql := range []string{"ANALYZE", "VACUUM (FREEZE)"} {
				if err := srv.Psql(ctx, db, sql); err != nil {
					return fmt.Errorf("initdb %s: freeze %s: %w", dataDir, db, err)
				}
			}
		}
		if err := srv.Psql(ctx, "postgres", "CHECKPOINT"); err != nil {
			return fmt.Errorf("initdb %s: %w", dataDir, err)
		}
	}
	return srv.Stop(ctx)
}

// Roles of Grove's helpers inside every compute cluster. They log in
// without a password over the cluster's Unix socket, whose directory only
// the cluster's own OS identity and Grove can enter (0700): a replica of the
// same project streaming WAL, and PgBouncer reading verifiers. Neither is a
// superuser, and the proxy refuses both.
const (
	ReplicationRole = "grove_replication"
	PoolerRole      = "grove_pooler"
)

// PoolerAuthQuery is PgBouncer's auth_query as PoolerRole: the verifier of
// a login role that is neither a superuser nor one of Grove's.
const PoolerAuthQuery = "SELECT usename, passwd FROM grove.pooler_lookup($1)"

// HelperRolesSQL makes ReplicationRole and PoolerRole in a cluster, idempotently.
const HelperRolesSQL = `DO $grove$ BEGIN
IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '` + ReplicationRole + `') THEN
  CREATE ROLE ` + ReplicationRole + ` WITH LOGIN REPLICATION NOINHERIT;
END IF;
IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '` + PoolerRole + `') THEN
  CREATE ROLE ` + PoolerRole + ` WITH LOGIN NOINHERIT;
END IF;
END $grove$`

// PoolerLookupSQL makes PgBouncer's lookup function in one database,
// idempotently. It runs with the rights of its owner (AdminRole) and
// answers only for ordinary login roles.
const PoolerLookupSQL = `CREATE SCHEMA IF NOT EXISTS grove AUTHORIZATION ` + AdminRole + `;
REVOKE ALL ON SCHEMA grove FROM PUBLIC;
GRANT USAGE ON SCHEMA grove TO ` + PoolerRole + `;
CREATE OR REPLACE FUNCTION grove.pooler_lookup(name text, OUT usename name, OUT passwd text)
RETURNS SETOF record LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS
$$ SELECT rolname, rolpassword FROM pg_authid
   WHERE rolname = name AND rolcanlogin AND NOT rolsuper AND rolname NOT LIKE 'grove\_%' $$;
REVOKE ALL ON FUNCTION grove.pooler_lookup(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION grove.pooler_lookup(text) TO ` + PoolerRole

// TenantRoleOptions are the role options of a project's roles on a major.
// Postgres 15 lets CREATEROLE grant membership in any role that is not a
// superuser — pg_execute_server_program, pg_read_server_files and
// pg_write_server_files included, which reach the OS — so on 15 and before
// a project's roles cannot create roles: they are made through the API.
// From 16 on, granting a role needs its ADMIN OPTION, which no project
// role holds on a predefined role.
func TenantRoleOptions(major int) string {
	if major <= 15 {
		return "CREATEDB NOCREATEROLE"
	}
	return "CREATEDB CREATEROLE"
}

// HardenSQL undoes, on a cluster of major, what a project's role could do
// under an older Grove: on 15 and before, CREATEROLE and the memberships
// in the predefined roles that reach the OS. "" when there is nothing to undo.
func HardenSQL(major int) string {
	if major > 15 {
		return ""
	}
	return `DO $grove$ DECLARE r record; BEGIN
FOR r IN SELECT rolname FROM pg_roles WHERE rolcreaterole AND NOT rolsuper LOOP
  EXECUTE format('ALTER ROLE %I NOCREATEROLE', r.rolname);
END LOOP;
FOR r IN SELECT g.rolname AS grp, m.rolname AS member FROM pg_auth_members a
  JOIN pg_roles g ON g.oid = a.roleid JOIN pg_roles m ON m.oid = a.member
  WHERE g.rolname IN ('pg_execute_server_program', 'pg_read_server_files', 'pg_write_server_files')
    AND NOT m.rolsuper LOOP
  EXECUTE format('REVOKE %I FROM %I CASCADE', r.grp, r.member);
END LOOP;
END $grove$`
}

// InstallHelpers runs HelperRolesSQL and PoolerLookupSQL through exec
// (database, SQL), as AdminRole.
func InstallHelpers(ctx context.Context, exec func(ctx context.Context, db, sql string) error) error {
	if err := exec(ctx, "postgres", HelperRolesSQL); err != nil {
		return fmt.Errorf("helper roles: %w", err)
	}
	for _, db := range []string{"template1", "postgres"} {
		if err := exec(ctx, db, PoolerLookupSQL); err != nil {
			return fmt.Errorf("pooler lookup in %s: %w", db, err)
		}
	}
	return nil
}

// WriteHBA writes pg_hba.conf and pg_ident.conf: AdminRole by peer for
// Grove's own OS identity and the listed OS users only — never the OS
// identity the server runs as, which a tenant who reached the OS through a
// Postgres bug would hold —, Grove's helper roles without a password
// (ReplicationRole, PoolerRole), everyone else by SCRAM; Unix socket only.
func WriteHBA(dataDir string, u User, adminOSUsers []string) error {
	users := append([]string{}, adminOSUsers...)
	if cur, err := user.Current(); err == nil {
		users = append(users, cur.Username)
	}
	sort.Strings(users)
	var ident strings.Builder
	ident.WriteString("# Written by Grove: OS users that may log in as " + AdminRole + ".\n")
	prev := ""
	for _, name := range users {
		if name == prev || name == "" {
			continue
		}
		prev = name
		fmt.Fprintf(&ident, "grove %s %s\n", name, AdminRole)
	}
	hba := "# Written by Grove. Unix socket only; the proxy authenticates clients first.\n" +
		"local all " + AdminRole + " peer map=grove\n" +
		"local replication " + AdminRole + " peer map=grove\n" +
		"local all " + ReplicationRole + " reject\n" +
		"local replication " + ReplicationRole + " trust\n" +
		"local replication " + PoolerRole + " reject\n" +
		"local all " + PoolerRole + " trust\n" +
		"local all all scram-sha-256\n" +
		"local replication all scram-sha-256\n"
	for name, body := range map[string]string{"pg_hba.conf": hba, "pg_ident.conf": ident.String()} {
		p := filepath.Join(dataDir, name)
		tmp := p + ".tmp"
		if err := os.WriteFile(tmp, []byte(body), 0o600); err != nil {
			return fmt.Errorf("write %s: %w", p, err)
		}
		if err := u.Own(tmp, 0o600); err != nil {
			return err
		}
		if err := os.Rename(tmp, p); err != nil {
			return fmt.Errorf("write %s: %w", p, err)
		}
	}
	return nil
}

// Options describe one server process.
type Options struct {
	Install   pgversion.Install
	User      User
	DataDir   string
	SocketDir string
	// Settings are passed as -c name=value and override postgresql.conf.
	Settings map[string]string
	// Log receives the server's stderr; nil discards it.
	Log io.Writer
	// Promote starts a data directory that was not shut down cleanly (a
	// crash image: the clone of a running server, or one killed) as a
	// standby and promotes it once it has replayed its WAL: recovery then
	// ends with an end-of-recovery record instead of the synchronous
	// checkpoint of crash recovery, which writes and fsyncs every page the
	// replay touched before the server accepts connections. The WAL is
	// durable already; the checkpoint follows in the background. The
	// server continues on a new timeline.
	Promote bool
	// PauseAtTarget starts an archive recovery to a target (Settings
	// carry restore_command and recovery_target_*) and returns once the
	// server paused there and promoted. Asked at the pause, the promotion
	// ends recovery with an end-of-recovery record, where a target's
	// promote action runs the synchronous checkpoint: written after the
	// server answers, the pages the replay dirtied (seconds of scattered
	// writes for a large replay) leave the start. The server continues on
	// a new timeline. A target the WAL does not reach fails the start with
	// ErrTargetNotReached.
	PauseAtTarget bool
	// Started, when set, is called with the postmaster's pid as soon as
	// the process exists, before it forks anything (a cgroup move).
	Started func(pid int)
}

// Files Postgres reads at start: standby mode, archive recovery, and the
// promotion request.
const (
	standbySignal  = "standby.signal"
	recoverySignal = "recovery.signal"
	promoteSignal  = "promote"
)

// Server is a running postmaster.
type Server struct {
	opts Options
	cmd  *exec.Cmd // nil for an adopted server (adopt.go)
	pid  int
	// watch signals an adopted server through its pidfd, which a reused
	// pid cannot redirect (adopt.go).
	watch *pidWatch
	done  chan struct{}
	err   error // exit status, valid after done is closed
}

// ErrExited means the server exited before it became ready.
var ErrExited = errors.New("postgres exited")

// A recovery to a target that Postgres refused fails the start with one of
// these as well as ErrExited: the point is after the end of the WAL there
// is, or before the snapshot recovered from is consistent.
var (
	ErrTargetNotReached = errors.New("recovery ended before configured recovery target was reached")
	ErrBeforeConsistent = errors.New("requested recovery stop point is before consistent recovery point")
)

// Start execs postgres and returns once it accepts connections, or fails
// when ctx ends or the process exits first (with the end of its log).
func Start(ctx context.Context, opts Options) (*Server, error) {
	args := []string{"-D", opts.DataDir, "-k", opts.SocketDir, "-c", "listen_addresses="}
	keys := make([]string, 0, len(opts.Settings))
	for k := range opts.Settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		args = append(args, "-c", k+"="+opts.Settings[k])
	}
	if opts.Promote {
		// A hot standby reports "ready" to read-only connections; without
		// it, "ready" comes only once the promotion is done.
		args = append(args, "-c", "hot_standby=off")
	}
	if opts.PauseAtTarget {
		// Pausing needs a hot standby (without one, pause means shut down);
		// "ready" then comes at consistency, and the promotion after.
		args = append(args, "-c", "hot_standby=on", "-c", "recovery_target_action=pause")
	}
	cmd := exec.Command(opts.Install.Bin("postgres"), args...)
	cmd.SysProcAttr = opts.User.SysProcAttr()
	cmd.Env = []string{"LC_ALL=C.UTF-8", "PATH=/usr/bin:/bin", "TZ=UTC"}
	cmd.Dir = opts.DataDir
	logs := &tailBuffer{max: 4096}
	logFile, logFrom := logTo(cmd, opts.Log, logs) // adopt.go
	// Each mode writes its signal file and removes the other's, left by
	// an earlier start: Postgres obeys standby.signal over recovery.signal
	// and, once promoted, removes only the one it obeyed.
	for _, sig := range []struct {
		name, other string
		on          bool
	}{{standbySignal, recoverySignal, opts.Promote}, {recoverySignal, standbySignal, opts.PauseAtTarget}} {
		if !sig.on {
			continue
		}
		err := opts.User.writeFile(filepath.Join(opts.DataDir, sig.name), nil)
		if rerr := os.Remove(filepath.Join(opts.DataDir, sig.other)); err == nil && !errors.Is(rerr, os.ErrNotExist) {
			err = rerr
		}
		if err != nil {
			return nil, fmt.Errorf("start postgres on %s: %w", opts.DataDir, err)
		}
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("exec postgres for %s: %w", opts.DataDir, err)
	}
	if opts.Started != nil {
		opts.Started(cmd.Process.Pid)
	}
	s := &Server{opts: opts, cmd: cmd, pid: cmd.Process.Pid, done: make(chan struct{})}
	go func() {
		s.err = cmd.Wait()
		close(s.done)
	}()
	err := s.waitReady(ctx)
	if err == nil && opts.PauseAtTarget {
		err = s.promoteAtTarget(ctx)
	}
	if err != nil {
		s.Kill()
		<-s.done
		logs.readFrom(logFile, logFrom)
		for _, refused := range []error{ErrTargetNotReached, ErrBeforeConsistent} {
			if strings.Contains(logs.String(), refused.Error()) {
				err = fmt.Errorf("%w: %w", refused, err)
			}
		}
		if le, ok := insufficientLimits(logs.raw()); ok {
			err = fmt.Errorf("%w: %w", le, err)
		}
		return nil, fmt.Errorf("start postgres on %s: %w: %s", opts.DataDir, err, logs.String())
	}
	return s, nil
}

// tick waits for t's next tick; it fails when ctx ends or the server exits.
func (s *Server) tick(ctx context.Context, t *time.Ticker) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-s.done:
		return fmt.Errorf("%w: %v", ErrExited, s.err)
	case <-t.C:
		return nil
	}
}

// promoteAtTarget asks for the promotion at once and waits until it is
// done. An archive recovery (unlike a standby) looks at the request only
// when it pauses at its target, and then right away; a request that comes
// once it already sleeps there is seen only after a second, so a pause
// that outlasts 50 ms is ended by resuming instead, which promotes with
// the synchronous checkpoint (a replay that short has little to write).
func (s *Server) promoteAtTarget(ctx context.Context) error {
	conn, err := s.Connect(ctx, "postgres")
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "SELECT pg_promote(false)"); err != nil {
		return fmt.Errorf("request the promotion: %w", err)
	}
	t := time.NewTicker(2 * time.Millisecond)
	defer t.Stop()
	var paused time.Time
	resumed := false
	for {
		var recovering bool
		var state string
		err := conn.QueryRow(ctx, "SELECT pg_is_in_recovery(), pg_get_wal_replay_pause_state()").Scan(&recovering, &state)
		var pgErr *pgconn.PgError
		switch {
		case errors.As(err, &pgErr) && pgErr.Code == "55000": // "recovery is not in progress": promoted
			return nil
		case err != nil:
			select {
			case <-s.done:
				return fmt.Errorf("%w: %v", ErrExited, s.err)
			default:
				return fmt.Errorf("recovery state: %w", err)
			}
		case !recovering:
			return nil
		case state != "paused" || resumed:
		case paused.IsZero():
			paused = time.Now()
		case time.Since(paused) > 50*time.Millisecond:
			if _, err := conn.Exec(ctx, "SELECT pg_wal_replay_resume()"); err != nil {
				return fmt.Errorf("end the recovery: %w", err)
			}
			resumed = true
		}
		if err := s.tick(ctx, t); err != nil {
			return err
		}
	}
}

// waitReady polls postmaster.pid for the "ready" status Postgres writes once
// it accepts connections; a 1 ms poll costs little beside a ~30 ms start.
// With Promote (and hot_standby off) it asks for the promotion on every
// poll once the postmaster has written its pid (its signal handlers are
// set by then): the request file, which the postmaster clears when it
// starts, and SIGUSR1, which it passes to the startup process once there is
// one. The startup process promotes when it has replayed all the WAL there
// is.
func (s *Server) waitReady(ctx context.Context) error {
	pidFile := filepath.Join(s.opts.DataDir, "postmaster.pid")
	promote := filepath.Join(s.opts.DataDir, promoteSignal)
	want := strconv.Itoa(s.cmd.Process.Pid)
	t := time.NewTicker(time.Millisecond)
	defer t.Stop()
	for {
		if b, err := os.ReadFile(pidFile); err == nil {
			lines := strings.Split(string(b), "\n")
			if len(lines) >= 8 && lines[0] == want && strings.TrimSpace(lines[7]) == "ready" {
				if s.opts.Promote {
					// A request that came after the promotion would
					// only be cleared at the next start.
					_ = os.Remove(promote)
				}
				return nil
			}
			if s.opts.Promote && lines[0] == want {
				if _, err := os.Stat(promote); errors.Is(err, os.ErrNotExist) {
					_ = s.opts.User.writeFile(promote, nil)
				}
				_ = s.cmd.Process.Signal(syscall.SIGUSR1)
			}
		}
		if err := s.tick(ctx, t); err != nil {
			return err
		}
	}
}

// Pid is the postmaster's process id.
func (s *Server) Pid() int { return s.pid }

// SocketDir is where the server's Unix socket lives.
func (s *Server) SocketDir() string { return s.opts.SocketDir }

// DataDir is the cluster's data directory.
func (s *Server) DataDir() string { return s.opts.DataDir }

// Install is the installation the server runs.
func (s *Server) Install() pgversion.Install { return s.opts.Install }

// Done is closed when the process has exited.
func (s *Server) Done() <-chan struct{} { return s.done }

// ExitErr is the process's exit status; valid once Done is closed.
func (s *Server) ExitErr() error { return s.err }

// DSN is a libpq keyword/value string for a role and database on the socket.
func (s *Server) DSN(role, db string) string {
	return fmt.Sprintf("host=%s port=5432 user=%s dbname=%s sslmode=disable", s.opts.SocketDir, role, db)
}

// AdminDSN is the DSN of the platform's superuser on a database.
func (s *Server) AdminDSN(db string) string { return s.DSN(AdminRole, db) }

// Stop shuts the server down fast (SIGINT: roll back, disconnect, checkpoint),
// then immediately (SIGQUIT) and finally SIGKILL if ctx ends first.
func (s *Server) Stop(ctx context.Context) error {
	select {
	case <-s.done:
		return nil
	default:
	}
	s.signal(syscall.SIGINT)
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
	}
	s.signal(syscall.SIGQUIT)
	select {
	case <-s.done:
		return nil
	case <-time.After(5 * time.Second):
	}
	s.Kill()
	<-s.done
	return fmt.Errorf("stop postgres on %s: killed after %w", s.opts.DataDir, ctx.Err())
}

// Kill sends SIGKILL to the postmaster's process group.
func (s *Server) Kill() {
	_ = syscall.Kill(-s.pid, syscall.SIGKILL)
}

// Psql runs SQL (simple protocol, several statements allowed) as AdminRole.
func (s *Server) Psql(ctx context.Context, db, sql string) error {
	conn, err := s.Connect(ctx, db)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, sql, pgx.QueryExecModeSimpleProtocol); err != nil {
		return fmt.Errorf("exec on %s: %w", s.opts.DataDir, err)
	}
	return nil
}

// Connect opens a connection as AdminRole over the Unix socket.
func (s *Server) Connect(ctx context.Context, db string) (*pgx.Conn, error) {
	conn, err := pgx.Connect(ctx, s.AdminDSN(db))
	if err != nil {
		return nil, fmt.Errorf("connect to %s as %s: %w", s.opts.DataDir, AdminRole, err)
	}
	return conn, nil
}

// StopStale stops a postmaster left running on dataDir by an earlier Grove
// (found through postmaster.pid) and waits for it to exit.
func StopStale(ctx context.Context, dataDir string) error {
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return nil
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	if err != nil || pid <= 1 {
		return nil
	}
	if !isPostgres(pid, dataDir) {
		return nil
	}
	_ = syscall.Kill(pid, syscall.SIGINT)
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	deadline := time.After(10 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline:
			_ = syscall.Kill(pid, syscall.SIGKILL)
		case <-t.C:
		}
	}
	return nil
}

// isPostgres reports whether pid is a postgres process on dataDir.
func isPostgres(pid int, dataDir string) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	args := strings.Split(string(b), "\x00")
	if len(args) == 0 || filepath.Base(args[0]) != "postgres" {
		return false
	}
	for i, a := range args {
		if a == "-D" && i+1 < len(args) && filepath.Clean(args[i+1]) == filepath.Clean(dataDir) {
			return true
		}
	}
	return false
}

func tail(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) > 2048 {
		b = b[len(b)-2048:]
	}
	return string(b)
}

// tailBuffer keeps the last max bytes written, for error messages.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = t.buf[len(t.buf)-t.max:]
	}
	return len(p), nil
}

// raw returns the whole tail, not only its last lines.
func (t *tailBuffer) raw() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(t.buf))
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	return strings.Join(lines, " | ")
}

// pg_control's DBState values this package reads (catalog/pg_control.h).
const dbInProduction = 6

// PendingRedo is how much WAL a crash image's recovery replays: from the
// redo point of its last checkpoint to the end of the WAL in pg_wal (to a
// page's end). The end is the first page whose header does not carry its
// own address (a page never written: zeros, or a hole), found by bisection
// in the segments from the redo point on.
func PendingRedo(dataDir string) (int64, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, "global", "pg_control"))
	if err != nil {
		return 0, fmt.Errorf("control file of %s: %w", dataDir, err)
	}
	// system_identifier, pg_control_version, catalog_version_no, state,
	// time (8-aligned), checkPoint, then checkPointCopy, whose first
	// field is the redo point.
	if len(b) < 48 {
		return 0, fmt.Errorf("control file of %s: too short", dataDir)
	}
	redo := binary.NativeEndian.Uint64(b[40:])
	walDir := filepath.Join(dataDir, "pg_wal")
	ents, err := os.ReadDir(walDir)
	if err != nil {
		return 0, err
	}
	// The segments at or after the redo point, by start; for a start held
	// by several timelines, the newest.
	type segment struct {
		name        string
		start, size uint64
	}
	bySeg := map[uint64]segment{}
	var segSize uint64
	for _, e := range ents {
		name := e.Name()
		if len(name) != 24 || !e.Type().IsRegular() {
			continue
		}
		hi, err1 := strconv.ParseUint(name[8:16], 16, 32)
		lo, err2 := strconv.ParseUint(name[16:], 16, 32)
		fi, err3 := e.Info()
		if err1 != nil || err2 != nil || err3 != nil {
			continue
		}
		size := uint64(fi.Size())
		if size < walPage || size&(size-1) != 0 {
			continue // not a segment
		}
		start := (hi<<32)/size*size + lo*size
		if start+size <= redo {
			continue
		}
		if old, ok := bySeg[start]; !ok || name > old.name {
			bySeg[start] = segment{name, start, size}
		}
		segSize = size
	}
	// A segment may end early (a WAL switch): go on while the next one
	// holds written pages.
	end := redo
	for at := redo; segSize > 0; at += segSize {
		seg, ok := bySeg[at-at%segSize]
		if !ok {
			break
		}
		n, err := writtenPages(filepath.Join(walDir, seg.name), seg.start, seg.size)
		if err != nil {
			return 0, err
		}
		if n == 0 {
			break
		}
		end = max(end, seg.start+n*walPage)
	}
	return int64(end - redo), nil
}

// walPage is the WAL page size of the builds Grove runs (XLOG_BLCKSZ).
const walPage = 8192

// writtenPages is how many leading pages of a WAL segment starting at
// start carry their own address in their header (xlp_pageaddr, after the
// magic, the flags and the timeline): WAL is written in order, so they are
// a prefix.
func writtenPages(path string, start, size uint64) (uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var hdr [16]byte
	valid := func(i uint64) (bool, error) {
		if _, err := f.ReadAt(hdr[:], int64(i*walPage)); err != nil {
			return false, fmt.Errorf("read %s: %w", path, err)
		}
		return binary.NativeEndian.Uint64(hdr[8:]) == start+i*walPage, nil
	}
	var err2 error
	n := sort.Search(int(size/walPage), func(i int) bool {
		ok, err := valid(uint64(i))
		if err != nil {
			err2 = err
			return true
		}
		return !ok
	})
	return uint64(n), err2
}

// Crashed reports whether a data directory was left by a server that did
// not shut down cleanly: pg_control says it was in production. A clone of a
// running server is such an image too.
func Crashed(dataDir string) (bool, error) {
	f, err := os.Open(filepath.Join(dataDir, "global", "pg_control"))
	if err != nil {
		return false, fmt.Errorf("control file of %s: %w", dataDir, err)
	}
	defer f.Close()
	var b [20]byte
	if _, err := io.ReadFull(f, b[:]); err != nil {
		return false, fmt.Errorf("control file of %s: %w", dataDir, err)
	}
	// system_identifier (8 bytes), pg_control_version, catalog_version_no,
	// then the state, in the machine's byte order.
	return binary.NativeEndian.Uint32(b[16:]) == dbInProduction, nil
}
