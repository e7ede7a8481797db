package bench

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/grovedb/grove/internal/grovetest"
	"github.com/grovedb/grove/internal/pgrun"
	"github.com/grovedb/grove/internal/pooler"
	"github.com/grovedb/grove/internal/proxy"
	"github.com/jackc/pgx/v5"
)

var proxyProfile = flag.String("proxy-cpuprofile", "",
	"BenchmarkProxyLatency: write a CPU profile of grove taken during the first one-client run through the proxy (TLS) to this file")

// BenchmarkProxyLatency measures what the proxy adds to each query, and its
// throughput against PgBouncer's, in turns on one run:
//
//   - one client (pgbench -S -c 1) through the proxy over TLS, and straight
//     over TCP to Postgres: the proxy's added latency per query is the
//     difference of the two runs' mean latencies (1/tps). Target ≤ 25 µs.
//   - eight clients (pgbench -S -c 8 -j 2) through the proxy and through
//     PgBouncer, both over TLS, both TCP in and a Unix socket out
//     (PgBouncer in session mode, as the proxy keeps one server connection
//     per client). Target: proxy ≥ PgBouncer.
//
// Grove's Postgres listens only on its Unix socket, so the straight and
// PgBouncer runs go to a twin of the endpoint's compute: a btrfs snapshot of
// its volume taken while it was suspended, run by the benchmark under the
// project's OS identity with the same grove.conf (archiving off) and a TCP
// listener. Both servers run throughout, so the turns alternate every few
// seconds without restarts; Grove runs without cgroups so that neither is
// capped, its compute fixed at 1 CU. The figures are the medians of the
// rounds, the order swapped each round.
//
//	TMPDIR=/dev/shm go test -run '^$' -bench ProxyLatency -benchtime 1x ./bench/
//	(add -args -proxy-cpuprofile /tmp/proxy.pprof for a profile; go tool pprof -top)
func BenchmarkProxyLatency(b *testing.B) {
	flags := []string{"--allow-plaintext", "--cgroups=false", "--autoscale=false"}
	var debugAddr string
	if *proxyProfile != "" {
		debugAddr = grovetest.FreeAddr(b)
		flags = append(flags, "--debug-addr", debugAddr)
	}
	g := startOnBtrfs(b, 4096, false, flags...)
	floor := newBareFloor(b, g, g.OrgID("sponsored")) // suspended
	cp := floor.project
	path := "/projects/" + cp.Project.ID + "/endpoints/" + cp.Endpoints[0].ID
	if st, raw := g.API("PATCH", path, `{"endpoint":{"autoscaling_limit_min_cu":1,"autoscaling_limit_max_cu":1}}`, nil); st != 200 {
		b.Fatalf("fix the size at 1 CU: %d %s", st, raw)
	}
	viaProxy := cp.ConnectionURIs[0].ConnectionURI
	plainProxy := strings.Replace(viaProxy, "sslmode=require", "sslmode=disable", 1)
	u, err := url.Parse(viaProxy)
	if err != nil {
		b.Fatal(err)
	}
	role, db := u.User.Username(), strings.TrimPrefix(u.Path, "/")
	password, _ := u.User.Password()
	// The start at 1 CU writes the grove.conf the twin copies.
	pgbench(b, viaProxy, "-i", "-q", "-s", "1")
	suspend(b, g, path, floor.opts.DataDir)
	twin := newTwin(b, floor, g.DataDir)
	straight := fmt.Sprintf("host=127.0.0.1 port=%s user=%s password=%s dbname=%s sslmode=disable", twin.port, role, password, db)
	bouncer, bouncerPid := twin.startPgBouncer(b, db, role, password)
	grovePid := processOf(b, g.DataDir)
	// Keep the endpoint awake: a client stays connected for the whole run.
	keep, err := pgx.Connect(b.Context(), viaProxy)
	if err != nil {
		b.Fatal(err)
	}
	defer keep.Close(context.Background())
	warm := []string{"-S", "-n", "-c", "8", "-j", "2", "-T", "2"}
	pgbench(b, viaProxy, warm...)
	pgbench(b, straight, warm...)

	const runSeconds = 3
	one := []string{"-S", "-n", "-c", "1", "-T", strconv.Itoa(runSeconds)}
	eight := []string{"-S", "-n", "-c", "8", "-j", "2", "-T", strconv.Itoa(runSeconds)}
	var added, addedPlain, addedBouncer, ratio []float64
	var sum struct{ proxy1, plain1, straight1, proxy8, bouncer8 float64 }
	// CPU time per query, summed over the rounds: unlike latency, it
	// hardly moves with the machine's load.
	var cpu struct{ proxy1, proxy8, bouncer8 time.Duration }
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for r := 0; r < 11; r++ {
			var proxy1, plain1, straight1, bouncer1, proxy8, bouncer8 float64
			proxyRuns := func() {
				var prof *cpuProfile
				if r == 0 && i == 0 && *proxyProfile != "" {
					prof = startCPUProfile(b, debugAddr, 3)
				}
				c0 := cpuTime(b, grovePid)
				proxy1 = pgbench(b, viaProxy, one...)
				c1 := cpuTime(b, grovePid)
				if prof != nil {
					prof.save(b, *proxyProfile)
				}
				plain1 = pgbench(b, plainProxy, one...)
				c2 := cpuTime(b, grovePid)
				proxy8 = pgbench(b, viaProxy, eight...)
				cpu.proxy1 += c1 - c0
				cpu.proxy8 += cpuTime(b, grovePid) - c2
			}
			twinRuns := func() {
				straight1 = pgbench(b, straight, one...)
				bouncer1 = pgbench(b, bouncer, one...)
				c0 := cpuTime(b, bouncerPid)
				bouncer8 = pgbench(b, bouncer, eight...)
				cpu.bouncer8 += cpuTime(b, bouncerPid) - c0
			}
			if r%2 == 0 {
				proxyRuns()
				twinRuns()
			} else {
				twinRuns()
				proxyRuns()
			}
			us := func(tps float64) float64 { return 1e6 / tps }
			added = append(added, us(proxy1)-us(straight1))
			addedPlain = append(addedPlain, us(plain1)-us(straight1))
			addedBouncer = append(addedBouncer, us(bouncer1)-us(straight1))
			ratio = append(ratio, proxy8/bouncer8)
			sum.proxy1, sum.plain1, sum.straight1 = sum.proxy1+proxy1, sum.plain1+plain1, sum.straight1+straight1
			sum.proxy8, sum.bouncer8 = sum.proxy8+proxy8, sum.bouncer8+bouncer8
			b.Logf("round %2d: one client: proxy TLS %4.0f tps, plain %4.0f, straight TCP %4.0f: %+6.1f µs (plain %+6.1f, PgBouncer TLS %+6.1f); eight clients: proxy TLS %5.0f tps, PgBouncer TLS %5.0f: %.2f ×",
				r, proxy1, plain1, straight1, added[len(added)-1], addedPlain[len(addedPlain)-1], addedBouncer[len(addedBouncer)-1], proxy8, bouncer8, ratio[len(ratio)-1])
		}
	}
	n := float64(len(added))
	metric(b, median(added), "added_us_median")
	metric(b, median(addedPlain), "added_plain_us_median")
	metric(b, median(addedBouncer), "pgbouncer_added_us_median")
	metric(b, median(ratio), "proxy8_over_pgbouncer8_median")
	metric(b, sum.straight1/n, "straight1_tps")
	metric(b, sum.proxy1/n, "proxy1_tps")
	metric(b, sum.proxy8/n, "proxy8_tps")
	metric(b, sum.bouncer8/n, "pgbouncer8_tps")
	perQuery := func(d time.Duration, tps float64) float64 { return float64(d.Microseconds()) / (tps * runSeconds) } // tps: the rounds' sum
	metric(b, perQuery(cpu.proxy1, sum.proxy1), "proxy1_cpu_us_per_query")
	metric(b, perQuery(cpu.proxy8, sum.proxy8), "proxy8_cpu_us_per_query")
	metric(b, perQuery(cpu.bouncer8, sum.bouncer8), "pgbouncer8_cpu_us_per_query")
}

// processOf finds the grove serving dataDir.
func processOf(b *testing.B, dataDir string) int {
	b.Helper()
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		raw, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		args := strings.Split(string(raw), "\x00")
		if len(args) > 1 && args[1] == "serve" && slices.Contains(args, dataDir) {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
			return pid
		}
	}
	b.Fatalf("no grove serve process for %s", dataDir)
	return 0
}

// cpuTime is the user and system time a process has used, all its threads.
func cpuTime(b *testing.B, pid int) time.Duration {
	b.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// Fields after the command, which may hold spaces, in parentheses;
	// utime and stime are the 14th and 15th, in clock ticks (100 a second).
	f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+1:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// suspend suspends an endpoint and waits until its postmaster is gone from
// the volume.
func suspend(b *testing.B, g *grovetest.Grove, endpointPath, vol string) {
	b.Helper()
	if st, raw := g.API("POST", endpointPath+"/suspend", nil, nil); st != 200 {
		b.Fatalf("suspend: %d %s", st, raw)
	}
	grovetest.WaitFor(b, "the compute stopped", func() bool {
		_, err := os.Stat(filepath.Join(vol, "postmaster.pid"))
		return os.IsNotExist(err)
	})
}

// twin is a Postgres of the benchmark's on a snapshot of a suspended
// endpoint's volume, listening on TCP loopback as well as its Unix socket,
// with a copy of the volume's pg_hba.conf that lets SCRAM logins in from
// there.
type twin struct {
	opts pgrun.Options
	dir  string // owned by the project's OS identity: pg_hba.conf, PgBouncer's files
	port string
}

func newTwin(b *testing.B, floor *bareFloor, groveDataDir string) *twin {
	b.Helper()
	// Beside Grove's data dir on the same btrfs, out of Grove's sight.
	vol := filepath.Join(filepath.Dir(groveDataDir), "twin")
	if out, err := runOut("btrfs", "subvolume", "snapshot", floor.opts.DataDir, vol); err != nil {
		b.Fatalf("snapshot the volume: %v: %s", err, out)
	}
	b.Cleanup(func() { _, _ = runOut("btrfs", "subvolume", "delete", vol) })
	s := &twin{opts: floor.opts, dir: filepath.Join(filepath.Dir(floor.opts.SocketDir), "twin"),
		port: strings.TrimPrefix(grovetest.FreeAddr(b), "127.0.0.1:")}
	s.opts.DataDir = vol
	if err := s.opts.User.MkdirOwned(s.dir, 0o700); err != nil {
		b.Fatal(err)
	}
	hba, err := os.ReadFile(filepath.Join(vol, "pg_hba.conf"))
	if err != nil {
		b.Fatal(err)
	}
	s.write(b, "pg_hba.conf", string(hba)+"\nhost all all 127.0.0.1/32 scram-sha-256\n")
	for _, name := range []string{proxy.CertFile, proxy.KeyFile} { // PgBouncer's TLS: the proxy's certificate
		body, err := os.ReadFile(filepath.Join(groveDataDir, "tls", name))
		if err != nil {
			b.Fatal(err)
		}
		s.write(b, name, string(body))
	}
	// Archiving off: the snapshot's archive link leads to the endpoint's archive.
	s.opts.Settings = map[string]string{"listen_addresses": "127.0.0.1", "port": s.port,
		"hba_file": filepath.Join(s.dir, "pg_hba.conf"), "archive_mode": "off"}
	srv, err := pgrun.Start(b.Context(), s.opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = srv.Stop(context.Background()) })
	return s
}

func (s *twin) write(b *testing.B, name, body string) {
	b.Helper()
	p := filepath.Join(s.dir, name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		b.Fatal(err)
	}
	if err := s.opts.User.Own(p, 0o600); err != nil {
		b.Fatal(err)
	}
}

// startPgBouncer runs PgBouncer as the project's OS identity in front of
// the server's Unix socket (which only that identity reaches), TLS towards
// clients with the proxy's certificate, and returns a connection string to
// it and its pid.
func (s *twin) startPgBouncer(b *testing.B, db, role, password string) (dsn string, pid int) {
	b.Helper()
	bin, err := pooler.Find(b.Context())
	if err != nil {
		b.Skipf("pgbouncer: %v", err)
	}
	port := strings.TrimPrefix(grovetest.FreeAddr(b), "127.0.0.1:")
	s.write(b, "userlist.txt", fmt.Sprintf("%q %q\n", role, password))
	s.write(b, "pgbouncer.ini", fmt.Sprintf(`[databases]
%[1]s = host=%[2]s port=%[3]s dbname=%[1]s
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %[4]s
unix_socket_dir =
auth_type = scram-sha-256
auth_file = %[5]s/userlist.txt
pool_mode = session
max_client_conn = 100
default_pool_size = 20
client_tls_sslmode = require
client_tls_cert_file = %[5]s/%[6]s
client_tls_key_file = %[5]s/%[7]s
logfile = %[5]s/pgbouncer.log
pidfile = %[5]s/pgbouncer.pid
`, db, s.opts.SocketDir, s.port, port, s.dir, proxy.CertFile, proxy.KeyFile))
	cmd := exec.Command(bin.Path, filepath.Join(s.dir, "pgbouncer.ini"))
	cmd.SysProcAttr = s.opts.User.SysProcAttr()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	dsn = fmt.Sprintf("host=127.0.0.1 port=%s user=%s password=%s dbname=%s sslmode=require", port, role, password, db)
	grovetest.WaitFor(b, "PgBouncer answering", func() bool {
		return firstQuery(b.Context(), dsn+" connect_timeout=1") == nil
	})
	return dsn, cmd.Process.Pid
}

// cpuProfile is a CPU profile of grove being taken over its debug listener.
type cpuProfile struct {
	done chan struct{}
	data []byte
	err  error
}

func startCPUProfile(b *testing.B, debugAddr string, seconds int) *cpuProfile {
	b.Helper()
	p := &cpuProfile{done: make(chan struct{})}
	go func() {
		defer close(p.done)
		resp, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", debugAddr, seconds))
		if err != nil {
			p.err = err
			return
		}
		defer resp.Body.Close()
		p.data, p.err = io.ReadAll(resp.Body)
	}()
	time.Sleep(100 * time.Millisecond) // the profile starts before the load
	return p
}

func (p *cpuProfile) save(b *testing.B, file string) {
	b.Helper()
	<-p.done
	if p.err != nil {
		b.Fatalf("cpu profile: %v", p.err)
	}
	if err := os.WriteFile(file, p.data, 0o644); err != nil {
		b.Fatal(err)
	}
	b.Logf("grove's CPU profile during the one-client proxy run: %s", file)
}
