package bench

import (
	"fmt"
	"testing"
	"time"
)

// busyRows rows of ~1,000 bytes make about 500 MB: what an agent's load
// writes before it branches.
const busyRows = 520_000

// BenchmarkBranchBusyParent measures five branches with endpoints created
// one after another right after their running parent wrote 500 MB (no
// CHECKPOINT: a project's role may not run one), each up to its first
// query through the proxy, and the parent's load time. Targets: p50 of the
// five ≤ 150 ms, the first ≤ 1 s; the load no more than 1.1 × what it was
// before the parent's checkpoints were bounded (docs/figures.md).
func BenchmarkBranchBusyParent(b *testing.B) {
	g := startOnBtrfs(b, dataDiskMB, false)
	org := g.OrgID("paid")
	var loads, firsts []time.Duration
	var all []time.Duration
	for i := range b.N {
		p := newBenchProject(b, g, org, fmt.Sprintf("busy-%d", i), false)
		start := time.Now()
		mustExec(b, p.keep, fmt.Sprintf("CREATE TABLE load AS SELECT i AS id, repeat(md5(i::text), 30) AS pad FROM generate_series(1, %d) i", busyRows))
		loads = append(loads, time.Since(start))
		for j := range 5 {
			bt := branchOnce(b, g, p)
			all = append(all, bt.total)
			if j == 0 {
				firsts = append(firsts, bt.total)
			}
			b.Logf("branch %d: api %v, first query %v, compute start %v", j+1, bt.api, bt.total, bt.compute)
		}
	}
	percentiles(b, "busy_branch_to_query", all)
	b.ReportMetric(float64(p50(firsts).Microseconds())/1000, "first_branch_ms")
	b.ReportMetric(float64(p50(loads).Microseconds())/1000, "load_500MB_ms")
}
