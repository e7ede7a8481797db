package bench

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/grovedb/grove/apitypes"
	"github.com/grovedb/grove/internal/grovetest"
	"github.com/jackc/pgx/v5"
)

// The figures of issue 4 (branches, snapshots as checkpoints, restore),
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

// ratioOfP50 is p50(num) / p50(den).
func ratioOfP50(num, den []time.Duration) float64 {
	p50 := func(ds []time.Duration) time.Duration {
		s := append([]time.Duration(nil), ds...)
		sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
		return s[len(s)/2]
	}
	return float64(p50(num)) / float64(p50(den))
}

// branchOnce creates a branch of p's default branch with a read-write
// endpoint and returns API call → response and API call → first query
// answered on the branch through the proxy; the branch is deleted
// afterwards, untimed.
func branchOnce(b *testing.B, g *grovetest.Grove, p *benchProject) (api, total time.Duration) {
	b.Helper()
	var cb apitypes.CreatedBranch
	start := time.Now()
	st, raw := g.API("POST", "/projects/"+p.id()+"/branches", `{"endpoints":[{"type":"read_write"}]}`, &cb)
	api = time.Since(start)
	if st != 201 || len(cb.ConnectionURIs) == 0 {
		b.Fatalf("create branch: %d %s", st, raw)
	}
	if err := firstQuery(b.Context(), cb.ConnectionURIs[0].ConnectionURI); err != nil {
		b.Fatalf("first query on branch %s: %v", cb.Branch.ID, err)
	}
	total = time.Since(start)
	waitOps(b, g, p.id(), cb.Operations)
	var del apitypes.BranchOperations
	apiUnlocked(b, g, "DELETE", "/projects/"+p.id()+"/branches/"+cb.Branch.ID, nil, &del, 200)
	waitOps(b, g, p.id(), del.Operations)
	return api, total
}

// BenchmarkBranchCreate measures branch create with a read-write endpoint →
// first query answered on the branch through the proxy, for an empty parent
// and a parent holding 1 GiB, in turns so that the machine's drift weighs
// on both alike. Targets (issue 4): p50 ≤ 100 ms, big/empty ≤ 1.2.
func BenchmarkBranchCreate(b *testing.B) {
	g := startOnBtrfs(b, 8192, false)
	org := g.OrgID("paid")
	parents := []*benchProject{
		newBenchProject(b, g, org, "empty", false),
		newBenchProject(b, g, org, "1GiB", true),
	}
	// One untimed round: the first branch of a freshly loaded parent pays
	// for what the load left behind (dirty buffers, WAL since the last
	// checkpoint); the figure is about branching a parent at rest.
	for _, p := range parents {
		api, total := branchOnce(b, g, p)
		b.Logf("%s: warm-up branch: api %v, first query %v", p.name, api, total)
	}
	const n = 40
	api := map[string][]time.Duration{}
	total := map[string][]time.Duration{}
	b.ResetTimer()
	for range b.N {
		for range n {
			for _, p := range parents {
				a, t := branchOnce(b, g, p)
				api[p.name] = append(api[p.name], a)
				total[p.name] = append(total[p.name], t)
			}
		}
	}
	b.StopTimer()
	for _, p := range parents {
		percentiles(b, "branch_api_"+p.name, api[p.name])
		percentiles(b, "branch_to_query_"+p.name, total[p.name])
	}
	b.ReportMetric(ratioOfP50(total["1GiB"], total["empty"]), "big_over_empty")
	logTimings(b, g)
}

// BenchmarkSnapshotCreate measures POST …/branches/{root}/snapshot (now) on
// an empty project and on a 1 GiB one, a few rows changed between
// snapshots as an agent's step would; each snapshot is deleted after it
// is taken (untimed). Target (issue 4): ≤ 20 ms p50 at any size.
func BenchmarkSnapshotCreate(b *testing.B) {
	g := startOnBtrfs(b, 8192, false)
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
	b.ReportMetric(ratioOfP50(ds["1GiB"], ds["empty"]), "big_over_empty")
	logTimings(b, g)
}

// BenchmarkFinalizeRestore measures the checkpoint rollback of agent
// platforms: snapshot, write, then POST …/snapshots/{id}/restore with
// finalize_restore onto the live branch → first query answered on the
// same connection URI as before, seeing the snapshot's state. Between
// rounds (untimed) the snapshot and the "(old)" branch are deleted, as
// Neon's guides do. Target (issue 4): p50 ≤ 300 ms.
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
	var api, total []time.Duration
	b.ResetTimer()
	for range b.N {
		for i := range n {
			a, t := once(i + 1)
			api = append(api, a)
			total = append(total, t)
		}
	}
	b.StopTimer()
	percentiles(b, "restore_api", api)
	percentiles(b, "restore_to_query", total)
	logTimings(b, g)
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

// logTimings logs grove's lines about compute starts and clones, where the
// time of a branch or restore goes, when the benchmark runs with -v.
func logTimings(b *testing.B, g *grovetest.Grove) {
	b.Helper()
	if !testing.Verbose() {
		return
	}
	var lines []string
	for _, l := range strings.Split(g.Logs(), "\n") {
		if strings.Contains(l, "dur") || strings.Contains(l, "took") || strings.Contains(l, "elapsed") {
			lines = append(lines, l)
		}
	}
	if len(lines) > 60 {
		lines = lines[len(lines)-60:]
	}
	b.Logf("grove timing lines (last %d):\n%s", len(lines), strings.Join(lines, "\n"))
}
