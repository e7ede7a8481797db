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

	"github.com/grovedb/grove/internal/grovetest"
	"github.com/grovedb/grove/internal/pgrun"
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
type bareFloor struct{ opts pgrun.Options }

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
	user, err := pgrun.EnsureUser("grove-pg")
	if err != nil {
		b.Fatal(err)
	}
	sock := filepath.Join(b.TempDir(), "sock")
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
	return &bareFloor{opts: pgrun.Options{Install: install, User: user, DataDir: vol, SocketDir: sock}}
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
// run straight to the compute's socket.
func BenchmarkPgbenchSelect(b *testing.B) {
	g := startOnBtrfs(b, 4096, false)
	cp := createProject(b, g, g.OrgID("sponsored"))
	uri := cp.ConnectionURIs[0].ConnectionURI
	u, err := url.Parse(uri)
	if err != nil {
		b.Fatal(err)
	}
	pw, _ := u.User.Password()
	runDir := regexp.MustCompile(`run_dir=(\S+)`).FindStringSubmatch(g.Logs())
	if runDir == nil {
		b.Fatal("grove did not log its run dir")
	}
	direct := fmt.Sprintf("host=%s user=%s password=%s dbname=%s", filepath.Join(runDir[1], cp.Endpoints[0].ID),
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
	b.ReportMetric(straight, "direct_tps")
	b.ReportMetric(viaProxy, "proxy_tls_tps")
	b.ReportMetric(plain, "proxy_plain_tps")
	b.ReportMetric(viaProxy/straight, "tls_over_direct")
	b.ReportMetric(plain/straight, "plain_over_direct")
}
