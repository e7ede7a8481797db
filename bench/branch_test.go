package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/grovedb/grove/apitypes"
	"github.com/grovedb/grove/internal/grovetest"
	"github.com/jackc/pgx/v5"
)

// The figures of branches, snapshots as checkpoints and restore
// measured end to end through the API and the proxy on btrfs. The 1 GiB
// parents are loaded through the project's own connection and keep their
// compute running (a client stays connected), as an agent's database would.

// bigRows rows of ~1,000 bytes (a 960-byte pad, below TOAST's threshold, so
// stored as is) make a table of about 1 GiB: 8 rows a page.
const bigRows = 1_080_000

// apiUnlocked sends a request, retrying while the project is locked by a
// running operation (Neon's 423), and checks the status.
func apiUnlocked(b *testing.B, g *grovetest.Grove, method, path string, body, out any, want int) {
	b.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		st, raw := g.API(method, path, body, out)
		if st == want {
			return
		}
		if st != 423 || time.Now().After(deadline) {
			b.Fatalf("%s %s: %d %s", method, path, st, raw)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitOps waits for a project's operations to finish, so that the next
// timed call does not meet a 423.
func waitOps(b *testing.B, g *grovetest.Grove, projectID string, ops []apitypes.Operation) {
	b.Helper()
	for _, op := range ops {
		var got apitypes.OperationResponse
		grovetest.WaitFor(b, "operation "+string(op.Action), func() bool {
			st, _ := g.API("GET", "/projects/"+projectID+"/operations/"+op.ID, nil, &got)
			return st == 200 && got.Operation.Status.Terminal()
		})
		if got.Operation.Status != apitypes.OperationStatusFinished {
			b.Fatalf("operation %s ended %s: %s", op.Action, got.Operation.Status, got.Operation.Error)
		}
	}
}

// benchProject is a project whose default branch's compute is kept running
// by a client holding a connection.
type benchProject struct {
	name string
	cp   apitypes.CreatedProject
	uri  string
	keep *pgx.Conn
}

func (p *benchProject) id() string   { return p.cp.Project.ID }
func (p *benchProject) root() string { return p.cp.Branch.ID }

// newBenchProject creates a project in org, with bigRows of data when big,
// and keeps its compute running.
func newBenchProject(b *testing.B, g *grovetest.Grove, org, name string, big bool) *benchProject {
	b.Helper()
	ctx := b.Context()
	p := &benchProject{name: name, cp: createProject(b, g, org)}
	p.uri = p.cp.ConnectionURIs[0].ConnectionURI
	conn, err := pgx.Connect(ctx, p.uri)
	if err != nil {
		b.Fatal(err)
	}
	p.keep = conn
	b.Cleanup(func() { conn.Close(context.Background()) })
	mustExec(b, conn, "CREATE TABLE steps (n int PRIMARY KEY); INSERT INTO steps VALUES (0)")
	if big {
		start := time.Now()
		mustExec(b, conn, fmt.Sprintf("CREATE TABLE big AS SELECT i AS id, repeat(md5(i::text), 30) AS pad FROM generate_series(1, %d) i", bigRows))
		// What autovacuum would do next (visibility map, hint bits, frozen
		// rows: ~100 MB of WAL), done now so that the parent is at rest
		// afterwards.
		mustExec(b, conn, "VACUUM (FREEZE, ANALYZE) big")
		var size int64
		if err := conn.QueryRow(ctx, "SELECT pg_database_size(current_database())").Scan(&size); err != nil {
			b.Fatal(err)
		}
		b.Logf("%s: loaded %.2f GiB in %v", name, float64(size)/(1<<30), time.Since(start).Round(time.Millisecond))
	}
	return p
}

func mustExec(b *testing.B, conn *pgx.Conn, sql string) {
	b.Helper()
	if _, err := conn.Exec(b.Context(), sql); err != nil {
		b.Fatalf("%s: %v", sql, err)
	}
}

func p50(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

// ratioOfP50 is p50(num) / p50(den).
func ratioOfP50(num, den []time.Duration) float64 {
	return float64(p50(num)) / float64(p50(den))
}

// lastComputeStart is how long the last start of an endpoint's compute took,
// by grove's log.
func lastComputeStart(g *grovetest.Grove, endpointID string) time.Duration {
	var d time.Duration
	for _, l := range strings.Split(g.Logs(), "\n") {
		if m := logLineRe.FindStringSubmatch(l); m != nil && m[2] == "compute started" && m[3] == endpointID {
			d, _ = time.ParseDuration(m[5])
		}
	}
	return d
}

// computeLog is the Postgres log of the volume an endpoint last started on.
func computeLog(g *grovetest.Grove, endpointID string) string {
	vol := ""
	for _, l := range strings.Split(g.Logs(), "\n") {
		if m := logLineRe.FindStringSubmatch(l); m != nil && m[2] == "compute started" && m[3] == endpointID {
			vol = m[4]
		}
	}
	raw, err := os.ReadFile(filepath.Join(g.DataDir, "logs", vol+".log"))
	if err != nil {
		return err.Error()
	}
	return string(raw)
}

// branchTiming is one branch create, split where grove's log allows:
// request → history of the new volume begins (clone of the parent and
// metadata), the history start, → compute start begins, the compute start
// (Postgres, with crash recovery of the clone), → API response, → first
// query answered through the proxy.
type branchTiming struct {
	api, total                                time.Duration
	clone, history, gap, compute, tail, query time.Duration
	endpointID                                string
}

func (bt branchTiming) String() string {
	return fmt.Sprintf("api %v, first query %v (clone %v, history %v, gap %v, compute start %v)",
		bt.api.Round(time.Millisecond), bt.total.Round(time.Millisecond), bt.clone.Round(time.Millisecond),
		bt.history.Round(time.Millisecond), bt.gap.Round(time.Millisecond), bt.compute.Round(time.Millisecond))
}

// branchOnce creates a branch of p's default branch with a read-write
// endpoint and times it up to the first query answered on the branch
// through the proxy; the branch is deleted afterwards, untimed.
func branchOnce(b *testing.B, g *grovetest.Grove, p *benchProject) branchTiming {
	b.Helper()
	var cb apitypes.CreatedBranch
	start := time.Now()
	st, raw := g.API("POST", "/projects/"+p.id()+"/branches", `{"endpoints":[{"type":"read_write"}]}`, &cb)
	var bt branchTiming
	bt.api = time.Since(start)
	if st != 201 || len(cb.ConnectionURIs) == 0 {
		b.Fatalf("create branch: %d %s", st, raw)
	}
	if err := firstQuery(b.Context(), cb.ConnectionURIs[0].ConnectionURI); err != nil {
		b.Fatalf("first query on branch %s: %v", cb.Branch.ID, err)
	}
	bt.total = time.Since(start)
	bt.endpointID = cb.Endpoints[0].ID
	bt.phases(g.Logs(), start)
	waitOps(b, g, p.id(), cb.Operations)
	var del apitypes.BranchOperations
	apiUnlocked(b, g, "DELETE", "/projects/"+p.id()+"/branches/"+cb.Branch.ID, nil, &del, 200)
	waitOps(b, g, p.id(), del.Operations)
	return bt
}

var logLineRe = regexp.MustCompile(`time=(\S+) .*msg="([^"]+)".*?(?: compute=(\S+))? volume=(\S+).* took=(\S+)`)

// phases splits bt by the "history started" and "compute started" lines
// of the new branch's volume in grove's log (millisecond timestamps).
func (bt *branchTiming) phases(logs string, start time.Time) {
	vol := ""
	var compEnd, histEnd time.Time
	var compTook, histTook time.Duration
	lines := strings.Split(logs, "\n")
	for _, l := range lines {
		m := logLineRe.FindStringSubmatch(l)
		if m != nil && m[2] == "compute started" && m[3] == bt.endpointID {
			vol = m[4]
			compEnd, _ = time.Parse(time.RFC3339Nano, m[1])
			compTook, _ = time.ParseDuration(m[5])
		}
	}
	for _, l := range lines {
		m := logLineRe.FindStringSubmatch(l)
		if m != nil && vol != "" && m[2] == "history started" && m[4] == vol {
			histEnd, _ = time.Parse(time.RFC3339Nano, m[1])
			histTook, _ = time.ParseDuration(m[5])
		}
	}
	if compEnd.IsZero() || histEnd.IsZero() {
		return
	}
	histBegin, compBegin := histEnd.Add(-histTook), compEnd.Add(-compTook)
	bt.clone, bt.history = histBegin.Sub(start), histTook
	bt.gap, bt.compute = compBegin.Sub(histEnd), compTook
	bt.tail = start.Add(bt.api).Sub(compEnd)
	bt.query = bt.total - bt.api
}

// BenchmarkBranchCreate measures branch create with a read-write endpoint →
// first query answered on the branch through the proxy, for an empty parent
// and a parent holding 1 GiB, in turns so that the machine's drift weighs
// on both alike. Targets: p50 ≤ 100 ms, big/empty ≤ 1.2.
//
// A branch of a running parent is a crash-consistent clone: its Postgres
// replays the parent's WAL since the parent's last checkpoint. So the 1 GiB
// parent is measured twice: right after its load ("1GiB_fresh", its last
// checkpoint somewhere in the load and its VACUUM) and at rest, after a
// CHECKPOINT ("1GiB", the figure's ratio).
func BenchmarkBranchCreate(b *testing.B) {
	g := startOnBtrfs(b, dataDiskMB, false)
	org := g.OrgID("paid")
	empty := newBenchProject(b, g, org, "empty", false)
	big := newBenchProject(b, g, org, "1GiB", true)
	// The first branch of the freshly loaded parent replays the load's and
	// the VACUUM's WAL since the parent's last checkpoint.
	for _, p := range []*benchProject{empty, big} {
		bt := branchOnce(b, g, p)
		b.Logf("%s: first branch: api %v, first query %v", p.name, bt.api, bt.total)
		if p == big {
			metric(b, float64(bt.total.Microseconds())/1000, "first_branch_after_load_ms")
			if testing.Verbose() {
				b.Logf("Postgres log of the first branch after the load:\n%s", computeLog(g, bt.endpointID))
			}
		}
	}
	const fresh, n = 10, 40
	runs := map[string][]branchTiming{}
	b.ResetTimer()
	for range b.N {
		for range fresh {
			runs["1GiB_fresh"] = append(runs["1GiB_fresh"], branchOnce(b, g, big))
		}
		adminExec(b, g, big.cp.Endpoints[0].ID, "CHECKPOINT")
		for range n {
			runs["empty"] = append(runs["empty"], branchOnce(b, g, empty))
			runs["1GiB"] = append(runs["1GiB"], branchOnce(b, g, big))
		}
	}
	b.StopTimer()
	total := map[string][]time.Duration{}
	for _, name := range []string{"empty", "1GiB", "1GiB_fresh"} {
		rs := runs[name]
		get := func(f func(branchTiming) time.Duration) []time.Duration {
			ds := make([]time.Duration, len(rs))
			for i, r := range rs {
				ds[i] = f(r)
			}
			return ds
		}
		total[name] = get(func(r branchTiming) time.Duration { return r.total })
		percentiles(b, "branch_api_"+name, get(func(r branchTiming) time.Duration { return r.api }))
		percentiles(b, "branch_to_query_"+name, total[name])
		b.Logf("%s: p50 of the phases: clone+metadata %v, history start %v, then %v, compute start %v, to the response %v, first query %v",
			name, p50(get(func(r branchTiming) time.Duration { return r.clone })), p50(get(func(r branchTiming) time.Duration { return r.history })),
			p50(get(func(r branchTiming) time.Duration { return r.gap })), p50(get(func(r branchTiming) time.Duration { return r.compute })),
			p50(get(func(r branchTiming) time.Duration { return r.tail })), p50(get(func(r branchTiming) time.Duration { return r.query })))
		if testing.Verbose() {
			b.Logf("%s: Postgres log of the last branch:\n%s", name, computeLog(g, rs[len(rs)-1].endpointID))
		}
	}
	metric(b, ratioOfP50(total["1GiB"], total["empty"]), "big_over_empty")
	metric(b, ratioOfP50(total["1GiB_fresh"], total["empty"]), "fresh_over_empty")
}

// adminExec runs sql as the superuser on an endpoint's running compute,
// over its Unix socket (peer authentication of the OS user grove runs as).
func adminExec(b *testing.B, g *grovetest.Grove, endpointID, sql string) {
	b.Helper()
	if err := psqlExec(b.Context(), fmt.Sprintf("host=%s user=cloud_admin dbname=postgres", filepath.Join(g.RunDir(), endpointID)), sql); err != nil {
		b.Fatalf("%s on %s: %v", sql, endpointID, err)
	}
}

// BenchmarkSnapshotCreate measures POST …/branches/{root}/snapshot (now) on
// an empty project and on a 1 GiB one, a few rows changed between
// snapshots as an agent's step would; each snapshot is deleted after it
// is taken (untimed). Target: ≤ 20 ms p50 at any size.
func BenchmarkSnapshotCreate(b *testing.B) {
	g := startOnBtrfs(b, dataDiskMB, false)
	org := g.OrgID("paid")
	parents := []*benchProject{
		newBenchProject(b, g, org, "empty", false),
		newBenchProject(b, g, org, "1GiB", true),
	}
	step := 0
	once := func(p *benchProject) time.Duration {
		step++
		mustExec(b, p.keep, fmt.Sprintf("INSERT INTO steps VALUES (%d)", step))
		var so apitypes.SnapshotOperations
		start := time.Now()
		st, raw := g.API("POST", "/projects/"+p.id()+"/branches/"+p.root()+"/snapshot", nil, &so)
		d := time.Since(start)
		if st != 200 {
			b.Fatalf("snapshot %s: %d %s", p.name, st, raw)
		}
		waitOps(b, g, p.id(), so.Operations)
		var del apitypes.OperationsResponse
		apiUnlocked(b, g, "DELETE", "/projects/"+p.id()+"/snapshots/"+so.Snapshot.ID, nil, &del, 202)
		waitOps(b, g, p.id(), del.Operations)
		return d
	}
	for _, p := range parents {
		b.Logf("%s: warm-up snapshot %v", p.name, once(p))
	}
	const n = 40
	ds := map[string][]time.Duration{}
	b.ResetTimer()
	for range b.N {
		for range n {
			for _, p := range parents {
				ds[p.name] = append(ds[p.name], once(p))
			}
		}
	}
	b.StopTimer()
	for _, p := range parents {
		percentiles(b, "snapshot_"+p.name, ds[p.name])
	}
	metric(b, ratioOfP50(ds["1GiB"], ds["empty"]), "big_over_empty")
}

// BenchmarkFinalizeRestore measures the checkpoint rollback of agent
// platforms: snapshot, write, then POST …/snapshots/{id}/restore with
// finalize_restore onto the live branch → first query answered on the
// same connection URI as before, seeing the snapshot's state. Between
// rounds (untimed) the snapshot and the "(old)" branch are deleted, as
// Neon's guides do. Target: p50 ≤ 300 ms.
func BenchmarkFinalizeRestore(b *testing.B) {
	g := startOnBtrfs(b, 4096, false)
	p := newBenchProject(b, g, g.OrgID("paid"), "small", false)
	ctx := b.Context()
	live := p.root()
	once := func(i int) (api, total time.Duration) {
		var so apitypes.SnapshotOperations
		apiUnlocked(b, g, "POST", "/projects/"+p.id()+"/branches/"+live+"/snapshot", nil, &so, 200)
		waitOps(b, g, p.id(), so.Operations)
		if err := psqlExec(ctx, p.uri, fmt.Sprintf("INSERT INTO steps VALUES (%d)", i+1)); err != nil {
			b.Fatal(err)
		}
		var rs apitypes.RestoredSnapshot
		body := fmt.Sprintf(`{"target_branch_id":%q,"finalize_restore":true}`, live)
		start := time.Now()
		st, raw := g.API("POST", "/projects/"+p.id()+"/snapshots/"+so.Snapshot.ID+"/restore", body, &rs)
		api = time.Since(start)
		if st != 200 {
			b.Fatalf("restore: %d %s", st, raw)
		}
		var rows int
		if err := queryInt(ctx, p.uri, fmt.Sprintf("SELECT count(*) FROM steps WHERE n = %d", i+1), &rows); err != nil {
			b.Fatalf("first query after restore: %v", err)
		}
		total = time.Since(start)
		if rows != 0 {
			b.Fatalf("after restore the URI still sees the row written after the snapshot")
		}
		old := live
		live = rs.Branch.ID
		waitOps(b, g, p.id(), rs.Operations)
		var del apitypes.OperationsResponse
		apiUnlocked(b, g, "DELETE", "/projects/"+p.id()+"/snapshots/"+so.Snapshot.ID, nil, &del, 202)
		waitOps(b, g, p.id(), del.Operations)
		var bdel apitypes.BranchOperations
		apiUnlocked(b, g, "DELETE", "/projects/"+p.id()+"/branches/"+old, nil, &bdel, 200)
		waitOps(b, g, p.id(), bdel.Operations)
		return api, total
	}
	// The held connection is dropped by the first restore (its endpoint
	// moves); the benchmark's connections are fresh ones on the same URI.
	p.keep.Close(ctx)
	a, t := once(0)
	b.Logf("warm-up restore: api %v, first query %v", a, t)
	const n = 20
	var api, total, starts []time.Duration
	b.ResetTimer()
	for range b.N {
		for i := range n {
			a, t := once(i + 1)
			api = append(api, a)
			total = append(total, t)
			starts = append(starts, lastComputeStart(g, p.cp.Endpoints[0].ID))
		}
	}
	b.StopTimer()
	percentiles(b, "restore_api", api)
	percentiles(b, "restore_to_query", total)
	percentiles(b, "restore_compute_start", starts)
	if testing.Verbose() {
		b.Logf("Postgres log of the last restore:\n%s", computeLog(g, p.cp.Endpoints[0].ID))
	}
}

func psqlExec(ctx context.Context, uri, sql string) error {
	conn, err := pgx.Connect(ctx, uri)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

func queryInt(ctx context.Context, uri, sql string, out *int) error {
	conn, err := pgx.Connect(ctx, uri)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	return conn.QueryRow(ctx, sql).Scan(out)
}

var autoSnapRe = regexp.MustCompile(`msg="history: automatic snapshot" .*lsn=([0-9A-F]+)/([0-9A-F]+)`)

// lastAutoSnapshot is the highest LSN of an automatic snapshot in grove's
// (debug) log, as a byte position.
func lastAutoSnapshot(g *grovetest.Grove) uint64 {
	var best uint64
	for _, m := range autoSnapRe.FindAllStringSubmatch(g.Logs(), -1) {
		var hi, lo uint64
		fmt.Sscanf(m[1], "%X", &hi)
		fmt.Sscanf(m[2], "%X", &lo)
		best = max(best, hi<<32|lo)
	}
	return best
}

func currentLSN(b *testing.B, conn *pgx.Conn) uint64 {
	b.Helper()
	var lsn string
	if err := conn.QueryRow(b.Context(), "SELECT pg_current_wal_lsn()::text").Scan(&lsn); err != nil {
		b.Fatal(err)
	}
	var hi, lo uint64
	fmt.Sscanf(lsn, "%X/%X", &hi, &lo)
	return hi<<32 | lo
}

// BenchmarkPITRBranch is the end-to-end variant of internal/history's
// BenchmarkMaterialize: a branch with an endpoint at a past timestamp of a
// 1 GiB database with ~100 MB of WAL since the last automatic snapshot →
// first query answered on the branch, seeing the state at that time.
// Target: ≤ 2 s. Automatic snapshots come every 64 MB of WAL
// (checked every 10 s), so the WAL actually replayed is logged.
func BenchmarkPITRBranch(b *testing.B) {
	g := startOnBtrfs(b, dataDiskMB, false, "--log-level", "debug")
	p := newBenchProject(b, g, g.OrgID("paid"), "1GiB", true)
	conn := p.keep
	// ~100 MB of WAL: updates of scattered rows, as BenchmarkMaterialize's.
	// An automatic snapshot may come meanwhile (64 MB, checked every 10 s):
	// write until 100 MB follow the last one, or give up after 40 updates
	// and measure what there is.
	for i := 0; i < 40 && currentLSN(b, conn)-lastAutoSnapshot(g) < 100<<20; i++ {
		mustExec(b, conn, fmt.Sprintf("UPDATE big SET pad = md5(pad) || substr(pad, 33) WHERE id %% 50 = %d", i))
	}
	mustExec(b, conn, "CREATE TABLE marks (v text); INSERT INTO marks VALUES ('before')")
	time.Sleep(50 * time.Millisecond)
	at := time.Now().UTC()
	time.Sleep(50 * time.Millisecond)
	mustExec(b, conn, "INSERT INTO marks VALUES ('after')")
	snap := uint64(0)
	for _, m := range autoSnapRe.FindAllStringSubmatch(g.Logs(), -1) {
		var hi, lo uint64
		fmt.Sscanf(m[1], "%X", &hi)
		fmt.Sscanf(m[2], "%X", &lo)
		if l := hi<<32 | lo; l <= currentLSN(b, conn) {
			snap = max(snap, l)
		}
	}
	b.Logf("WAL from the last automatic snapshot to the point: %.0f MB", float64(currentLSN(b, conn)-snap)/(1<<20))
	body := fmt.Sprintf(`{"branch":{"parent_timestamp":%q},"endpoints":[{"type":"read_write"}]}`, at.Format(time.RFC3339Nano))
	const n = 5
	var api, total []time.Duration
	b.ResetTimer()
	for range b.N {
		for range n {
			var cb apitypes.CreatedBranch
			start := time.Now()
			st, raw := g.API("POST", "/projects/"+p.id()+"/branches", body, &cb)
			api = append(api, time.Since(start))
			if st != 201 || len(cb.ConnectionURIs) == 0 {
				b.Fatalf("create branch at %s: %d %s", at, st, raw)
			}
			var seen string
			var err error
			for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
				var c *pgx.Conn
				if c, err = pgx.Connect(b.Context(), cb.ConnectionURIs[0].ConnectionURI); err == nil {
					err = c.QueryRow(b.Context(), "SELECT string_agg(v, ',') FROM marks").Scan(&seen)
					c.Close(context.Background())
				}
				if err == nil {
					break
				}
			}
			total = append(total, time.Since(start))
			if err != nil || seen != "before" {
				b.Fatalf("branch at %s sees %q (%v), want before", at, seen, err)
			}
			waitOps(b, g, p.id(), cb.Operations)
			var del apitypes.BranchOperations
			apiUnlocked(b, g, "DELETE", "/projects/"+p.id()+"/branches/"+cb.Branch.ID, nil, &del, 200)
			waitOps(b, g, p.id(), del.Operations)
		}
	}
	b.StopTimer()
	percentiles(b, "pitr_api", api)
	percentiles(b, "pitr_to_query", total)
	for _, l := range strings.Split(g.Logs(), "\n") {
		if strings.Contains(l, "materialize") || strings.Contains(l, "recover") || strings.Contains(l, "compute launched") {
			b.Log(l)
		}
	}
	if m := regexp.MustCompile(`recovery prepared".* into=(vol-[0-9a-z]+)`).FindAllStringSubmatch(g.Logs(), -1); len(m) > 0 {
		log, _ := os.ReadFile(filepath.Join(g.DataDir, "logs", m[len(m)-1][1]+".log"))
		for _, l := range strings.Split(string(log), "\n") {
			if strings.Contains(l, "consistent") || strings.Contains(l, "pausing") || strings.Contains(l, "redo done") ||
				strings.Contains(l, "promote") || strings.Contains(l, "ready to accept connections") {
				b.Log("the last recovering compute: " + l)
			}
		}
	}
}
