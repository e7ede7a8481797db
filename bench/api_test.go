package bench

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grovedb/grove/apitypes"
	"github.com/grovedb/grove/internal/grovetest"
)

// seedProjects adds n projects to an org straight into Grove's internal
// metadata store, copying a real project's row: listing reads only
// metadata, and 30,000 real creates would measure the creates instead.
func seedProjects(b *testing.B, g *grovetest.Grove, like apitypes.CreatedProject, n int) {
	b.Helper()
	conn := g.MetaConn(b)
	_, err := conn.Exec(b.Context(), `INSERT INTO projects (id, org_id, name, region_id, pg_version, provisioner,
		store_passwords, history_retention_seconds, settings, default_endpoint_settings, created_at, updated_at)
		SELECT format('seed-proj-%s', lpad(i::text, 8, '0')), org_id, format('app-%s', i), region_id, pg_version,
			provisioner, store_passwords, history_retention_seconds, settings, default_endpoint_settings, now(), now()
		FROM projects, generate_series(1, $2) AS i WHERE id = $1`, like.Project.ID, n)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := conn.Exec(b.Context(), `ANALYZE projects`); err != nil {
		b.Fatal(err)
	}
}

// timeCalls calls GET path n times and returns each call's duration.
func timeCalls(b *testing.B, g *grovetest.Grove, n int, path func(i int) string) []time.Duration {
	b.Helper()
	ds := make([]time.Duration, 0, n)
	for i := range n {
		start := time.Now()
		if st, raw := g.API("GET", path(i), nil, nil); st != 200 {
			b.Fatalf("GET %s: %d %s", path(i), st, raw)
		}
		ds = append(ds, time.Since(start))
	}
	return ds
}

// BenchmarkListProjects measures GET /projects pages of 100 in an org of
// 30,000 projects, walking the whole list by cursor, with and without the
// org filter (a personal key then lists all its orgs), and a search.
func BenchmarkListProjects(b *testing.B) {
	g := startOnBtrfs(b, 2048, false, "--pool-size", "1")
	org := g.OrgID("sponsored")
	seedProjects(b, g, createProject(b, g, org), 30000-1)
	b.ResetTimer()
	for range b.N {
		var page apitypes.ProjectsResponse
		var ds []time.Duration
		cursor := ""
		for {
			start := time.Now()
			path := "/projects?limit=100&org_id=" + org + "&cursor=" + url.QueryEscape(cursor)
			if st, raw := g.API("GET", path, nil, &page); st != 200 {
				b.Fatalf("list: %d %s", st, raw)
			}
			ds = append(ds, time.Since(start))
			if page.Pagination == nil || len(page.Projects) < 100 {
				break
			}
			cursor = page.Pagination.Cursor
		}
		// The 300th page is full, so a 301st, empty one ends the walk.
		if len(ds) != 301 {
			b.Fatalf("walked %d pages, want 301 for 30,000 projects", len(ds))
		}
		percentiles(b, "list_page_org", ds)
		percentiles(b, "list_page_all_orgs", timeCalls(b, g, 100, func(i int) string {
			return fmt.Sprintf("/projects?limit=100&cursor=seed-proj-%08d", i*300)
		}))
		percentiles(b, "list_search", timeCalls(b, g, 100, func(i int) string {
			return fmt.Sprintf("/projects?limit=100&org_id=%s&search=app-%d", org, 100+i)
		}))
	}
}

// BenchmarkMetadataCalls measures API calls that read only metadata (and
// the compute manager's memory), in an org of 30,000 projects.
func BenchmarkMetadataCalls(b *testing.B) {
	g := startOnBtrfs(b, 2048, false, "--pool-size", "1")
	org := g.OrgID("sponsored")
	cp := createProject(b, g, org)
	seedProjects(b, g, cp, 30000-1)
	p, br, ep := cp.Project.ID, cp.Branch.ID, cp.Endpoints[0].ID
	routes := []struct{ name, path string }{
		{"me", "/users/me"},
		{"project", "/projects/" + p},
		{"endpoint", "/projects/" + p + "/endpoints/" + ep},
		{"branches", "/projects/" + p + "/branches"},
		{"roles", "/projects/" + p + "/branches/" + br + "/roles"},
		{"databases", "/projects/" + p + "/branches/" + br + "/databases"},
		{"operations", "/projects/" + p + "/operations"},
	}
	b.ResetTimer()
	for range b.N {
		var all []time.Duration
		for _, r := range routes {
			ds := timeCalls(b, g, 200, func(int) string { return r.path })
			all = append(all, ds...)
			percentiles(b, "get_"+r.name, ds)
		}
		percentiles(b, "metadata_calls", all)
	}
}

// BenchmarkProjectCreateBurst measures API call → first query through the
// proxy, as BenchmarkProjectCreate does, for creates in bursts, in one run
// of the default configuration (--pool-size 1, the warm pool sized by
// recent creates up to --pool-max): a first burst of one client creating
// back to back into an idle Grove; creates paced 250 ms apart; the same
// client back to back again; and four clients at once. Between phases it
// waits for the warm pool to be refilled, and reports the ready warm
// servers and their memory (grove_warm_pool_servers and _memory_bytes).
func BenchmarkProjectCreateBurst(b *testing.B) {
	g := startOnBtrfs(b, 8192, false)
	org := g.OrgID("sponsored")
	const n = 40
	var idle, paced, burst, four []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		idle = append(idle, createBurst(b, g, org, 1, n, 0)...)
		settlePool(b, g)
		paced = append(paced, createBurst(b, g, org, 1, n, 250*time.Millisecond)...)
		settlePool(b, g)
		burst = append(burst, createBurst(b, g, org, 1, n, 0)...)
		settlePool(b, g)
		four = append(four, createBurst(b, g, org, 4, n, 0)...)
	}
	b.StopTimer()
	settlePool(b, g)
	servers, mem := poolGauges(b, g)
	if dump := os.Getenv("GROVE_BENCH_LOG"); dump != "" {
		_ = os.WriteFile(dump, []byte(g.Logs()), 0o644)
	}
	// What the idle warm servers cost the machine's CPU.
	cpu0, wall0 := cpuBusy(b), time.Now()
	time.Sleep(10 * time.Second)
	idleCPU := float64(cpuBusy(b)-cpu0) / float64(time.Since(wall0)) / float64(runtime.NumCPU())
	metric(b, 100*idleCPU, "idle_cpu_pct")
	percentiles(b, "idle_burst", idle)
	percentiles(b, "paced", paced)
	percentiles(b, "burst1", burst)
	percentiles(b, "burst4", four)
	p50 := func(ds []time.Duration) float64 {
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		return float64(ds[(len(ds)-1)/2])
	}
	metric(b, p50(burst)/p50(paced), "burst1_over_paced")
	metric(b, p50(four)/p50(paced), "burst4_over_paced")
	metric(b, servers, "warm_servers")
	metric(b, mem/(1<<20), "warm_MiB")
	b.Logf("after the bursts: %.0f warm servers holding %.1f MiB PSS (%.1f MiB each)", servers, mem/(1<<20), mem/(1<<20)/max(servers, 1))
}

// createBurst creates n projects from clients clients at once, each
// waiting pause after each of its creates, returns the time from each API
// call to its first query answered, and deletes the projects.
func createBurst(b *testing.B, g *grovetest.Grove, org string, clients, n int, pause time.Duration) []time.Duration {
	b.Helper()
	ctx := b.Context()
	ds := make([]time.Duration, n)
	apis := make([]time.Duration, n)
	ids := make([]string, n)
	cpu0, wall0 := cpuBusy(b), time.Now()
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := c; i < n; i += clients {
				start := time.Now()
				var cp apitypes.CreatedProject
				if st, raw := g.TryAPI("POST", "/projects", grovetest.SeedBody(org), &cp); st != 201 {
					b.Errorf("create project: %d %s", st, raw)
					return
				}
				apis[i] = time.Since(start)
				if err := firstQuery(ctx, cp.ConnectionURIs[0].ConnectionURI); err != nil {
					b.Error(err)
					return
				}
				ds[i] = time.Since(start)
				ids[i] = cp.Project.ID
				time.Sleep(pause)
			}
		}()
	}
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
	slow := make([]int, n)
	for i := range slow {
		slow[i] = i
	}
	sort.Slice(slow, func(i, j int) bool { return ds[slow[i]] > ds[slow[j]] })
	for _, i := range slow[:3] {
		b.Logf("slow: create %d of %s: API %v, first query %v", i, ids[i], apis[i], ds[i])
	}
	cpu, wall := cpuBusy(b)-cpu0, time.Since(wall0)
	b.Logf("%d clients, pause %v: the API call p50 %v of create → first query p50 %v; machine CPU %v a create (%.0f %% busy)",
		clients, pause, p50(apis), p50(ds), cpu/time.Duration(n), 100*float64(cpu)/float64(wall)/float64(runtime.NumCPU()))
	// The projects' computes would run on for their suspend timeout and
	// weigh on the next phase: delete them, outside the measurement.
	for _, id := range ids {
		if st, raw := g.API("DELETE", "/projects/"+id, nil, nil); st != 200 {
			b.Fatalf("delete project: %d %s", st, raw)
		}
	}
	return ds
}

// cpuBusy is the CPU time the whole machine has spent outside idle and
// iowait since boot (/proc/stat).
func cpuBusy(b *testing.B) time.Duration {
	b.Helper()
	raw, err := os.ReadFile("/proc/stat")
	if err != nil {
		b.Fatal(err)
	}
	f := strings.Fields(strings.SplitN(string(raw), "\n", 2)[0])
	var ticks int64
	for i, v := range f[1:] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		ticks += n
	}
	return time.Duration(ticks) * time.Second / 100 // USER_HZ
}

// settlePool waits, up to 20 s, for the warm pool to reach what recent
// creates ask for, so that a phase does not pay for the last one's refills.
func settlePool(b *testing.B, g *grovetest.Grove) {
	b.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		m := scrape(b, g)
		if m["grove_warm_pool_servers"] >= m["grove_warm_pool_target"] {
			b.Logf("warm pool settled: %.0f servers, %.1f MiB", m["grove_warm_pool_servers"], m["grove_warm_pool_memory_bytes"]/(1<<20))
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.Logf("warm pool not settled after 20 s")
}

func poolGauges(b *testing.B, g *grovetest.Grove) (servers, memBytes float64) {
	b.Helper()
	m := scrape(b, g)
	return m["grove_warm_pool_servers"], m["grove_warm_pool_memory_bytes"]
}

// scrape reads the gauges without labels of grove's /metrics.
func scrape(b *testing.B, g *grovetest.Grove) map[string]float64 {
	b.Helper()
	req, err := http.NewRequestWithContext(b.Context(), "GET", "http://"+g.APIAddr+"/metrics", nil)
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+g.Key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		b.Fatalf("/metrics: %d %v %s", resp.StatusCode, err, raw)
	}
	out := map[string]float64{}
	for _, line := range strings.Split(string(raw), "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && !strings.HasPrefix(line, "#") {
			if v, err := strconv.ParseFloat(f[1], 64); err == nil {
				out[f[0]] = v
			}
		}
	}
	return out
}
