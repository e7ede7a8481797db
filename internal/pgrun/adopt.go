package pgrun

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sys/unix"
)

// Adopting a postmaster.
//
// A server started by an earlier process (a Grove killed, or one that left
// its servers running for the next) is not this process's child: it cannot
// be waited for, and its pid may be reused once it exits. Adopt opens a
// pidfd on it, which names that process and no other, signals it through
// the pidfd and learns of its exit by polling the pidfd in Go's network
// poller (no thread blocks per server).

// ErrNoServer means no postmaster runs on the data directory.
var ErrNoServer = errors.New("no postmaster running")

// ErrMismatch means a postmaster runs on the data directory but not as
// Options would start it (binary, settings, OS identity or socket), or it
// does not accept connections: it is not adopted.
var ErrMismatch = errors.New("running postmaster does not match")

// errAdoptedExit is the exit status of an adopted server, which only its
// parent can read.
var errAdoptedExit = errors.New("adopted postgres exited (exit status unknown)")

// Running returns the pid of the postmaster running on dataDir, from its
// postmaster.pid, or 0 when there is none.
func Running(dataDir string) int {
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	if err != nil || pid <= 1 || !isPostgres(pid, dataDir) {
		return 0
	}
	return pid
}

// Adopt takes over the postmaster running on opts.DataDir, which must run
// opts.Install's postgres with every one of opts.Settings, as opts.User,
// be ready, and accept a connection of AdminRole on the socket in
// opts.SocketDir (checked within a few seconds), on which check, when
// set, runs too (one connection serves both). It returns ErrNoServer
// when none runs and an error wrapping ErrMismatch when one runs that does
// not qualify; the caller stops that one. Stop, Kill, Done and Pid work on
// the result as on a started server; ExitErr only says that it exited.
func Adopt(ctx context.Context, opts Options, check func(context.Context, *pgx.Conn) error) (*Server, error) {
	pid := Running(opts.DataDir)
	if pid == 0 {
		return nil, ErrNoServer
	}
	if err := matches(pid, opts); err != nil {
		return nil, fmt.Errorf("adopt postgres %d on %s: %w: %v", pid, opts.DataDir, ErrMismatch, err)
	}
	w, err := watchPid(pid)
	if err != nil {
		return nil, fmt.Errorf("adopt postgres %d on %s: %w", pid, opts.DataDir, err)
	}
	// The pidfd names a process that may have replaced the one checked.
	if !isPostgres(pid, opts.DataDir) {
		w.close()
		return nil, ErrNoServer
	}
	s := &Server{opts: opts, pid: pid, watch: w, done: make(chan struct{}), err: errAdoptedExit}
	go func() {
		w.wait()
		w.close()
		close(s.done)
	}()
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := s.Connect(cctx, "postgres")
	if err == nil && check != nil {
		err = check(cctx, conn)
	}
	if conn != nil {
		_ = conn.Close(context.WithoutCancel(ctx))
	}
	if err != nil {
		w.close()
		return nil, fmt.Errorf("adopt postgres %d on %s: %w: %v", pid, opts.DataDir, ErrMismatch, err)
	}
	return s, nil
}

// matches checks a running postmaster against opts: binary, the -c
// settings, OS identity, and readiness in postmaster.pid.
func matches(pid int, opts Options) error {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return err
	}
	args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
	if bin := opts.Install.Bin("postgres"); args[0] != bin {
		return fmt.Errorf("runs %s, not %s", args[0], bin)
	}
	for k, v := range opts.Settings {
		if !slices.Contains(args, k+"="+v) {
			return fmt.Errorf("runs without %s=%s", k, v)
		}
	}
	if opts.User.Switch {
		uid, err := procUID(pid)
		if err != nil {
			return err
		}
		if uid != opts.User.UID {
			return fmt.Errorf("runs as uid %d, not %d", uid, opts.User.UID)
		}
	}
	pf, err := os.ReadFile(filepath.Join(opts.DataDir, "postmaster.pid"))
	if err != nil {
		return err
	}
	lines := strings.Split(string(pf), "\n")
	// "ready" once it accepts connections; "standby" on a hot standby.
	if len(lines) < 8 || (strings.TrimSpace(lines[7]) != "ready" && strings.TrimSpace(lines[7]) != "standby") {
		return errors.New("not ready")
	}
	return nil
}

// procUID is the real uid of a process.
func procUID(pid int) (uint32, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "Uid:"); ok {
			f := strings.Fields(rest)
			if len(f) == 0 {
				break
			}
			uid, err := strconv.ParseUint(f[0], 10, 32)
			return uint32(uid), err
		}
	}
	return 0, fmt.Errorf("no uid in /proc/%d/status", pid)
}

// signal sends sig to the postmaster: through the pidfd of an adopted one.
func (s *Server) signal(sig syscall.Signal) {
	if s.watch != nil {
		s.watch.signal(sig)
		return
	}
	_ = s.cmd.Process.Signal(sig)
}

// pidWatch is a pidfd registered with Go's network poller: it becomes
// readable when the process exits.
type pidWatch struct {
	f *os.File
}

func watchPid(pid int) (*pidWatch, error) {
	fd, err := unix.PidfdOpen(pid, unix.PIDFD_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("pidfd of %d: %w", pid, err)
	}
	return &pidWatch{f: os.NewFile(uintptr(fd), "pidfd:"+strconv.Itoa(pid))}, nil
}

// exited reports whether the process of a pidfd has exited, without waiting.
func exited(fd uintptr) bool {
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	n, err := unix.Poll(pfd, 0)
	return err == nil && n > 0 && pfd[0].Revents&(unix.POLLIN|unix.POLLHUP|unix.POLLERR|unix.POLLNVAL) != 0
}

// wait returns once the process has exited (or the pidfd is closed).
func (w *pidWatch) wait() {
	rc, err := w.f.SyscallConn()
	if err == nil {
		// Read calls the function again each time the poller reports the
		// descriptor readable, until it returns true.
		err = rc.Read(exited)
	}
	if err == nil || errors.Is(err, os.ErrClosed) {
		return
	}
	// Not in the poller: fall back to a poll on a thread of its own.
	_ = rc.Control(func(fd uintptr) {
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		for {
			if _, err := unix.Poll(pfd, -1); !errors.Is(err, unix.EINTR) {
				return
			}
		}
	})
}

func (w *pidWatch) signal(sig syscall.Signal) {
	rc, err := w.f.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) { _ = unix.PidfdSendSignal(int(fd), sig, nil, 0) })
}

func (w *pidWatch) close() { _ = w.f.Close() }

// StopPid stops the postmaster pid if it still runs on dataDir (fast
// shutdown, SIGKILL after 10 s) and waits for it to exit. A later server
// on dataDir, with another pid, is left alone.
func StopPid(ctx context.Context, dataDir string, pid int) error {
	w, err := watchPid(pid)
	if err != nil {
		return nil // gone already
	}
	defer w.close()
	if !isPostgres(pid, dataDir) {
		return nil
	}
	w.signal(syscall.SIGINT)
	done := make(chan struct{})
	go func() { w.wait(); close(done) }()
	t := time.NewTimer(10 * time.Second)
	defer t.Stop()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
	}
	w.signal(syscall.SIGKILL)
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// logTo sends a server's stderr to log and keeps its tail in logs for
// error messages. A log that is a file is the server's own stderr, which
// it keeps writing when this process is gone and its server adopted; the
// tail is then read back from the file's end at the start (logFrom).
func logTo(cmd *exec.Cmd, log io.Writer, logs *tailBuffer) (logFile *os.File, logFrom int64) {
	if f, ok := log.(*os.File); ok {
		if off, err := f.Seek(0, io.SeekEnd); err == nil {
			cmd.Stderr = f
			return f, off
		}
	}
	if log != nil {
		cmd.Stderr = io.MultiWriter(log, logs)
	} else {
		cmd.Stderr = logs
	}
	return nil, 0
}

// readFrom adds to t what f holds past off (the log a server wrote itself).
func (t *tailBuffer) readFrom(f *os.File, off int64) {
	if f == nil {
		return
	}
	r, err := os.Open(f.Name())
	if err != nil {
		return
	}
	defer r.Close()
	if _, err := r.Seek(max(off, 0), io.SeekStart); err == nil {
		_, _ = io.Copy(t, r)
	}
}

// Reload asks the server to read its configuration files again (SIGHUP).
func (s *Server) Reload() { s.signal(syscall.SIGHUP) }
