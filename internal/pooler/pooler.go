// Package pooler runs one PgBouncer per active compute: the endpoint's
// -pooler host, in transaction mode with Neon's settings.
//
// # Lifecycle
//
// A pooler starts at the first pooled connection to its compute (Ensure,
// single-flight per endpoint: concurrent callers wait on one start) and is
// stopped when its compute stops (Stop, from the compute manager's events)
// or with the manager (Close). Ensure of a running pooler whose settings
// changed (the compute's max_connections after a resize) rewrites
// pgbouncer.ini and reloads it (SIGHUP); a pooler that died is started again
// by the next Ensure.
//
// Each pooler lives in <Config.Dir>/<endpoint>/: pgbouncer.ini, its pid file
// and its Unix socket .s.PGSQL.6432. It listens on no TCP port, runs as the
// unprivileged Postgres user and reaches the compute's socket directly.
//
// # Authentication
//
// auth_type is scram-sha-256 and verifiers come from the compute itself
// through auth_query (as auth_user, pgrun.PoolerRole, which logs in without
// a password over the compute's socket, reachable only by the compute's
// identity, which PgBouncer runs as, and Grove),
// so no password or verifier is ever written to a file and roles created or
// reset since the pooler started log in at once. The proxy proves the
// client's recovered ClientKey to PgBouncer, which logs in to the compute
// with it (PgBouncer's SCRAM pass-through).
//
// # Compatibility
//
// Protocol-level prepared statements need PgBouncer 1.21 or later
// (max_prepared_statements); with Debian 12's 1.18 they are off and pgx's
// default (cached prepared statements) fails in transaction mode.
package pooler

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sync/singleflight"
	"golang.org/x/sys/unix"

	"github.com/grovedb/grove/internal/pgrun"
)

// Config configures a Manager.
type Config struct {
	Binary Binary
	// User is the OS user PgBouncer runs as (never root); it must reach the
	// computes' sockets.
	User pgrun.User
	// Dir holds one folder per pooler. Absolute, at most MaxDirLen bytes
	// (Unix socket paths are limited to 107 bytes).
	Dir string
	// LogDir receives each pooler's output as <endpoint>-pooler.log; empty
	// discards it.
	LogDir string
	// AuthUser is the role whose connection reads verifiers (auth_query);
	// it must log in without a password over the socket and run
	// pgrun.PoolerAuthQuery. Empty: pgrun.PoolerRole.
	AuthUser string
	// MaxPreparedStatements is max_prepared_statements where supported:
	// 0 → DefaultMaxPreparedStatements, <0 → off.
	MaxPreparedStatements int
	// StartTimeout bounds a start (0 → 10 s).
	StartTimeout time.Duration
	Logger       *slog.Logger // nil → discard
}

// MaxDirLen bounds Config.Dir: <Dir>/<name>/.s.PGSQL.6432 fits in 107 bytes
// with a folder name of up to 16 bytes (long endpoint ids are hashed).
const MaxDirLen = 107 - 1 - 16 - len("/.s.PGSQL.6432")

var (
	idPattern   = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}$`)
	rolePattern = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)
	// Paths go into pgbouncer.ini unquoted.
	pathPattern = regexp.MustCompile(`^/[A-Za-z0-9._/+-]*$`)
)

// Validate checks the configuration and fills defaults.
func (c *Config) Validate() error {
	if c.Binary.Path == "" {
		return errors.New("pooler: no PgBouncer binary")
	}
	if c.User.Name == "" || (c.User.UID == 0 && os.Geteuid() == 0) {
		return errors.New("pooler: PgBouncer must run as an unprivileged OS user")
	}
	if !pathPattern.MatchString(c.Dir) {
		return fmt.Errorf("pooler: dir %q must be an absolute path of letters, digits and ._/+-", c.Dir)
	}
	if len(c.Dir) > MaxDirLen {
		return fmt.Errorf("pooler: dir %q longer than %d bytes (Unix socket path limit)", c.Dir, MaxDirLen)
	}
	if c.AuthUser == "" {
		c.AuthUser = pgrun.PoolerRole
	}
	if !rolePattern.MatchString(c.AuthUser) {
		return fmt.Errorf("pooler: invalid auth user %q", c.AuthUser)
	}
	if c.MaxPreparedStatements == 0 {
		c.MaxPreparedStatements = DefaultMaxPreparedStatements
	}
	if c.StartTimeout <= 0 {
		c.StartTimeout = 10 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// Target is the compute a pooler serves.
type Target struct {
	ID             string // endpoint id
	SocketDir      string // the compute's socket directory (holds .s.PGSQL.5432)
	MaxConnections int    // the compute's max_connections
	// User is the compute's OS identity, which PgBouncer runs as: the only
	// one besides Grove that can enter the compute's socket directory.
	// Zero: Config.User.
	User pgrun.User
}

// Errors callers branch on.
var (
	ErrClosed = errors.New("pooler manager closed")
	ErrExited = errors.New("pgbouncer exited")
)

// Manager runs the poolers. Create it with New; stop it with Close.
type Manager struct {
	cfg    Config
	log    *slog.Logger
	starts singleflight.Group
	life   context.Context
	end    context.CancelFunc

	mu     sync.Mutex
	closed bool
	byID   map[string]*bouncer
}

// bouncer is one PgBouncer process.
type bouncer struct {
	id, dir string
	ini     []byte // the pgbouncer.ini it runs with
	cmd     *exec.Cmd
	logFile *os.File
	tail    *tailBuffer
	done    chan struct{} // closed when the process has exited
	err     error         // exit status, valid after done

	stopping bool // under Manager.mu
}

func (b *bouncer) socket() string { return filepath.Join(b.dir, ".s.PGSQL."+strconv.Itoa(Port)) }

func (b *bouncer) alive() bool {
	select {
	case <-b.done:
		return false
	default:
		return true
	}
}

// New returns a Manager; it starts nothing until Ensure.
func New(cfg Config) (*Manager, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Dir, 0o711); err != nil {
		return nil, fmt.Errorf("pooler: dir: %w", err)
	}
	if err := os.Chmod(cfg.Dir, 0o711); err != nil {
		return nil, fmt.Errorf("pooler: dir: %w", err)
	}
	reapStale(cfg.Dir, cfg.Logger)
	m := &Manager{cfg: cfg, log: cfg.Logger, byID: map[string]*bouncer{}}
	m.life, m.end = context.WithCancel(context.Background())
	return m, nil
}

// reapStale kills the poolers a previous run left in dir (a Grove killed
// without its cleanup leaves them serving nothing) and removes their folders.
// startedPidFile records the pid of a PgBouncer from the moment it is
// exec'd, for reapStale.
const startedPidFile = "grove.pid"

func reapStale(dir string, log *slog.Logger) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		sub := filepath.Join(dir, e.Name())
		// Grove's own record is written at exec; PgBouncer writes its
		// pidfile only after it listens, so a crash in between leaves none.
		b, err := os.ReadFile(filepath.Join(sub, startedPidFile))
		if err != nil {
			b, err = os.ReadFile(filepath.Join(sub, "pgbouncer.pid"))
		}
		if err == nil {
			pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
			cmdline, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
			if pid > 0 && strings.Contains(string(cmdline), filepath.Join(sub, "pgbouncer.ini")) {
				_ = syscall.Kill(pid, syscall.SIGKILL)
				log.Warn("pooler: killed a stale PgBouncer", "pid", pid, "dir", sub)
			}
		}
		_ = os.RemoveAll(sub)
	}
}

// Binary is the PgBouncer the manager runs.
func (m *Manager) Binary() Binary { return m.cfg.Binary }

// dirFor is the folder of an endpoint's pooler: its id, or a hash of it when
// the id would make the socket path too long.
func (m *Manager) dirFor(id string) string {
	if len(m.cfg.Dir)+1+len(id)+len("/.s.PGSQL.6432") <= 107 {
		return filepath.Join(m.cfg.Dir, id)
	}
	h := sha256.Sum256([]byte(id))
	return filepath.Join(m.cfg.Dir, "h-"+hex.EncodeToString(h[:7]))
}

func (m *Manager) settings(t Target) iniSettings {
	s := iniSettings{
		ComputeSocketDir: t.SocketDir,
		SocketDir:        m.dirFor(t.ID),
		PoolSize:         poolSize(t.MaxConnections),
		AuthUser:         m.cfg.AuthUser,
		AuthDBName:       m.cfg.Binary.authDBName(),
	}
	if m.cfg.Binary.PreparedStatements() && m.cfg.MaxPreparedStatements > 0 {
		s.MaxPreparedStatements = m.cfg.MaxPreparedStatements
	}
	return s
}

// Ensure returns the Unix socket path of t's pooler, starting it (or
// reloading it with t's settings) when needed. Concurrent calls for one
// endpoint share one start, which outlives a caller that gives up.
func (m *Manager) Ensure(ctx context.Context, t Target) (string, error) {
	if !idPattern.MatchString(t.ID) {
		return "", fmt.Errorf("pooler: invalid endpoint id %q", t.ID)
	}
	if !pathPattern.MatchString(t.SocketDir) {
		return "", fmt.Errorf("pooler %s: invalid compute socket dir %q", t.ID, t.SocketDir)
	}
	if t.MaxConnections <= 0 {
		return "", fmt.Errorf("pooler %s: max_connections %d", t.ID, t.MaxConnections)
	}
	user := t.User
	if user.Name == "" {
		user = m.cfg.User
	}
	if user.Switch && user.UID == 0 {
		return "", fmt.Errorf("pooler %s: PgBouncer must not run as root", t.ID)
	}
	ini := render(m.settings(t))
	m.mu.Lock()
	if b := m.byID[t.ID]; b != nil && !b.stopping && b.alive() && string(b.ini) == string(ini) {
		m.mu.Unlock()
		return b.socket(), nil
	}
	m.mu.Unlock()
	ch := m.starts.DoChan(t.ID, func() (any, error) {
		sctx, cancel := context.WithTimeout(m.life, m.cfg.StartTimeout)
		defer cancel()
		return m.ensure(sctx, t.ID, user, ini)
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return "", r.Err
		}
		return r.Val.(string), nil
	case <-ctx.Done():
		return "", fmt.Errorf("pooler %s: %w", t.ID, ctx.Err())
	}
}

func (m *Manager) ensure(ctx context.Context, id string, user pgrun.User, ini []byte) (string, error) {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return "", ErrClosed
	}
	b := m.byID[id]
	if b != nil && b.stopping {
		m.mu.Unlock()
		// A Stop is under way; wait for it, then start afresh.
		select {
		case <-b.done:
		case <-ctx.Done():
			return "", fmt.Errorf("pooler %s: %w", id, ctx.Err())
		}
		m.mu.Lock()
		if m.byID[id] == b {
			delete(m.byID, id)
		}
		b = nil
	}
	if b != nil && b.alive() {
		if string(b.ini) == string(ini) {
			m.mu.Unlock()
			return b.socket(), nil
		}
		// New settings: rewrite the file and reload.
		if err := m.writeINI(b.dir, ini); err != nil {
			m.mu.Unlock()
			return "", err
		}
		if err := b.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			m.mu.Unlock()
			return "", fmt.Errorf("pooler %s: reload: %w", id, err)
		}
		b.ini = ini
		m.mu.Unlock()
		m.log.Info("pooler reloaded", "endpoint", id)
		return b.socket(), nil
	}
	if b != nil {
		// Died since the last Ensure.
		m.log.Warn("pooler exited; starting it again", "endpoint", id, "err", b.err, "output", b.tail.String())
		delete(m.byID, id)
	}
	m.mu.Unlock()

	begin := time.Now()
	b, err := m.launch(ctx, id, user, ini)
	if err != nil {
		return "", err
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		m.kill(b)
		return "", ErrClosed
	}
	m.byID[id] = b
	m.mu.Unlock()
	m.log.Info("pooler started", "endpoint", id, "took", time.Since(begin).Round(time.Microsecond))
	return b.socket(), nil
}

func (m *Manager) writeINI(dir string, ini []byte) error {
	p := filepath.Join(dir, "pgbouncer.ini")
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, ini, 0o600); err != nil {
		return fmt.Errorf("pooler: write %s: %w", p, err)
	}
	u, err := pgrun.OwnerOf(dir)
	if err != nil {
		return fmt.Errorf("pooler: write %s: %w", p, err)
	}
	if err := u.Own(tmp, 0o600); err != nil {
		return fmt.Errorf("pooler: write %s: %w", p, err)
	}
	if err := os.Rename(tmp, p); err != nil {
		return fmt.Errorf("pooler: write %s: %w", p, err)
	}
	return nil
}

// launch starts PgBouncer in its fresh folder and waits until it accepts
// connections on its socket.
func (m *Manager) launch(ctx context.Context, id string, user pgrun.User, ini []byte) (*bouncer, error) {
	dir := m.dirFor(id)
	if err := os.RemoveAll(dir); err != nil {
		return nil, fmt.Errorf("pooler %s: %w", id, err)
	}
	if err := user.MkdirOwned(dir, 0o700); err != nil {
		return nil, fmt.Errorf("pooler %s: %w", id, err)
	}
	if err := m.writeINI(dir, ini); err != nil {
		return nil, err
	}
	b := &bouncer{id: id, dir: dir, ini: ini, tail: &tailBuffer{max: 4096}, done: make(chan struct{})}
	var out io.Writer = b.tail
	if m.cfg.LogDir != "" {
		f, err := os.OpenFile(filepath.Join(m.cfg.LogDir, id+"-pooler.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
		if err != nil {
			return nil, fmt.Errorf("pooler %s: log: %w", id, err)
		}
		b.logFile = f
		out = io.MultiWriter(f, b.tail)
	}
	cmd := exec.Command(m.cfg.Binary.Path, filepath.Join(dir, "pgbouncer.ini"))
	cmd.SysProcAttr = user.SysProcAttr()
	cmd.Env = []string{"LC_ALL=C.UTF-8", "PATH=/usr/bin:/bin", "TZ=UTC"}
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		if b.logFile != nil {
			b.logFile.Close()
		}
		return nil, fmt.Errorf("pooler %s: exec %s: %w", id, m.cfg.Binary.Path, err)
	}
	b.cmd = cmd
	if err := os.WriteFile(filepath.Join(dir, startedPidFile), []byte(strconv.Itoa(cmd.Process.Pid)), 0o600); err != nil {
		m.log.Warn("pooler: pid record", "endpoint", id, "err", err)
	}
	// Go gives children the soft file limit it started with; max_client_conn
	// needs the hard one. Best effort: PgBouncer runs either way.
	var lim unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &lim) == nil {
		lim.Cur = lim.Max
		_ = unix.Prlimit(cmd.Process.Pid, unix.RLIMIT_NOFILE, &lim, nil)
	}
	go func() {
		b.err = cmd.Wait()
		if b.logFile != nil {
			b.logFile.Close()
		}
		close(b.done)
		m.mu.Lock()
		unexpected := !b.stopping && m.byID[id] == b
		m.mu.Unlock()
		if unexpected {
			m.log.Warn("pooler exited", "endpoint", id, "err", b.err, "output", strings.TrimSpace(b.tail.String()))
		}
	}()
	if err := waitReady(ctx, b); err != nil {
		m.kill(b)
		return nil, fmt.Errorf("pooler %s: start: %w: %s", id, err, strings.TrimSpace(b.tail.String()))
	}
	return b, nil
}

// waitReady dials the pooler's socket until it answers.
func waitReady(ctx context.Context, b *bouncer) error {
	t := time.NewTicker(2 * time.Millisecond)
	defer t.Stop()
	sock := b.socket()
	for {
		if _, err := os.Stat(sock); err == nil {
			if c, err := net.DialTimeout("unix", sock, time.Second); err == nil {
				c.Close()
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-b.done:
			return fmt.Errorf("%w: %v", ErrExited, b.err)
		case <-t.C:
		}
	}
}

// kill ends b's process group at once and waits for it.
func (m *Manager) kill(b *bouncer) {
	m.mu.Lock()
	b.stopping = true
	m.mu.Unlock()
	_ = syscall.Kill(-b.cmd.Process.Pid, syscall.SIGKILL)
	<-b.done
	_ = os.RemoveAll(b.dir)
}

// Stop stops the pooler of endpoint id, if any: an immediate shutdown (its
// compute is gone or going, so there is nothing to wait for), SIGKILL when
// ctx ends first. Its clients are disconnected.
func (m *Manager) Stop(ctx context.Context, id string) error {
	m.mu.Lock()
	b := m.byID[id]
	if b == nil {
		m.mu.Unlock()
		return nil
	}
	b.stopping = true
	m.mu.Unlock()
	err := m.stop(ctx, b)
	m.mu.Lock()
	if m.byID[id] == b {
		delete(m.byID, id)
	}
	m.mu.Unlock()
	if err == nil {
		m.log.Info("pooler stopped", "endpoint", id)
	}
	return err
}

func (m *Manager) stop(ctx context.Context, b *bouncer) error {
	defer os.RemoveAll(b.dir)
	if !b.alive() {
		return nil
	}
	sig := syscall.SIGTERM
	if m.cfg.Binary.quitIsImmediate() {
		sig = syscall.SIGQUIT
	}
	_ = b.cmd.Process.Signal(sig)
	select {
	case <-b.done:
		return nil
	case <-ctx.Done():
	}
	_ = syscall.Kill(-b.cmd.Process.Pid, syscall.SIGKILL)
	<-b.done
	return fmt.Errorf("pooler %s: killed after %w", b.id, ctx.Err())
}

// Running reports whether endpoint id has a live pooler.
func (m *Manager) Running(id string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	b := m.byID[id]
	return b != nil && !b.stopping && b.alive()
}

// Pid is the process id of endpoint id's pooler, 0 when none runs.
func (m *Manager) Pid(id string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	if b := m.byID[id]; b != nil && b.alive() {
		return b.cmd.Process.Pid
	}
	return 0
}

// Close stops every pooler and refuses new ones.
func (m *Manager) Close(ctx context.Context) error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	all := make([]*bouncer, 0, len(m.byID))
	for _, b := range m.byID {
		b.stopping = true
		all = append(all, b)
	}
	m.byID = map[string]*bouncer{}
	m.mu.Unlock()
	m.end()
	var wg sync.WaitGroup
	errs := make([]error, len(all))
	for i, b := range all {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = m.stop(ctx, b)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// tailBuffer keeps the last max bytes written.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append([]byte(nil), t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
