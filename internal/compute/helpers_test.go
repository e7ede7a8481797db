package compute_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/grovedb/grove/internal/compute"
	"github.com/grovedb/grove/internal/pgconf"
	"github.com/grovedb/grove/internal/pgtest"
	"github.com/grovedb/grove/internal/pgversion"
	"github.com/grovedb/grove/internal/storage"
)

// copyTree copies src to dst keeping modes and owners (to seed a test's
// volume root with the cached template).
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p != src {
				return nil
			}
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		fi, err := d.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		switch {
		case d.IsDir():
			if err := os.Mkdir(target, fi.Mode().Perm()); err != nil {
				return err
			}
		case fi.Mode().IsRegular():
			if err := copyFile(p, target, fi.Mode().Perm()); err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil
				}
				return err
			}
		case fi.Mode()&fs.ModeSymlink != 0:
			l, err := os.Readlink(p)
			if err != nil {
				return err
			}
			if err := os.Symlink(l, target); err != nil {
				return err
			}
		default:
			return nil // sockets and the like
		}
		if err := os.Lchown(target, int(st.Uid), int(st.Gid)); err != nil {
			return err
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			return nil
		}
		return os.Chmod(target, fi.Mode().Perm()) // past the umask
	})
}

func copyFile(src, dst string, mode os.FileMode) error {
	r, err := os.Open(src)
	if err != nil {
		return err
	}
	defer r.Close()
	w, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, r); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}

// Templates are made once per test binary and major, then copied into each
// test's volume root, where EnsureTemplates finds and keeps them.
var (
	tmplMu   sync.Mutex
	tmplDirs = map[int]string{}
	tmplRoot string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if tmplRoot != "" {
		os.RemoveAll(tmplRoot)
	}
	os.Exit(code)
}

func cachedTemplate(t testing.TB, in pgversion.Install) string {
	t.Helper()
	tmplMu.Lock()
	defer tmplMu.Unlock()
	if d, ok := tmplDirs[in.Major]; ok {
		return d
	}
	if tmplRoot == "" {
		d, err := os.MkdirTemp("", "grove-compute-tmpl-")
		if err != nil {
			t.Fatal(err)
		}
		pgtest.MakeTraversable(t, d)
		tmplRoot = d
	}
	root := filepath.Join(tmplRoot, strconv.Itoa(in.Major))
	if err := os.Mkdir(root, 0o711); err != nil {
		t.Fatal(err)
	}
	vols, err := storage.Open(t.Context(), storage.NameCopy, root)
	if err != nil {
		t.Fatal(err)
	}
	m, err := compute.New(compute.Config{
		Installs: []pgversion.Install{in}, User: pgtest.User(t), Volumes: vols,
		RunDir: pgtest.ShortDir(t), PoolSize: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close(context.Background())
	if err := m.EnsureTemplates(t.Context()); err != nil {
		t.Fatal(err)
	}
	tmplDirs[in.Major] = filepath.Join(root, compute.TemplateID(in.Major))
	return tmplDirs[in.Major]
}

type env struct {
	m      *compute.Manager
	vols   storage.Driver
	major  int
	events *eventLog
}

type eventLog struct {
	mu     sync.Mutex
	events []compute.Event
}

func (l *eventLog) add(e compute.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

func (l *eventLog) count(id string, kind compute.EventKind) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, e := range l.events {
		if e.ID == id && e.Kind == kind {
			n++
		}
	}
	return n
}

// newEnv returns a manager on a fresh volume root holding the default
// major's template, closed when the test ends. Run is not started.
func newEnv(t testing.TB, opts ...func(*compute.Config)) *env {
	t.Helper()
	if testing.Short() {
		t.Skip("needs PostgreSQL")
	}
	in := pgtest.Install(t, 0)
	root := pgtest.Dir(t)
	if base := os.Getenv("GROVE_COMPUTE_TEST_ROOT"); base != "" {
		// e.g. /dev/shm, to measure without the disk
		d, err := os.MkdirTemp(base, "grove-compute-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(d) })
		pgtest.MakeTraversable(t, d)
		root = d
	}
	vols, err := storage.Open(t.Context(), storage.NameCopy, filepath.Join(root, "vols"))
	if err != nil {
		t.Fatal(err)
	}
	if err := copyTree(cachedTemplate(t, in), vols.Path(compute.TemplateID(in.Major))); err != nil {
		t.Fatal(err)
	}
	events := &eventLog{}
	cfg := compute.Config{
		Installs:          []pgversion.Install{in},
		User:              pgtest.User(t),
		Volumes:           vols,
		RunDir:            pgtest.ShortDir(t),
		LogDir:            filepath.Join(root, "logs"),
		PoolSize:          -1,
		Host:              pgconf.Host{MemoryBytes: 24 << 30, CPUs: 2},
		IdleCheckInterval: 10 * time.Millisecond,
		Logger:            slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if ids := pgtest.Identities(t); ids != nil {
		cfg.Identities = ids
	}
	for _, o := range opts {
		o(&cfg)
	}
	m, err := compute.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m.Subscribe(events.add)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := m.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	if err := m.EnsureTemplates(t.Context()); err != nil {
		t.Fatal(err)
	}
	return &env{m: m, vols: vols, major: in.Major, events: events}
}

// run starts the manager's Run loop until the test ends.
func (e *env) run(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// postmasters lists the postgres processes running with -D dataDir.
func postmasters(t testing.TB, dataDir string) []int {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(string(b), "\x00")
		for i, a := range args {
			if a == "-D" && i+1 < len(args) && filepath.Clean(args[i+1]) == filepath.Clean(dataDir) {
				pids = append(pids, pid)
			}
		}
	}
	// Children forked a moment ago still show the postmaster's argv: keep
	// only the processes whose parent is not in the list.
	in := map[int]bool{}
	for _, p := range pids {
		in[p] = true
	}
	var roots []int
	for _, p := range pids {
		if !in[ppid(p)] {
			roots = append(roots, p)
		}
	}
	return roots
}

func ppid(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 2 {
		return 0
	}
	p, _ := strconv.Atoi(f[1])
	return p
}

// processesOf lists every process whose cmdline or cwd refers to dataDir
// (the postmaster and its children, which keep the postmaster's cwd).
func processesOf(t testing.TB, dataDir string) []int {
	t.Helper()
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if cwd, err := os.Readlink(filepath.Join("/proc", e.Name(), "cwd")); err == nil && filepath.Clean(cwd) == filepath.Clean(dataDir) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func queryInt(t testing.TB, in *compute.Instance, db, sql string) int64 {
	t.Helper()
	conn, err := in.Conn(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var v int64
	if err := conn.QueryRow(t.Context(), sql).Scan(&v); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return v
}

func exec(t testing.TB, in *compute.Instance, db, sql string) {
	t.Helper()
	if err := in.Exec(t.Context(), db, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}
