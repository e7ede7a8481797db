// Package grovetest runs a real `grove serve` process for whole-system tests
// and benchmarks, and drives it through its HTTP API and real Postgres
// clients. It skips, with the reason, where that is impossible.
package grovetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/grovedb/grove/apitypes"
	"github.com/grovedb/grove/internal/pgtest"
	"github.com/grovedb/grove/internal/pgversion"
	"github.com/grovedb/grove/internal/storage"
)

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// groveBinary builds cmd/grove once per test run.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		// One folder for every test binary, so that builds do not pile up;
		// each builds under its own name and renames into place atomically.
		dir := filepath.Join(os.TempDir(), "grove-test-bin")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			buildErr = err
			return
		}
		root, err := repoRoot()
		if err != nil {
			buildErr = err
			return
		}
		tmp := filepath.Join(dir, fmt.Sprintf("grove-%d", os.Getpid()))
		cmd := exec.Command("go", "build", "-o", tmp, "./cmd/grove")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v: %s", err, out)
			return
		}
		binary = filepath.Join(dir, "grove")
		buildErr = os.Rename(tmp, binary)
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binary
}

// Grove is a running grove serve.
type Grove struct {
	t        testing.TB
	DataDir  string
	APIAddr  string
	PGAddr   string
	Key      string
	cmd      *exec.Cmd
	done     chan struct{}
	logs     *syncBuffer
	HTTPAddr string
	// Check, when set, sees every API response (e.g. to validate it against the spec).
	Check func(method, path string, status int, header http.Header, body []byte)
	args  []string
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// Start runs grove serve on a fresh data dir and waits until it answers.
func Start(t testing.TB, extra ...string) *Grove {
	t.Helper()
	if testing.Short() {
		t.Skip("whole-system test; skipped with -short")
	}
	if os.Geteuid() != 0 {
		t.Skip("whole-system tests run as root (Postgres runs as a dropped-privilege user)")
	}
	if _, err := pgversion.Find(t.Context()); err != nil {
		t.Skipf("PostgreSQL not installed (run scripts/setup.sh): %v", err)
	}
	return StartIn(t, filepath.Join(pgtest.Dir(t), "data"), extra...)
}

// StartIn runs grove serve on the given data dir.
func StartIn(t testing.TB, dataDir string, extra ...string) *Grove {
	t.Helper()
	g := &Grove{t: t, DataDir: dataDir, HTTPAddr: FreeAddr(t), APIAddr: FreeAddr(t), PGAddr: FreeAddr(t)}
	g.args = append([]string{"serve", "--data-dir", g.DataDir, "--api-addr", g.APIAddr, "--pg-addr", g.PGAddr,
		"--http-addr", g.HTTPAddr,
		// Tests drive the API faster than Neon's rate limits allow; those
		// that test the limits set theirs in extra (the last flag wins).
		"--rate-limit-per-minute", "0", "--rate-limit-per-route-per-second", "0",
		// Tests serve their identity providers' JWKS on this host.
		"--jwks-allow-private"}, extra...)
	g.Start()
	t.Cleanup(func() {
		g.Stop()
		if t.Failed() {
			t.Logf("grove logs:\n%s", g.logs.String())
		}
		// A grove killed, or stopped with SIGTERM, leaves its servers running.
		killLeft(t, dataDir)
		if m := runDirRe.FindStringSubmatch(g.logs.String()); m != nil && !strings.HasPrefix(m[1], dataDir) {
			for _, suffix := range []string{"", "-meta"} {
				_ = os.RemoveAll(m[1] + suffix)
			}
		}
		// The volumes' image (storage.OpenImage) goes without a volume
		// deleted one by one: the data dir's removal takes it.
		unmount(t, filepath.Join(dataDir, "volumes"))
		removeVolumes(t, filepath.Join(dataDir, "volumes"))
		unmount(t, filepath.Join(dataDir, "meta"))
	})
	return g
}

// killLeft kills the postmasters running on data directories under dir
// (computes and the metadata cluster a grove left running) and waits
// until they are gone.
func killLeft(t testing.TB, dir string) {
	pids := PostgresPids(dir)
	for _, pid := range pids {
		_ = syscall.Kill(-pid, syscall.SIGKILL) // its process group: backends too
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, pid := range pids {
		for alive(pid) {
			if time.Now().After(deadline) {
				t.Logf("postmaster %d still running after SIGKILL", pid)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// alive reports whether pid runs (a zombie, which only waits for its
// parent to reap it, does not).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || i+2 >= len(b) || b[i+2] != 'Z'
}

// unmount unmounts a file system of grove's own (the volumes' btrfs image,
// the metadata reserve) that a grove killed and not started again left
// mounted at dir, stopping the Postgres servers on it first, so that the
// data dir can be removed.
func unmount(t testing.TB, dir string) {
	var st, parent syscall.Stat_t
	if syscall.Stat(dir, &st) != nil || syscall.Stat(filepath.Dir(dir), &parent) != nil || st.Dev == parent.Dev {
		return // not a mount point
	}
	for _, pid := range PostgresPids(dir) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := exec.Command("umount", dir).CombinedOutput()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Logf("umount %s: %v: %s; detaching it lazily", dir, err, out)
			_ = exec.Command("umount", "-l", dir).Run()
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// removeVolumes deletes the volumes grove left through its storage
// driver: read-only ones (snapshots) are immutable files on the copy and
// reflink drivers, which a plain RemoveAll cannot delete.
func removeVolumes(t testing.TB, root string) {
	if _, err := os.Stat(root); err != nil {
		return
	}
	ctx := context.Background()
	d, err := storage.Probe(ctx, root)
	if err != nil {
		t.Logf("remove volumes: %v", err)
		return
	}
	ids, err := d.List(ctx)
	if err != nil {
		t.Logf("remove volumes: %v", err)
		return
	}
	for _, id := range ids {
		if err := d.Delete(ctx, id); err != nil {
			t.Logf("remove volume %s: %v", id, err)
		}
	}
}

// Start (re)starts the process and waits until it is ready.
func (g *Grove) Start() {
	t := g.t
	t.Helper()
	g.logs = &syncBuffer{}
	g.cmd = exec.Command(Binary(t), g.args...)
	g.cmd.Stdout = g.logs
	g.cmd.Stderr = g.logs
	g.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := g.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	g.done = make(chan struct{})
	go func() { _ = g.cmd.Wait(); close(g.done) }()
	deadline := time.Now().Add(3 * time.Minute)
	for !strings.Contains(g.logs.String(), "grove: ready") {
		select {
		case <-g.done:
			t.Fatalf("grove exited during start:\n%s", g.logs.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("grove not ready after 3 minutes:\n%s", g.logs.String())
		}
	}
	key, err := os.ReadFile(filepath.Join(g.DataDir, "admin-api-key"))
	if err != nil {
		t.Fatal(err)
	}
	g.Key = strings.TrimSpace(string(key))
}

// Stop sends SIGINT, which stops every server, and waits for a clean exit.
func (g *Grove) Stop() { g.signal(syscall.SIGINT) }

// Terminate sends SIGTERM, as an upgrade does, and waits for a clean
// exit: grove leaves its computes and its metadata cluster running for the
// next grove to adopt (the test's cleanup kills them).
func (g *Grove) Terminate() { g.signal(syscall.SIGTERM) }

func (g *Grove) signal(sig syscall.Signal) {
	if g.cmd == nil || g.cmd.Process == nil {
		return
	}
	select {
	case <-g.done:
		return
	default:
	}
	_ = g.cmd.Process.Signal(sig)
	select {
	case <-g.done:
	case <-time.After(90 * time.Second):
		_ = syscall.Kill(-g.cmd.Process.Pid, syscall.SIGKILL)
		<-g.done
		g.t.Errorf("grove did not stop within 90 s of %v", sig)
	}
}

// Kill sends SIGKILL to grove alone (its Postgres children survive, as after a crash).
func (g *Grove) Kill() {
	_ = g.cmd.Process.Kill()
	<-g.done
}

// API sends a request and decodes a JSON response into out (when not nil).
func (g *Grove) API(method, path string, body any, out any) (int, []byte) {
	g.t.Helper()
	st, raw, err := g.do(method, path, body, out)
	if err != nil {
		g.t.Fatalf("%s %s: %v", method, path, err)
	}
	return st, raw
}

// TryAPI is API for calls that may fail at the transport (status 0), such
// as those in flight while the process is killed. It may run on any goroutine.
func (g *Grove) TryAPI(method, path string, body any, out any) (int, []byte) {
	st, raw, err := g.do(method, path, body, out)
	if err != nil {
		return 0, []byte(err.Error())
	}
	return st, raw
}

func (g *Grove) do(method, path string, body any, out any) (int, []byte, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(g.t.Context(), method, "http://"+g.APIAddr+"/api/v2"+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+g.Key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if g.Check != nil {
		g.Check(method, req.URL.Path, resp.StatusCode, resp.Header, raw)
	}
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, raw, fmt.Errorf("decode %s: %w", raw, err)
		}
	}
	return resp.StatusCode, raw, nil
}

// OrgID returns the id of an org by name.
func (g *Grove) OrgID(name string) string {
	g.t.Helper()
	var orgs apitypes.OrganizationsResponse
	if st, raw := g.API("GET", "/users/me/organizations", nil, &orgs); st != 200 {
		g.t.Fatalf("orgs: %d %s", st, raw)
	}
	for _, o := range orgs.Organizations {
		if o.Name == name {
			return o.ID
		}
	}
	g.t.Fatalf("no org %q in %+v", name, orgs)
	return ""
}

// SeedBody is the README's Quickstart create request, exactly as written.
func SeedBody(orgID string) string {
	return `{"project":{"name":"user123-app","org_id":"` + orgID + `","branch":{"name":"main","role_name":"app_user","database_name":"app_db"},"default_endpoint_settings":{"autoscaling_limit_min_cu":0.25,"autoscaling_limit_max_cu":1,"suspend_timeout_seconds":300},"pg_version":17,"region_id":"aws-us-east-2"}}`
}

// CreateSeed makes a project with the seed request.
func (g *Grove) CreateSeed() apitypes.CreatedProject {
	g.t.Helper()
	var cp apitypes.CreatedProject
	st, raw := g.API("POST", "/projects", SeedBody(g.OrgID("sponsored")), &cp)
	if st != 201 {
		g.t.Fatalf("create project: %d %s", st, raw)
	}
	return cp
}

// Psql runs a query with Debian's psql and returns its unaligned output.
func Psql(t testing.TB, uri, query string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "psql", uri, "-XAtq", "-v", "ON_ERROR_STOP=1", "-c", query)
	cmd.Env = append(os.Environ(), "PGCONNECT_TIMEOUT=30")
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// WaitFor polls cond until it is true or a minute passes.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// PostgresPids lists postgres postmasters whose data dir is under dir.
func PostgresPids(dir string) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		var pid int
		if _, err := fmt.Sscanf(e.Name(), "%d", &pid); err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(string(b), "\x00")
		if len(args) < 3 || filepath.Base(args[0]) != "postgres" {
			continue
		}
		for i, a := range args {
			if a == "-D" && i+1 < len(args) && strings.HasPrefix(args[i+1], dir) {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

// Logs returns what grove printed so far.
func (g *Grove) Logs() string { return g.logs.String() }

var runDirRe = regexp.MustCompile(`run_dir=(\S+)`)

// RunDir is the folder of grove's Unix sockets (one per compute, named
// after its endpoint, and the metadata store's, RunDir()+"-meta"), read
// from its log.
func (g *Grove) RunDir() string {
	g.t.Helper()
	m := runDirRe.FindStringSubmatch(g.Logs())
	if m == nil {
		g.t.Fatal("grove did not log its run dir")
	}
	return m[1]
}

// MetaConn connects to grove's internal metadata store as its superuser;
// the connection closes when t ends.
func (g *Grove) MetaConn(t testing.TB) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), fmt.Sprintf("host=%s user=cloud_admin dbname=grove", g.RunDir()+"-meta"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// repoRoot finds the module root above the working directory.
func repoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod above %s", wd)
		}
	}
}
