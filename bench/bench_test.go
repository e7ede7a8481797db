// Package bench holds the benchmarks behind the README's figures. They start
// a real grove serve with its data dir on a loop-mounted btrfs (the
// production storage) where the machine allows, and report percentiles as
// custom metrics. Run them with `make bench`; they are not timed tests.
package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grovedb/grove/apitypes"
	"github.com/grovedb/grove/internal/grovetest"
	"github.com/grovedb/grove/internal/storage/storagetest"
	"github.com/jackc/pgx/v5"
)

// startOnBtrfs runs grove with its data dir on a fresh loop-mounted btrfs.
// Quotas (qgroups) are off, as in production: they slow every btrfs commit
// several-fold and are needed only to measure exclusive bytes.
// dataDiskMB sizes the (sparse) loop image of benchmarks that write much:
// a data disk's size, not a toy's. btrfs lets buffered writes reserve
// metadata in proportion to its free space; on an 8 GiB image it flushed
// every few hundred scattered page writes, which made a recovery's final
// checkpoint two to three times slower than on a 64 GiB one.
const dataDiskMB = 64 << 10

func startOnBtrfs(b *testing.B, sizeMB int, quotas bool, extra ...string) *grovetest.Grove {
	b.Helper()
	mnt := storagetest.LoopBtrfs(b, sizeMB)
	if !quotas {
		if out, err := runOut("btrfs", "quota", "disable", mnt); err != nil {
			b.Fatalf("btrfs quota disable: %v: %s", err, out)
		}
	}
	g := grovetest.StartIn(b, filepath.Join(mnt, "grove"), extra...)
	if !strings.Contains(g.Logs(), "driver=btrfs") {
		b.Fatalf("data dir on btrfs but another driver was chosen:\n%s", g.Logs())
	}
	return g
}

func createProject(b *testing.B, g *grovetest.Grove, org string) apitypes.CreatedProject {
	b.Helper()
	var cp apitypes.CreatedProject
	st, raw := g.API("POST", "/projects", grovetest.SeedBody(org), &cp)
	if st != 201 {
		b.Fatalf("create project: %d %s", st, raw)
	}
	return cp
}

func firstQuery(ctx context.Context, uri string) error {
	conn, err := pgx.Connect(ctx, uri)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	var one int
	return conn.QueryRow(ctx, "select 1").Scan(&one)
}

// percentiles reports p50 and p99 of ds in milliseconds.
func percentiles(b *testing.B, name string, ds []time.Duration) {
	b.Helper()
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	at := func(q float64) float64 {
		i := int(q * float64(len(ds)-1))
		return float64(ds[i].Microseconds()) / 1000
	}
	metric(b, at(0.5), name+"_p50_ms")
	metric(b, at(0.99), name+"_p99_ms")
	b.Logf("%s over %d runs: p50 %.1f ms, p99 %.1f ms, max %.1f ms", name, len(ds), at(0.5), at(0.99), at(1))
}

// BenchmarkProjectCreate measures API call → first query answered through
// the proxy (pgx, TLS, SCRAM), one project every 250 ms: users creating apps,
// with the warm pool refilled between them. Back-to-back throughput is
// BenchmarkCreateMany's.
func BenchmarkProjectCreate(b *testing.B) {
	g := startOnBtrfs(b, 4096, false, "--pool-size", "2")
	org := g.OrgID("sponsored")
	ctx := b.Context()
	const n = 100
	var ds, api []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := 0; j < n; j++ {
			start := time.Now()
			cp := createProject(b, g, org)
			api = append(api, time.Since(start))
			if err := firstQuery(ctx, cp.ConnectionURIs[0].ConnectionURI); err != nil {
				b.Fatal(err)
			}
			ds = append(ds, time.Since(start))
			time.Sleep(250 * time.Millisecond)
		}
	}
	percentiles(b, "create_api", api)
	percentiles(b, "create_to_query", ds)
}

// BenchmarkColdStart measures suspended → first query answered, beside the
// floor of a bare Postgres start on the same machine. The two are measured
// in turns, so that the machine's drift weighs on both alike.
func BenchmarkColdStart(b *testing.B) {
	g := startOnBtrfs(b, 4096, false)
	org := g.OrgID("sponsored")
	ctx := b.Context()
	cp := createProject(b, g, org)
	uri := cp.ConnectionURIs[0].ConnectionURI
	path := "/projects/" + cp.Project.ID + "/endpoints/" + cp.Endpoints[0].ID + "/suspend"
	bare := newBareFloor(b, g, org)
	const n = 40
	var ds, floor []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := 0; j < n; j++ {
			if st, raw := g.API("POST", path, nil, nil); st != 200 {
				b.Fatalf("suspend: %d %s", st, raw)
			}
			start := time.Now()
			if err := firstQuery(ctx, uri); err != nil {
				b.Fatal(err)
			}
			ds = append(ds, time.Since(start))
			floor = append(floor, bare.once(b))
		}
	}
	b.StopTimer()
	percentiles(b, "cold_start", ds)
	percentiles(b, "bare_floor", floor)
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	sort.Slice(floor, func(i, j int) bool { return floor[i] < floor[j] })
	metric(b, float64(ds[len(ds)/2])/float64(floor[len(floor)/2]), "cold_over_floor")
}

// BenchmarkCreateMany creates 1,000 projects back to back, from four
// clients at once as a platform's users would, and then checks that every
// one of them answers (most are suspended by then and wake on connect).
func BenchmarkCreateMany(b *testing.B) {
	if testing.Short() {
		b.Skip("long")
	}
	g := startOnBtrfs(b, 16384, false, "--pool-size", "4")
	org := g.OrgID("sponsored")
	ctx := b.Context()
	const n, clients = 1000, 4
	uris := make(chan string, n)
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := c; i < n; i += clients {
				var cp apitypes.CreatedProject
				st, raw := g.TryAPI("POST", "/projects", grovetest.SeedBody(org), &cp)
				if st != 201 {
					b.Errorf("create project: %d %s", st, raw)
					return
				}
				uris <- cp.ConnectionURIs[0].ConnectionURI
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	close(uris)
	metric(b, float64(n)/elapsed.Seconds(), "projects_per_s")
	failed := 0
	for u := range uris {
		if err := firstQuery(ctx, u); err != nil {
			failed++
			b.Logf("unreachable: %v", err)
		}
	}
	metric(b, float64(failed), "unreachable")
	if failed > 0 {
		b.Errorf("%d of %d projects unreachable", failed, n)
	}
}

// BenchmarkDiskPerProject measures the exclusive disk a new project costs on
// btrfs (qgroups on, for the measurement), and that a suspended project runs
// no process. Creates are paced so that each takes a warm instance (its
// compute runs, then suspends): the costlier of the two create paths.
func BenchmarkDiskPerProject(b *testing.B) {
	// The warm pool stays at one per version (--pool-max: the floors), as
	// the figure counts the processes besides it.
	g := startOnBtrfs(b, 4096, true, "--pool-max", "4")
	org := g.OrgID("sponsored")
	const n = 20
	b.ResetTimer()
	time.Sleep(2 * time.Second) // the warm pool's first fill
	for i := 0; i < n; i++ {
		time.Sleep(400 * time.Millisecond)
		cp := createProject(b, g, org)
		if cp.Endpoints[0].CurrentState != "active" {
			b.Fatalf("create %d did not take a warm instance", i)
		}
		path := "/projects/" + cp.Project.ID + "/endpoints/" + cp.Endpoints[0].ID + "/suspend"
		if st, raw := g.API("POST", path, nil, nil); st != 200 {
			b.Fatalf("suspend: %d %s", st, raw)
		}
	}
	b.StopTimer()
	// Only the warm pool (one per installed version) and the metadata cluster run.
	metric(b, float64(len(grovetest.PostgresPids(g.DataDir))), "postmasters_running")
	// A clean stop deletes the warm pool's volumes: what is left are the projects'.
	g.Stop()
	vols, excl := diskExclusive(b, g)
	if vols != n {
		b.Fatalf("%d volumes for %d projects", vols, n)
	}
	metric(b, excl/float64(vols)/1024, "exclusive_KiB_per_project")
	// The WAL archive's files are reflinks of pg_wal's: their apparent size
	// is an upper bound of what they add.
	metric(b, float64(archiveApparent(g))/float64(vols)/1024, "archive_apparent_KiB_per_project")
}

// diskExclusive counts the vol-* volumes and sums the btrfs exclusive bytes
// of them and of their history snapshots (hist-*).
func diskExclusive(b *testing.B, g *grovetest.Grove) (int, float64) {
	b.Helper()
	vols := filepath.Join(g.DataDir, "volumes")
	if out, err := runOut("btrfs", "quota", "rescan", "-w", vols); err != nil {
		b.Fatalf("btrfs quota rescan: %v: %s", err, out)
	}
	entries, _ := os.ReadDir(vols)
	var sum float64
	count := 0
	for _, e := range entries {
		isVol, isHist := strings.HasPrefix(e.Name(), "vol-"), strings.HasPrefix(e.Name(), "hist-")
		if !isVol && !isHist {
			continue
		}
		o, err := runOut("btrfs", "qgroup", "show", "--raw", "-f", filepath.Join(vols, e.Name()))
		if err != nil {
			b.Fatalf("btrfs qgroup show: %v: %s", err, o)
		}
		if isVol {
			count++
		}
		lines := strings.Split(strings.TrimSpace(o), "\n")
		f := strings.Fields(lines[len(lines)-1])
		if len(f) >= 3 {
			var excl float64
			fmt.Sscanf(f[2], "%f", &excl)
			sum += excl
		}
	}
	return count, sum
}
