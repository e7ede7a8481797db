package bench

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/grovedb/grove/apitypes"
	"github.com/grovedb/grove/internal/grovetest"
	"github.com/grovedb/grove/internal/pgrun"
	"github.com/grovedb/grove/internal/pgtest"
	"github.com/grovedb/grove/internal/pgversion"
	"github.com/jackc/pgx/v5"
)

func runOut(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	return string(out), err
}

// bareFloor starts Postgres on a stopped cluster and answers a first query
// on its socket: the floor any wake-up stands on. The cluster is a
// suspended project's own volume, so the floor has the same files, settings
// and file system as the wake-ups it is compared with.
type bareFloor struct {
	opts    pgrun.Options
	project apitypes.CreatedProject
}

// newBareFloor creates a project, finds its volume while it runs, and
// suspends it. Grove leaves a suspended project's volume alone until a
// client connects, and none does.
func newBareFloor(b *testing.B, g *grovetest.Grove, org string) *bareFloor {
	b.Helper()
	cp := createProject(b, g, org)
	ep := cp.Endpoints[0].ID
	if err := firstQuery(b.Context(), cp.ConnectionURIs[0].ConnectionURI); err != nil {
		b.Fatal(err)
	}
	pids, _ := filepath.Glob(filepath.Join(g.DataDir, "volumes", "*", "postmaster.pid"))
	vol := ""
	for _, p := range pids {
		if raw, err := os.ReadFile(p); err == nil && strings.Contains(string(raw), ep) {
			vol = filepath.Dir(p)
		}
	}
	if vol == "" {
		b.Fatalf("no running volume has the socket of %s", ep)
	}
	if st, raw := g.API("POST", "/projects/"+cp.Project.ID+"/endpoints/"+ep+"/suspend", nil, nil); st != 200 {
		b.Fatalf("suspend: %d %s", st, raw)
	}
	if _, err := os.Stat(filepath.Join(vol, "postmaster.pid")); err == nil {
		b.Fatalf("%s still running after suspend", vol)
	}
	// The project's own OS identity, as its compute runs.
	user, err := pgrun.OwnerOf(vol)
	if err != nil {
		b.Fatal(err)
	}
	sock := filepath.Join(b.TempDir(), "sock")
	pgtest.MakeTraversable(b, filepath.Dir(sock))
	if err := user.MkdirOwned(sock, 0o700); err != nil {
		b.Fatal(err)
	}
	installs, err := pgversion.Find(b.Context(), pgversion.DefaultDirs()...)
	if err != nil {
		b.Fatal(err)
	}
	install, ok := pgversion.Pick(installs, cp.Project.PgVersion)
	if !ok {
		b.Fatalf("Postgres %d not installed", cp.Project.PgVersion)
	}
	return &bareFloor{opts: pgrun.Options{Install: install, User: user, DataDir: vol, SocketDir: sock}, project: cp}
}

// once measures exec postgres → first query answered, then stops it.
func (f *bareFloor) once(b *testing.B) time.Duration {
	b.Helper()
	ctx := context.Background()
	start := time.Now()
	s, err := pgrun.Start(ctx, f.opts)
	if err != nil {
		b.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, s.AdminDSN("postgres"))
	if err != nil {
		b.Fatal(err)
	}
	var one int
	if err := conn.QueryRow(ctx, "select 1").Scan(&one); err != nil {
		b.Fatal(err)
	}
	d := time.Since(start)
	conn.Close(ctx)
	if err := s.Stop(ctx); err != nil {
		b.Fatal(err)
	}
	return d
}

var tpsRe = regexp.MustCompile(`tps = ([0-9.]+)`)

func pgbench(b *testing.B, conn string, args ...string) float64 {
	b.Helper()
	bin := "/usr/lib/postgresql/15/bin/pgbench"
	if _, err := os.Stat(bin); err != nil {
		b.Skip("pgbench not installed (Debian postgresql-contrib-15)")
	}
	cmd := exec.Command(bin, append(args, conn)...)
	cmd.Env = append(os.Environ(), "PGCONNECT_TIMEOUT=30")
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("pgbench %v: %v: %s", args, err, out)
	}
	m := tpsRe.FindStringSubmatch(string(out))
	if m == nil {
		return 0
	}
	tps, _ := strconv.ParseFloat(m[1], 64)
	return tps
}

// BenchmarkPgbenchSelect compares pgbench -S through the proxy with the same
// run straight to the compute's socket. The compute has a fixed size of
// 1 CU (a vCPU, enforced by its cgroup where the machine has one), so that
// both runs meet the same server and the autoscaler moves nothing between
// them.
func BenchmarkPgbenchSelect(b *testing.B) {
	// The plaintext run needs the proxy to accept logins without TLS.
	g := startOnBtrfs(b, 4096, false, "--allow-plaintext")
	cp := createProject(b, g, g.OrgID("sponsored"))
	path := "/projects/" + cp.Project.ID + "/endpoints/" + cp.Endpoints[0].ID
	if st, raw := g.API("PATCH", path, `{"endpoint":{"autoscaling_limit_min_cu":1,"autoscaling_limit_max_cu":1}}`, nil); st != 200 {
		b.Fatalf("fix the size at 1 CU: %d %s", st, raw)
	}
	uri := cp.ConnectionURIs[0].ConnectionURI
	u, err := url.Parse(uri)
	if err != nil {
		b.Fatal(err)
	}
	pw, _ := u.User.Password()
	direct := fmt.Sprintf("host=%s user=%s password=%s dbname=%s", filepath.Join(g.RunDir(), cp.Endpoints[0].ID),
		u.User.Username(), pw, strings.TrimPrefix(u.Path, "/"))
	// Keep the endpoint awake: a client stays connected for the whole run.
	keep, err := pgx.Connect(b.Context(), uri)
	if err != nil {
		b.Fatal(err)
	}
	defer keep.Close(context.Background())
	pgbench(b, direct, "-i", "-q", "-s", "1")
	args := []string{"-S", "-n", "-c", "8", "-j", "2", "-T", "15"}
	b.ResetTimer()
	var viaProxy, plain, straight float64
	plainURI := strings.Replace(uri, "sslmode=require", "sslmode=disable", 1)
	for i := 0; i < b.N; i++ {
		straight = pgbench(b, direct, args...)
		viaProxy = pgbench(b, uri, args...)
		plain = pgbench(b, plainURI, args...)
	}
	metric(b, straight, "direct_tps")
	metric(b, viaProxy, "proxy_tls_tps")
	metric(b, plain, "proxy_plain_tps")
	metric(b, viaProxy/straight, "tls_over_direct")
	metric(b, plain/straight, "plain_over_direct")
}

// BenchmarkPgbenchHops measures what one extra hop costs on this machine,
// whatever the proxy: the same pgbench -S against one Postgres over its Unix
// socket, over TCP loopback, and through PgBouncer (TCP in, Unix socket out,
// session mode). It is the yardstick for BenchmarkPgbenchSelect's ratio.
func BenchmarkPgbenchHops(b *testing.B) {
	port := strings.TrimPrefix(grovetest.FreeAddr(b), "127.0.0.1:")
	srv := pgtest.Start(b, pgtest.WithSettings(map[string]string{
		"listen_addresses": "127.0.0.1", "port": port, "max_connections": "100", "shared_buffers": "128MB", "fsync": "on"}))
	hba := filepath.Join(srv.DataDir(), "pg_hba.conf")
	f, err := os.OpenFile(hba, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	fmt.Fprintln(f, "host all all 127.0.0.1/32 scram-sha-256")
	f.Close()
	admin := fmt.Sprintf("host=%s port=%s user=cloud_admin dbname=postgres", srv.SocketDir(), port)
	conn, err := pgx.Connect(b.Context(), admin)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(context.Background())
	for _, q := range []string{"SELECT pg_reload_conf()", "CREATE ROLE bench LOGIN PASSWORD 'bench-pw'", "CREATE DATABASE bench OWNER bench"} {
		if _, err := conn.Exec(b.Context(), q); err != nil {
			b.Fatal(err)
		}
	}
	var verifier string
	if err := conn.QueryRow(b.Context(), "SELECT rolpassword FROM pg_authid WHERE rolname = 'bench'").Scan(&verifier); err != nil {
		b.Fatal(err)
	}
	unix := fmt.Sprintf("host=%s port=%s user=bench password=bench-pw dbname=bench", srv.SocketDir(), port)
	tcp := fmt.Sprintf("host=127.0.0.1 port=%s user=bench password=bench-pw dbname=bench sslmode=disable", port)
	bouncer := startPgBouncer(b, srv.SocketDir(), port, verifier)
	pgbench(b, unix, "-i", "-q", "-s", "1")
	args := []string{"-S", "-n", "-c", "8", "-j", "2", "-T", "15"}
	b.ResetTimer()
	var u, t, pb float64
	for range b.N {
		u = pgbench(b, unix, args...)
		t = pgbench(b, tcp, args...)
		pb = pgbench(b, bouncer, args...)
	}
	metric(b, u, "unix_tps")
	metric(b, t/u, "tcp_over_unix")
	metric(b, pb/u, "pgbouncer_over_unix")
}

// startPgBouncer runs Debian's PgBouncer as the Postgres OS user in front of
// the socket in sockDir, and returns a connection string to it.
func startPgBouncer(b *testing.B, sockDir, pgPort, verifier string) string {
	b.Helper()
	bin := "/usr/sbin/pgbouncer"
	if _, err := os.Stat(bin); err != nil {
		b.Skip("pgbouncer not installed (Debian pgbouncer; make setup)")
	}
	user, err := pgrun.EnsureUser("grove-pg")
	if err != nil {
		b.Fatal(err)
	}
	dir := filepath.Join(b.TempDir(), "pgbouncer")
	if err := user.MkdirOwned(dir, 0o700); err != nil {
		b.Fatal(err)
	}
	port := strings.TrimPrefix(grovetest.FreeAddr(b), "127.0.0.1:")
	ini := fmt.Sprintf(`[databases]
bench = host=%s port=%s dbname=bench
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %s
unix_socket_dir =
auth_type = scram-sha-256
auth_file = %s/userlist.txt
pool_mode = session
max_client_conn = 100
default_pool_size = 20
logfile = %s/pgbouncer.log
`, sockDir, pgPort, port, dir, dir)
	for name, body := range map[string]string{"pgbouncer.ini": ini, "userlist.txt": fmt.Sprintf("%q %q\n", "bench", verifier)} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			b.Fatal(err)
		}
		if err := user.Own(p, 0o600); err != nil {
			b.Fatal(err)
		}
	}
	cmd := exec.Command(bin, "-u", user.Name, filepath.Join(dir, "pgbouncer.ini"))
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	dsn := fmt.Sprintf("host=127.0.0.1 port=%s user=bench password=bench-pw dbname=bench sslmode=disable", port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := pgx.Connect(b.Context(), dsn)
		if err == nil {
			c.Close(context.Background())
			return dsn
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "pgbouncer.log"))
			b.Fatalf("pgbouncer not answering: %v\n%s", err, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
